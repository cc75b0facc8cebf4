// The trash for files, in Chromium through the real server: Delete on the Files page moves a file
// to the trash with an Undo toast (no question asked); the trash page lists it under Files, where
// Restore brings it back to the list and "Delete forever" removes it for good, freeing its space;
// "Empty trash" empties notes and files together.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { signIn } from "../support/server";
import { createNote, trashNote } from "../support/notes";
import { contentPath, uploadOne, type FileRecord, type Page as ListPage } from "../support/files";
import type { TestClient } from "../support/client";
import { browserAvailable, useBrowserSuite } from "./browser";

const CSV = "item,cost\ntrain,40\ncamping,25\n";

describe.skipIf(!browserAvailable)("the trash for files in the browser", () => {
  const suite = useBrowserSuite();

  const row = (page: Page, name: string) =>
    page.locator("[data-file-row]").filter({ has: page.getByRole("link", { name, exact: true }) });
  const toast = (page: Page, text: string) => page.getByRole("status").filter({ hasText: text });
  const trashedFiles = (page: Page) => page.locator("[data-trashed-files]");

  async function listed(client: TestClient, procedure: "files.list" | "files.trash.list"): Promise<string[]> {
    const res = await client.query<ListPage<FileRecord>>(procedure);
    expect(res.status).toBe(200);
    return res.data.items.map((file) => file.name).sort();
  }

  async function usedBytes(client: TestClient): Promise<number> {
    const res = await client.query<{ usedBytes: number }>("files.usage");
    expect(res.status).toBe(200);
    return res.data.usedBytes;
  }

  /** Deletes the file from the Files page (open on `page`) and waits for the toast that says so. */
  async function deleteFromList(page: Page, name: string) {
    await row(page, name).getByRole("button", { name: "Delete", exact: true }).click();
    await row(page, name).waitFor({ state: "detached" });
    await toast(page, `“${name}” moved to trash.`).waitFor();
    // No question asked.
    expect(await page.getByRole("dialog").count()).toBe(0);
  }

  it("moves a file to the trash with Undo, restores it from the trash, and deletes it forever", async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    await uploadOne(client, "keep.txt", "stays put\n");
    const budget = await uploadOne(client, "budget.csv", CSV);
    const usedAtStart = await usedBytes(client);

    await page.goto("/files");
    await row(page, "keep.txt").waitFor();
    await row(page, "budget.csv").waitFor();

    // Delete: gone from the list at once, in the trash on the server, with Undo in the toast. Keyboard
    // focus is not lost to the page's body: it is on the list's heading (today) or on Undo.
    await deleteFromList(page, "budget.csv");
    const undo = page.getByRole("button", { name: "Undo", exact: true });
    await undo.waitFor();
    expect(["Your files", "Undo"]).toContain(await page.evaluate("document.activeElement?.textContent?.trim()"));
    expect(await listed(client, "files.list")).toEqual(["keep.txt"]);
    expect(await listed(client, "files.trash.list")).toEqual(["budget.csv"]);

    // Undo brings it back into the list.
    await undo.click();
    await row(page, "budget.csv").waitFor();
    await undo.waitFor({ state: "detached" });
    expect(await listed(client, "files.list")).toEqual(["budget.csv", "keep.txt"]);
    expect(await listed(client, "files.trash.list")).toEqual([]);
    await page.reload();
    await row(page, "budget.csv").waitFor();

    // Deleted again, it waits in the trash, under Files.
    await deleteFromList(page, "budget.csv");
    await page.goto("/trash");
    await page.getByRole("heading", { level: 1, name: "Trash" }).waitFor();
    await trashedFiles(page).getByRole("heading", { level: 2, name: "Files", exact: true }).waitFor();
    const item = trashedFiles(page).locator(`[data-trashed-file="${budget.id}"]`);
    await item.getByText("budget.csv", { exact: true }).waitFor();
    await item.getByText(/Deleted/).waitFor();
    expect(await trashedFiles(page).locator("[data-trashed-file]").count()).toBe(1);
    // Only the deleted one: keep.txt is not in the trash.
    expect(await page.getByText("keep.txt").count()).toBe(0);

    // Restore: out of the trash, back on the Files page.
    await item.getByRole("button", { name: "Restore", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Restored “budget.csv”." }).waitFor();
    await item.waitFor({ state: "detached" });
    await page.getByText("The trash is empty.").waitFor();
    expect(await listed(client, "files.trash.list")).toEqual([]);
    await page.goto("/files");
    await row(page, "budget.csv").waitFor();
    await row(page, "keep.txt").waitFor();

    // Deleted once more, then forever from the trash, after a question.
    await deleteFromList(page, "budget.csv");
    // In the trash it still takes its space.
    expect(await usedBytes(client)).toBe(usedAtStart);
    await page.goto("/trash");
    await item.getByRole("button", { name: "Delete forever", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Delete this file forever?" });
    await dialog.getByText("“budget.csv” will be deleted for good. This cannot be undone.").waitFor();
    // Keeping it changes nothing.
    await dialog.getByRole("button", { name: "Keep it", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await listed(client, "files.trash.list")).toEqual(["budget.csv"]);

    await item.getByRole("button", { name: "Delete forever", exact: true }).click();
    await dialog.getByRole("button", { name: "Yes, delete it", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("status").filter({ hasText: "Deleted “budget.csv” forever." }).waitFor();
    await item.waitFor({ state: "detached" });
    await page.getByText("The trash is empty.").waitFor();

    expect(await listed(client, "files.trash.list")).toEqual([]);
    expect(await listed(client, "files.list")).toEqual(["keep.txt"]);
    expect(await usedBytes(client)).toBe(usedAtStart - budget.size);
    expect((await client.fetch(contentPath(budget.id))).status).toBe(404);

    await page.goto("/files");
    await row(page, "keep.txt").waitFor();
    expect(await row(page, "budget.csv").count()).toBe(0);
  });

  it("empties notes and files from the trash together", async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Old plan", description: "superseded" });
    await trashNote(client, note.id);
    const file = await uploadOne(client, "old-plan.csv", CSV);
    expect((await client.mutation("files.delete", { id: file.id })).status).toBe(200);

    await page.goto("/trash");
    await page.getByRole("list", { name: "Deleted notes" }).getByRole("link", { name: "Old plan" }).waitFor();
    await trashedFiles(page).locator(`[data-trashed-file="${file.id}"]`).waitFor();

    await page.getByRole("button", { name: "Empty trash", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Empty the trash?" });
    await dialog.getByText("Every note and file in the trash will be deleted for good.").waitFor();
    await dialog.getByRole("button", { name: "Yes, empty the trash", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Deleted 1 note and 1 file forever." }).waitFor();
    await page.getByText("The trash is empty.").waitFor();

    expect(await listed(client, "files.trash.list")).toEqual([]);
    expect(await listed(client, "files.list")).toEqual([]);
    expect(await usedBytes(client)).toBe(0);
    const notes = await client.query<ListPage<unknown>>("notes.trash.list");
    expect(notes.data.items).toEqual([]);
  });
});
