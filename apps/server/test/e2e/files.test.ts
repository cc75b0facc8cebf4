// Files through the real web app in Chromium: upload by picker and by drag-and-drop, preview,
// download, rename, delete (to the trash, then forever), and the storage usage that follows.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

/** A valid 1x1 transparent PNG. */
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const TEXT = "hello from the e2e test\nsecond line\n";

describe.skipIf(!browserAvailable)("files in the browser", () => {
  const suite = useBrowserSuite();

  const row = (page: Page, name: string) =>
    page.locator("[data-file-row]").filter({ has: page.getByRole("link", { name, exact: true }) });

  /** Drops a file on the drop zone as a person dragging it from their desktop would. */
  async function dropFile(page: Page, name: string, type: string, content: string) {
    // A string expression: the server's TypeScript setup has no DOM types.
    const dataTransfer = await page.evaluateHandle(`(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([${JSON.stringify(content)}], ${JSON.stringify(name)}, { type: ${JSON.stringify(type)} }));
      return dt;
    })()`);
    const zone = page.locator("[data-dropzone]");
    for (const event of ["dragenter", "dragover", "drop"]) await zone.dispatchEvent(event, { dataTransfer });
  }

  it("uploads, previews, downloads, renames and deletes files", async () => {
    const { page } = await suite.signedIn();

    await page.goto("/files");
    await page.getByRole("button", { name: "Upload files" }).waitFor();
    const usage = page.locator("[data-usage]");
    await usage.waitFor();
    const usageBefore = (await usage.textContent())?.trim();

    await page.getByLabel("Choose files").setInputFiles([
      { name: "pixel.png", mimeType: "image/png", buffer: PNG },
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from(TEXT) },
    ]);
    await page.locator("[data-upload]").first().waitFor();
    expect(await page.locator("[data-upload] progress").count()).toBeGreaterThan(0);
    await row(page, "pixel.png").waitFor();
    await row(page, "notes.txt").waitFor();
    await expect.poll(async () => (await usage.textContent())?.trim(), { timeout: 10_000 }).not.toBe(usageBefore);
    const usageAfterUpload = (await usage.textContent())?.trim();

    await dropFile(page, "dropped.txt", "text/plain", "dropped in");
    await row(page, "dropped.txt").waitFor();

    // Preview of the image.
    await row(page, "pixel.png").getByRole("link", { name: "pixel.png", exact: true }).click();
    await waitForPath(page, /^\/files\/[^/]+$/);
    const img = page.locator("img").first();
    await img.waitFor();
    expect(await img.isVisible()).toBe(true);
    await expect
      .poll(() => img.evaluate((el: unknown) => (el as { naturalWidth: number }).naturalWidth), { timeout: 10_000 })
      .toBe(1);

    // Download the text file.
    await page.goto("/files");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      row(page, "notes.txt").getByRole("link", { name: "Download" }).click(),
    ]);
    expect(await readFile(await download.path(), "utf8")).toBe(TEXT);
    expect(download.suggestedFilename()).toBe("notes.txt");

    // Rename.
    await row(page, "notes.txt").getByRole("button", { name: "Rename" }).click();
    const nameInput = page.getByRole("form", { name: "Rename notes.txt" }).getByLabel("New name");
    await nameInput.fill("renamed.txt");
    await nameInput.press("Enter");
    await row(page, "renamed.txt").waitFor();
    await page.reload();
    await row(page, "renamed.txt").waitFor();

    // Delete: no question, to the trash with an Undo toast.
    await row(page, "renamed.txt").getByRole("button", { name: "Delete" }).click();
    await row(page, "renamed.txt").waitFor({ state: "detached" });
    await page.getByRole("status").filter({ hasText: "“renamed.txt” moved to trash." }).waitFor();
    await page.getByRole("button", { name: "Undo", exact: true }).waitFor();
    await page.reload();
    await row(page, "pixel.png").waitFor();
    expect(await row(page, "renamed.txt").count()).toBe(0);

    // Its space is freed once it is deleted forever from the trash.
    await page.goto("/trash");
    await page
      .locator("[data-trashed-file]")
      .filter({ hasText: "renamed.txt" })
      .getByRole("button", { name: "Delete forever" })
      .click();
    await page
      .getByRole("dialog", { name: "Delete this file forever?" })
      .getByRole("button", { name: "Yes, delete it" })
      .click();
    await page.getByText("The trash is empty.").waitFor();
    await page.goto("/files");
    await row(page, "pixel.png").waitFor();
    // (Once the page has read it: "Checking…" until then.)
    const freed = async () => {
      const text = (await usage.textContent())?.trim() ?? "";
      return / used /.test(text) && text !== usageAfterUpload;
    };
    await expect.poll(freed, { timeout: 10_000 }).toBe(true);
  });
});
