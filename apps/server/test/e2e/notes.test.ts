// Notes through the real web app in Chromium: create, search as you type, edit, an edit conflict,
// delete with undo, the trash, export, and a hostile note body that must stay inert.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { signIn } from "../support/server";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

describe.skipIf(!browserAvailable)("notes in the browser", () => {
  const suite = useBrowserSuite();
  const { signedIn } = suite;

  async function createThroughUi(page: Page, title: string, text: string): Promise<string> {
    await page.goto("/");
    await page.getByRole("button", { name: "New note" }).click();
    await waitForPath(page, "/notes/new");
    await page.getByLabel("Title").fill(title);
    await page.getByLabel("Text").fill(text);
    await page.getByRole("button", { name: "Save note" }).click();
    await waitForPath(page, /^\/notes\/(?!new$)[^/]+$/);
    await page.locator("[data-note-body]").waitFor();
    return new URL(page.url()).pathname.split("/").pop()!;
  }

  it("creates a note, finds it while typing, and edits it", async () => {
    const { page } = await signedIn();
    await createThroughUi(page, "Quarterly zephyr plan", "Budget for the zephyr project.");
    expect(await page.locator("[data-note-body]").textContent()).toContain("Budget for the zephyr project.");

    await page.goto("/");
    await page.getByRole("link", { name: "Quarterly zephyr plan" }).waitFor();
    await page.getByLabel("Search notes").pressSequentially("zeph", { delay: 30 });
    const hit = page.locator("[data-search-hit]").filter({ hasText: "Quarterly zephyr plan" });
    await hit.waitFor();
    expect((await hit.locator("mark").allTextContents()).map((m) => m.toLowerCase())).toContain("zeph");

    await page.getByRole("link", { name: "Quarterly zephyr plan" }).first().click();
    await waitForPath(page, /^\/notes\//);
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Text").fill("Revised budget.");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator("[data-note-body]").filter({ hasText: "Revised budget." }).waitFor();
    await page.reload();
    await page.locator("[data-note-body]").filter({ hasText: "Revised budget." }).waitFor();
  });

  it("offers a choice when the note changed elsewhere, and can overwrite", async () => {
    const { page, account } = await signedIn();
    const id = await createThroughUi(page, "Shared list", "eggs");
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByLabel("Text").fill("eggs, milk (mine)");

    // Someone else (another session of the same person) saves first.
    const other = await signIn(suite.server, account);
    const current = await other.query<{ version: number }>("notes.get", { id });
    expect(current.status).toBe(200);
    const changed = await other.mutation("notes.update", {
      id,
      title: "Shared list",
      description: "eggs, bread (theirs)",
      version: current.data.version,
    });
    expect(changed.status).toBe(200);

    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("This note was changed elsewhere since you opened it.").waitFor();
    await page.getByRole("button", { name: "Reload the latest version" }).waitFor();
    await page.getByRole("button", { name: "Overwrite with my version" }).click();
    await page.locator("[data-note-body]").filter({ hasText: "eggs, milk (mine)" }).waitFor();

    const after = await other.query<{ description: string }>("notes.get", { id });
    expect(after.data.description).toBe("eggs, milk (mine)");
  });

  it("deletes with undo, and restores from the trash", async () => {
    const { page } = await signedIn();
    const id = await createThroughUi(page, "Undo me", "short lived");

    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Undo" }).click();
    await page.getByRole("button", { name: "Undo" }).waitFor({ state: "detached" });
    await page.goto("/");
    await page.getByRole("link", { name: "Undo me" }).waitFor();

    await page.goto(`/notes/${id}`);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Undo" }).waitFor();
    await page.goto("/");
    await page.getByRole("button", { name: "New note" }).waitFor();
    await page.getByRole("link", { name: "Undo me" }).waitFor({ state: "detached" });

    await page.goto("/trash");
    await page.getByText("Undo me").waitFor();
    await page.getByRole("button", { name: "Restore" }).first().click();
    await page.getByRole("status").filter({ hasText: "Restored" }).waitFor();
    await page.goto("/");
    await page.getByRole("link", { name: "Undo me" }).waitFor();
  });

  it("exports notes as JSON", async () => {
    const { page } = await signedIn();
    await createThroughUi(page, "Exported xylophone", "to be downloaded");
    await page.goto("/");
    await page.getByRole("link", { name: "Exported xylophone" }).waitFor();
    await page.getByLabel("Format").selectOption("json");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export" }).click(),
    ]);
    const file = await download.path();
    const content = await readFile(file, "utf8");
    expect(content).toContain("Exported xylophone");
    expect(() => JSON.parse(content) as unknown).not.toThrow();
  });

  it("renders a hostile note body as inert text", async () => {
    const { page } = await signedIn();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const hostile = `<script>alert(1)</script><img src=x onerror="alert(2)">`;
    const id = await createThroughUi(page, "Hostile", hostile);
    await page.reload();
    const body = page.locator("[data-note-body]");
    await body.waitFor();
    expect(await body.textContent()).toContain("<script>alert(1)</script>");
    expect(await body.locator("script, img").count()).toBe(0);
    await page.goto("/");
    await page.getByRole("link", { name: "Hostile" }).waitFor();
    await page.goto(`/notes/${id}`);
    await body.waitFor();
    await page.waitForTimeout(300);
    expect(dialogs).toEqual([]);
  });
});
