// Small frictions of accounts and notes, through the real web app in Chromium: a dead reset link
// said at once, export disabled with a reason when there is nothing to export, a title field that
// says when it is full, note headings that keep the page's heading order, and a verify page that
// says where the code went when the server has no mail server.
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { simpleParser } from "mailparser";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { NOTE_TITLE_MAX } from "@notebox/api/limits";
import { codeFrom, resetLinkFrom } from "../support/smtp";
import { createUser, newAccount, signIn } from "../support/server";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

/** Like Playwright's own waits: keep looking for up to 10 s (vitest's default is 1 s). */
const poll = { timeout: 10_000, interval: 100 };

/** Every heading shown on the page (a closed dialog's are not), in document order, as "H2 Its text". */
const headings = (page: Page, within = "") =>
  page.evaluate<string[]>(
    `[...document.querySelectorAll(${JSON.stringify(within ? `${within} :is(h1, h2, h3, h4, h5, h6)` : "h1, h2, h3, h4, h5, h6")})].filter((h) => h.checkVisibility()).map((h) => h.tagName + " " + h.textContent.trim())`,
  );

/** The text of the element with keyboard focus. */
const focused = (page: Page) => page.evaluate<string>(`document.activeElement?.textContent?.trim() ?? ""`);

/** Signs up on /sign-up and lands on /verify. */
async function signUpThroughUi(page: Page, account: ReturnType<typeof newAccount>) {
  await page.goto("/sign-up");
  await page.getByLabel("Username").fill(account.username);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password", { exact: true }).fill(account.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await waitForPath(page, "/verify");
}

