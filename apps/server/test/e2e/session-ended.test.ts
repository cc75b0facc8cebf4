// A session that ends elsewhere while a page is open, in the real web app: the first refused call
// signs the page out and sends it to sign in, once, with the way back; an unsaved note stays put;
// and the answers that are UNAUTHORIZED by design (a wrong password) still show as messages.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { createUser, signIn } from "../support/server";
import { browserAvailable, mainNav, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("a session that ended elsewhere, in the browser", () => {
  const suite = useBrowserSuite();

  const formError = (page: Page) => page.locator("[data-form-error]");

  /** Ends every session of the account but a new one made through the API: the browser's goes. */
  async function endBrowserSession(account: { email: string; password: string }) {
    const other = await signIn(suite.server, account);
    const revoked = await other.mutation<{ revoked: number }>("auth.sessions.revokeOthers");
    expect(revoked.status).toBe(200);
    expect(revoked.data.revoked).toBeGreaterThan(0);
  }

  /** Every address the page was at with this path, client-side moves included. */
  function visitsTo(page: Page, pathname: string): string[] {
    const seen: string[] = [];
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame() && new URL(frame.url()).pathname === pathname) seen.push(frame.url());
    });
    return seen;
  }

  it("sends a page whose calls are refused to sign in, once, and back to the same search", async () => {
    const { page, account } = await suite.signedIn();
    const signIns = visitsTo(page, "/sign-in");
    await endBrowserSession(account);

    // Typing searches: the refused call ends the session here and leads to sign-in.
    await page.getByLabel("Search notes").pressSequentially("plan", { delay: 30 });
    await waitForPath(page, "/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/?q=plan");
    await mainNav(page).getByRole("link", { name: "Sign in" }).waitFor();
    expect(await mainNav(page).getByRole("link", { name: "Account" }).count()).toBe(0);

    // Signing in again leads back to the same search.
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((url) => url.pathname === "/" && url.searchParams.get("q") === "plan");
    expect(await page.getByLabel("Search notes").inputValue()).toBe("plan");
    expect(signIns).toHaveLength(1);
  });

  it("acts once when several calls of a page are refused together", async () => {
    const { page, account } = await suite.signedIn();
    const signIns = visitsTo(page, "/sign-in");
    const refused: string[] = [];
    page.on("response", (response) => {
      if (response.url().includes("/api/v1/trpc/") && response.status() === 401) refused.push(response.url());
    });
    await endBrowserSession(account);

    // The files page asks for its list and the storage use at once; both are refused.
    await mainNav(page).getByRole("link", { name: "Files" }).click();
    await waitForPath(page, "/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/files");
    await expect.poll(() => refused.join(), { timeout: 10_000 }).toMatch(/files\.list/);
    expect(refused.join()).toMatch(/files\.usage/);
    // Time for a second redirect, were there one.
    await page.waitForTimeout(500);
    expect(signIns).toHaveLength(1);
    expect(new URL(page.url()).pathname).toBe("/sign-in");
  });

  it("acts on the first refusal only: one that arrives after the page left changes nothing", async () => {
    const { page, account } = await suite.signedIn();
    // A note to export: with none, the Export button is disabled.
    const created = await page.evaluate(
      `fetch("/api/v1/trpc/notes.create", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ title: "A plan", description: "to export" }) }).then((r) => r.status)`,
    );
    expect(created).toBe(200);
    await page.reload();
    await page.getByText("A plan").first().waitFor();
    const signIns = visitsTo(page, "/sign-in");
    await endBrowserSession(account);

    // The search is held on its way, so its refusal comes after the export's has moved the page.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/api\/v1\/trpc\/notes\.search/, async (route) => {
      await held;
      await route.continue();
    });
    const searched = page.waitForRequest(/\/api\/v1\/trpc\/notes\.search/);
    await page.getByLabel("Search notes").fill("plan");
    await searched;
    const exported = page.waitForResponse(/\/api\/v1\/notes\/export/);
    await page.getByRole("button", { name: "Export" }).click();
    expect((await exported).status()).toBe(401);
    await waitForPath(page, "/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/?q=plan");

    const refusedLate = page.waitForResponse(/\/api\/v1\/trpc\/notes\.search/);
    release();
    expect((await refusedLate).status()).toBe(401);
    await page.waitForTimeout(500);
    expect(signIns).toHaveLength(1);
    expect(new URL(page.url()).searchParams.get("next")).toBe("/?q=plan");
  });

  it("keeps an unsaved note on its page and says how to sign in again", async () => {
    const { page, account } = await suite.signedIn();
    await page.goto("/notes/new");
    await page.getByLabel("Title").fill("Written while signed out");
    await page.getByLabel("Text").fill("Not to be lost.");
    await endBrowserSession(account);

    await page.getByRole("button", { name: "Save note" }).click();
    await page.getByText("Your note is still here.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/notes/new");
    expect(await page.getByLabel("Title").inputValue()).toBe("Written while signed out");
    expect(await page.getByRole("link", { name: "Sign in again in a new tab" }).getAttribute("href")).toBe(
      "/sign-in?next=%2Fnotes%2Fnew",
    );
  });

  it("sends the admin area to its own sign-in", async () => {
    const { page, account } = await suite.signedIn({ role: "admin" });
    await page.goto("/admin/users");
    await page.getByLabel("Search users").waitFor();
    await endBrowserSession(account);

    await page.getByLabel("Search users").fill("someone");
    await waitForPath(page, "/admin/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/admin/users?q=someone");
  });

  it("still shows a wrong password as a message, signed out or signed in", async () => {
    const { account } = await createUser(suite.server);
    const { page } = await suite.device();
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await formError(page).filter({ hasText: "Wrong email or password." }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBeNull();

    // Signed in (as someone who is not an administrator), the admin sign-in's refusal is a message too.
    const member = await suite.signedIn();
    await member.page.goto("/admin/sign-in");
    await member.page.getByLabel("Email").fill(account.email);
    await member.page.getByLabel("Password", { exact: true }).fill("not the password at all");
    await member.page.getByRole("button", { name: "Sign in" }).click();
    await formError(member.page).filter({ hasText: "Wrong email or password." }).waitFor();
    expect(new URL(member.page.url()).pathname).toBe("/admin/sign-in");
    expect(await mainNav(member.page).getByRole("link", { name: "Account" }).count()).toBe(1);
  });
});
