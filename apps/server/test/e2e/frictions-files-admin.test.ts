// Issue 18's frictions in files, uploads and the admin area, in Chromium through the real server:
// an upload that says how fast it goes and how long it has left, a quota bar that shows a tiny
// use, Rename and Delete (to the trash, with Undo) on the file page, file types in words, and the
// admin area asking before it disables an account or changes its role.
import { describe, expect, it } from "vitest";
import type { Locator, Page, Request } from "playwright-core";
import { createUser } from "../support/server";
import { MiB, PNG } from "../support/files";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

/** Bytes no type detector recognises and that are not text: stored as application/octet-stream. */
const BINARY = Buffer.from([0, 1, 2, 3, 0, 255, 254, 0, 7, 8, 9, 0]);

describe.skipIf(!browserAvailable)("frictions in files, uploads and the admin area", () => {
  const suite = useBrowserSuite();

  const row = (page: Page, name: string) =>
    page.locator("[data-file-row]").filter({ has: page.getByRole("link", { name, exact: true }) });

  /** Whether the element has keyboard focus (typed loosely: the test setup has no DOM types). */
  const hasFocus = (locator: Locator) =>
    locator.evaluate(
      (el: unknown) => (el as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === el,
    );

  /** The text of an element with its whitespace as a person reads it. */
  async function textOf(page: Page, selector: string): Promise<string> {
    const text = await page.locator(selector).first().textContent();
    return (text ?? "").replace(/\s+/g, " ").trim();
  }

  it("shows bytes sent, speed and time left while a large file uploads", async () => {
    const { context, page } = await suite.signedIn();
    await page.goto("/files");
    await page.getByRole("button", { name: "Upload files" }).waitFor();

    // Sending at 1 MB/s makes a 6 MB upload take seconds, long enough to watch.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: MiB,
    });

    await page.getByLabel("Choose files").setInputFiles({
      name: "big.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.alloc(6 * MiB, 7),
    });
    const upload = page.locator("[data-upload]").filter({ hasText: "big.bin" });
    const detail = upload.locator("[data-upload-detail]");
    const inFlight = /^[\d.,]+ (bytes|KB|MB) of 6 MB · [\d.,]+ (KB|MB)\/s · about \d+ s left$/;
    await expect
      .poll(async () => ((await detail.textContent()) ?? "").replace(/\s+/g, " ").trim(), { timeout: 20_000 })
      .toMatch(inFlight);
    expect(await upload.getByRole("progressbar", { name: "Upload of big.bin" }).getAttribute("aria-describedby")).toBe(
      await detail.getAttribute("id"),
    );
    await page.locator("[data-upload]").first().screenshot({ path: "/tmp/f1-upload-row.png" });
    await page.screenshot({ path: "/tmp/f1-upload.png" });

    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await row(page, "big.bin").waitFor({ timeout: 30_000 });
    // Once stored, the row says only the size again.
    await expect.poll(async () => ((await detail.textContent()) ?? "").trim()).toBe("6 MB");
  });

  it("draws a sliver and says less than 1% for a tiny use of the quota", async () => {
    const { page } = await suite.signedIn();
    await page.goto("/files");
    const meter = page.getByRole("meter", { name: "Storage" });
    await meter.waitFor();
    await expect.poll(() => textOf(page, "[data-usage] .usage-text")).toMatch(/used \(0%\)$/);

    await page
      .getByLabel("Choose files")
      .setInputFiles({ name: "tiny.txt", mimeType: "text/plain", buffer: Buffer.from("hi") });
    await row(page, "tiny.txt").waitFor();
    await expect
      .poll(() => textOf(page, "[data-usage] .usage-text"))
      .toBe("Storage 2 bytes of 10 GB used (less than 1%)");
    expect(await meter.getAttribute("aria-valuetext")).toBe("2 bytes of 10 GB used (less than 1%)");
    const fill = await page.locator("[data-usage] .fill").boundingBox();
    expect(fill?.width ?? 0).toBeGreaterThanOrEqual(4);
    await page.locator("[data-usage]").screenshot({ path: "/tmp/f1-usage.png" });
  });

  it("names file types in words, with the MIME type in a title", async () => {
    const { page } = await suite.signedIn();
    await page.goto("/files");
    await page.getByLabel("Choose files").setInputFiles([
      { name: "blob.dat", mimeType: "application/octet-stream", buffer: BINARY },
      { name: "pixel.png", mimeType: "image/png", buffer: PNG },
      { name: "readme.txt", mimeType: "text/plain", buffer: Buffer.from("plain words\n") },
    ]);
    for (const [name, words, mime] of [
      ["blob.dat", "Binary file", "application/octet-stream"],
      ["pixel.png", "PNG image", "image/png"],
      ["readme.txt", "Plain text", "text/plain; charset=utf-8"],
    ] as const) {
      const type = row(page, name).locator(".type");
      await type.waitFor();
      expect(((await type.textContent()) ?? "").replace(/\s+/g, " ").trim()).toBe(`Type: ${words}`);
      expect(await type.getAttribute("title")).toBe(mime);
    }
    expect(await page.getByText("application/octet-stream", { exact: true }).count()).toBe(0);
  });

  it("renames and deletes a file from its own page", async () => {
    const { page, user } = await suite.signedIn();
    await page.goto("/files");
    await page
      .getByLabel("Choose files")
      .setInputFiles({ name: "blob.dat", mimeType: "application/octet-stream", buffer: BINARY });
    await row(page, "blob.dat").getByRole("link", { name: "blob.dat", exact: true }).click();
    await waitForPath(page, /^\/files\/[^/]+$/);
    const id = new URL(page.url()).pathname.split("/").pop() ?? "";
    await page.getByRole("heading", { level: 1, name: "blob.dat" }).waitFor();
    const type = page.locator("dd").filter({ hasText: "Binary file" });
    expect(await type.getAttribute("title")).toBe("application/octet-stream");

    // Rename, with what is wrong with a name said beside the field.
    await page.getByRole("button", { name: "Rename" }).click();
    const form = page.getByRole("form", { name: "Rename blob.dat" });
    const input = form.getByLabel("New name");
    expect(await hasFocus(input)).toBe(true);
    await input.fill("  ");
    await input.press("Enter");
    await form.getByText("Give the file a name.").waitFor();
    expect(await input.getAttribute("aria-invalid")).toBe("true");
    await input.fill("a/b.dat");
    await form.getByRole("button", { name: "Save" }).click();
    await form.getByText("A file name cannot contain / or \\.").waitFor();
    expect((await suite.server.models.File.findByPk(id))?.name).toBe("blob.dat");

    await input.fill("renamed.dat");
    await input.press("Enter");
    await page.getByRole("heading", { level: 1, name: "renamed.dat" }).waitFor();
    await page.getByRole("status").filter({ hasText: "Renamed to “renamed.dat”." }).waitFor();
    await form.waitFor({ state: "detached" });
    expect((await suite.server.models.File.findByPk(id))?.name).toBe("renamed.dat");
    await page.screenshot({ path: "/tmp/f1-file-page.png", fullPage: true });

    // Delete asks nothing: the file goes to the trash, back to the list, with Undo in a toast.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await waitForPath(page, "/files");
    await page.getByRole("status").filter({ hasText: "“renamed.dat” moved to trash." }).waitFor();
    const undo = page.getByRole("button", { name: "Undo", exact: true });
    await undo.waitFor();
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await row(page, "renamed.dat").count()).toBe(0);
    expect((await suite.server.models.File.findByPk(id))?.deletedAt).toBeTruthy();

    // Undo brings it back, and shows it on its own page again.
    await undo.click();
    await waitForPath(page, `/files/${id}`);
    await page.getByRole("heading", { level: 1, name: "renamed.dat" }).waitFor();
    expect((await suite.server.models.File.findByPk(id))?.deletedAt).toBeNull();

    // Deleted again and left in the trash: it is kept there, not gone.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await waitForPath(page, "/files");
    await page.getByRole("status").filter({ hasText: "“renamed.dat” moved to trash." }).waitFor();
    expect((await suite.server.models.File.findByPk(id))?.deletedAt).toBeTruthy();
    expect(await suite.server.models.File.count({ where: { ownerId: user.id } })).toBe(1);
  });

  it("asks before disabling an account or changing its role, and enables in one click", async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    const { user: target } = await createUser(suite.server);
    const stored = () => suite.server.models.User.findByPk(target.id);

    // Every change the page asks the server for, by procedure.
    const calls: string[] = [];
    page.on("request", (request: Request) => {
      const match = /\/trpc\/(admin\.users\.set(?:Disabled|Role))/.exec(request.url());
      if (match?.[1] && request.method() === "POST") calls.push(match[1]);
    });

    await page.goto(`/admin/users/${target.id}`);
    await page.getByRole("heading", { level: 1, name: target.username }).waitFor();

    // Disable: a question first; Cancel sends nothing and leaves focus on the button.
    const disable = page.getByRole("button", { name: "Disable", exact: true });
    await disable.click();
    const askDisable = page.getByRole("dialog", { name: `Disable ${target.username}?` });
    await askDisable.getByText("They are signed out everywhere and cannot sign in until enabled.").waitFor();
    await page.screenshot({ path: "/tmp/f1-admin-confirm.png" });
    await askDisable.getByRole("button", { name: "Cancel" }).click();
    await askDisable.waitFor({ state: "hidden" });
    expect(await hasFocus(disable)).toBe(true);

    await disable.click();
    await askDisable.getByRole("button", { name: "Disable account" }).click();
    const enable = page.getByRole("button", { name: "Enable", exact: true });
    await enable.waitFor();
    expect((await stored())?.disabledAt).toBeTruthy();
    expect(calls).toEqual(["admin.users.setDisabled"]);

    // Enabling stays one click.
    await enable.click();
    await disable.waitFor();
    expect((await stored())?.disabledAt).toBeFalsy();
    expect(calls).toEqual(["admin.users.setDisabled", "admin.users.setDisabled"]);

    // Role: a question naming the change; Cancel sends nothing.
    await page.getByLabel("Role").selectOption("admin");
    await page.getByRole("button", { name: "Save role" }).click();
    const askRole = page.getByRole("dialog", { name: `Make ${target.username} an administrator?` });
    await askRole.getByText("They are signed out everywhere").waitFor();
    await page.screenshot({ path: "/tmp/f1-admin-role.png" });
    await askRole.getByRole("button", { name: "Cancel" }).click();
    await askRole.waitFor({ state: "hidden" });
    expect((await stored())?.role).toBe("user");

    await page.getByRole("button", { name: "Save role" }).click();
    await askRole.getByRole("button", { name: "Make administrator" }).click();
    await page.getByText(`Role saved: ${target.email} is now an administrator.`, { exact: false }).waitFor();
    expect((await stored())?.role).toBe("admin");
    expect(calls).toEqual(["admin.users.setDisabled", "admin.users.setDisabled", "admin.users.setRole"]);

    // The activity section is the only landmark of its name, its table has one of its own.
    await page.locator("[data-audit-row]").first().waitFor();
    expect(await page.getByRole("region", { name: "Recent activity", exact: true }).count()).toBe(1);
    expect(await page.getByRole("table", { name: "Events on this account, newest first" }).count()).toBe(1);
  });
});