describe.skipIf(!browserAvailable)("frictions of accounts and notes in the browser", () => {
  const suite = useBrowserSuite();
  const { device, signedIn } = suite;

  async function resetToken(email: string): Promise<{ link: string; token: string }> {
    const res = await suite.server.client().mutation("auth.requestPasswordReset", { email });
    expect(res.status).toBe(200);
    const link = resetLinkFrom(await suite.server.smtp.waitFor(email, /reset/i));
    return { link, token: new URL(link).hash.replace("#token=", "") };
  }

  it("says a used reset link is dead as the page opens, instead of showing the form", async () => {
    const { account } = await createUser(suite.server);
    const { link, token } = await resetToken(account.email);
    const used = await suite.server
      .client()
      .mutation("auth.resetPassword", { token, password: `${account.password} renewed` });
    expect(used.status).toBe(200);

    const { page } = await device();
    await page.goto(link);
    const notice = page.getByRole("alert").filter({ hasText: "This link was used or has expired" });
    await notice.waitFor();
    await page.screenshot({ path: "/tmp/f2-reset-used.png", fullPage: true });
    expect(await page.getByLabel("New password", { exact: true }).count()).toBe(0);
    expect(await page.getByText(account.email).count()).toBe(0);
    await notice.getByRole("link", { name: "Ask for a new reset link" }).click();
    await waitForPath(page, "/forgot-password");
  });

  it("shows the form for a working link and says so when it dies before the password is set", async () => {
    const { account, user } = await createUser(suite.server);
    const { link } = await resetToken(account.email);
    const { page } = await device();
    await page.goto(link);
    await page.getByLabel("New password", { exact: true }).waitFor();
    // Checking it used nothing up.
    const rows = await suite.server.models.PasswordResetToken.findAll({ where: { userId: user.id } });
    expect(rows.map((row) => row.usedAt)).toEqual([null]);

    // A newer link is asked for meanwhile, from another tab: this one is dead now.
    await resetToken(account.email);
    const password = `${account.password} renewed`;
    await page.getByLabel("New password", { exact: true }).fill(password);
    await page.getByLabel("Confirm new password").fill(password);
    await page.getByRole("button", { name: "Set new password" }).click();
    const notice = page.getByRole("alert").filter({ hasText: "This link was used or has expired" });
    await notice.waitFor();
    await expect.poll(() => focused(page), poll).toMatch(/^This link was used or has expired/);
    expect(await page.getByLabel("New password", { exact: true }).count()).toBe(0);
  });

  it("disables export with a reason while there are no notes", async () => {
    const { page, account } = await signedIn();
    const exportButton = page.getByRole("button", { name: "Export", exact: true });
    const reason = page.locator("[data-export-empty]");
    await reason.waitFor();
    expect(await reason.textContent()).toBe("No notes to export yet.");
    expect(await exportButton.isDisabled()).toBe(true);
    expect(await exportButton.getAttribute("aria-describedby")).toBe(await reason.getAttribute("id"));

    const client = await signIn(suite.server, account);
    expect((await client.mutation("notes.create", { title: "Something to export" })).status).toBe(200);
    await page.reload();
    await page.getByRole("link", { name: "Something to export" }).waitFor();
    expect(await exportButton.isEnabled()).toBe(true);
    expect(await reason.count()).toBe(0);
    expect(await exportButton.getAttribute("aria-describedby")).toBeNull();
  });

  it("counts the title's characters near the limit and says so when typing past it, cutting nothing", async () => {
    const { page } = await signedIn();
    await page.goto("/notes/new");
    const title = page.getByLabel("Title");
    const hintOf = async () => {
      const ids = (await title.getAttribute("aria-describedby")) ?? "";
      return page.evaluate<string>(
        `${JSON.stringify(ids.split(" ").filter(Boolean))}.map((id) => document.getElementById(id)?.textContent?.trim() ?? "").join(" ")`,
      );
    };

    await title.fill("t".repeat(100));
    expect(await hintOf()).toBe("");
    await title.fill("t".repeat(NOTE_TITLE_MAX - 5));
    await expect.poll(hintOf, poll).toBe(`${NOTE_TITLE_MAX - 5} of ${NOTE_TITLE_MAX} characters.`);
    await title.fill("t".repeat(NOTE_TITLE_MAX));
    await expect.poll(hintOf, poll).toBe(`${NOTE_TITLE_MAX} of ${NOTE_TITLE_MAX} characters: the title is full.`);
    await page.screenshot({ path: "/tmp/f2-title-full.png" });

    await title.press("End");
    await title.press("x");
    expect((await title.inputValue()).length).toBe(NOTE_TITLE_MAX + 1);
    const error = page.locator('[data-field-error="title"]');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      `${NOTE_TITLE_MAX + 1} of ${NOTE_TITLE_MAX} characters: shorten the title by 1 to save the note.`,
    );
    expect(await title.getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: "/tmp/f2-title-over.png" });

    // Saving is refused here, before the server: the title keeps focus with its message.
    await page.getByRole("button", { name: "Save note" }).click();
    await expect.poll(() => page.evaluate<string | null>(`document.activeElement?.name ?? null`), poll).toBe("title");
    expect(new URL(page.url()).pathname).toBe("/notes/new");

    await title.press("Backspace");
    await expect.poll(() => error.count(), poll).toBe(0);
    expect(await title.getAttribute("aria-invalid")).toBeNull();
    await page.getByRole("button", { name: "Save note" }).click();
    await waitForPath(page, /^\/notes\/(?!new$)[^/]+$/);
    await page.getByRole("heading", { level: 1, name: "t".repeat(NOTE_TITLE_MAX) }).waitFor();
  });

  it("renders a note's headings one level below the page's, never skipping a level", async () => {
    const { page, account } = await signedIn();
    const client = await signIn(suite.server, account);
    const created = await client.mutation<{ id: string }>("notes.create", {
      title: "Heading order",
      description: "### Starts deep\n\ntext\n\n# Top\n\n#### Skipped two\n\n###### Deepest\n\n## Second\n\n# Top again",
    });
    expect(created.status).toBe(200);
    await page.goto(`/notes/${created.data.id}`);
    const body = page.locator("[data-note-body]");
    await body.getByText("Top again").waitFor();
    expect(await headings(page, "[data-note-body]")).toEqual([
      "H2 Starts deep",
      "H2 Top",
      "H3 Skipped two",
      "H4 Deepest",
      "H3 Second",
      "H2 Top again",
    ]);

    const all = await headings(page);
    const levels = all.map((heading) => Number(heading[1]));
    expect(all[0], all.join(", ")).toBe("H1 Heading order");
    for (let i = 1; i < levels.length; i++) {
      expect(levels[i]! - levels[i - 1]!, all.join(", ")).toBeLessThanOrEqual(1);
    }
  });

  it("says nothing about the server's log when a mail server sends the code", async () => {
    const { page } = await device();
    const account = newAccount("mailed");
    const policy = page.waitForResponse((response) => response.url().includes("auth.signUpPolicy"));
    await signUpThroughUi(page, account);
    await policy;
    // The answer's handler has run once the page has painted twice since.
    await page.evaluate("new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))");
    expect(await page.locator("[data-mail-to-log]").count()).toBe(0);
  });
});

describe.skipIf(!browserAvailable)("the verify page on a Notebox with no mail server", () => {
  const suite = useBrowserSuite({ env: { SMTP_URL: "" } });

  it("says the code was written to the server's log, where it is", async () => {
    const { page } = await suite.device();
    const account = newAccount("logged");
    await signUpThroughUi(page, account);
    const notice = page.locator("[data-mail-to-log]");
    await notice.waitFor();
    expect(await notice.textContent()).toContain(
      "No mail server is set up on this Notebox: the code was written to the server's log",
    );
    await page.screenshot({ path: "/tmp/f2-verify-log.png", fullPage: true });

    // It is there: the outbox beside the log has the mail, and its code verifies the account.
    const outbox = path.join(suite.server.dataDir, "outbox");
    let file: string | undefined;
    await expect
      .poll(async () => {
        const names = await readdir(outbox).catch(() => []);
        file = names.find((name) => name.includes(account.email));
        return file;
      }, poll)
      .toBeDefined();
    const mail = await simpleParser(await readFile(path.join(outbox, file!)));
    const code = codeFrom({ to: account.email, subject: mail.subject ?? "", text: mail.text ?? "", html: "" });
    await page.getByLabel("Code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
  });
});
