// A note's history in Chromium: the History dialog lists the kept revisions with their dates,
// compares one with the note as it is now, and restores it; a restore onto a note changed
// elsewhere meanwhile is refused with the usual conflict message. Screenshots of the dialog land
// in /tmp/history-*.png.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { signIn } from "../support/server";
import { createNote, type Note } from "../support/notes";
import type { TestClient } from "../support/client";
import { browserAvailable, useBrowserSuite } from "./browser";

const ELEVEN_MINUTES = 11 * 60 * 1000;

describe.skipIf(!browserAvailable)("a note's history in the browser", () => {
  const suite = useBrowserSuite();
  const { signedIn } = suite;

  async function update(
    client: TestClient,
    note: Note,
    change: { title?: string; description: string },
  ): Promise<Note> {
    const res = await client.mutation<Note>("notes.update", { id: note.id, ...change, version: note.version });
    expect(res.status).toBe(200);
    return res.data;
  }

  /**
   * A note edited twice, far enough apart (its last revision moved 11 minutes back) that each
   * edit kept the state it replaced: revision 1 is the first text, revision 2 the second. The
   * second edit renames the note too.
   */
  async function noteWithTwoRevisions(client: TestClient): Promise<Note> {
    const { Note: Notes, NoteRevision } = suite.server.models;
    const created = await createNote(client, { title: "Packing list", description: "tent\nstove\nmap" });
    const first = await update(client, created, { description: "tent\nstove\nmap\ncompass" });
    const earlier = new Date(Date.now() - ELEVEN_MINUTES);
    await Notes.update({ revisedAt: earlier }, { where: { id: created.id } });
    await NoteRevision.update({ createdAt: earlier }, { where: { noteId: created.id, revision: 1 } });
    const second = await update(client, first, { title: "Camping list", description: "tent\nmap\ncompass\nrope" });
    expect(await NoteRevision.count({ where: { noteId: created.id } })).toBe(2);
    return second;
  }

  const history = (page: Page) => page.getByRole("dialog", { name: "History" });
  const entries = (page: Page) => history(page).locator("[data-revisions] button");

  async function openHistory(page: Page, count: number) {
    await page.getByRole("button", { name: "History" }).click();
    await history(page).waitFor();
    await expect.poll(() => entries(page).count()).toBe(count);
  }

  async function confirmRestore(page: Page) {
    await history(page).getByRole("button", { name: "Restore this version" }).click();
    const confirm = page.getByRole("dialog", { name: "Restore this version?" });
    await confirm.getByRole("button", { name: "Restore this version" }).click();
  }

  it("lists revisions with dates, compares one with the note, and restores it", async () => {
    const { page, account } = await signedIn();
    const client = await signIn(suite.server, account);
    const note = await noteWithTwoRevisions(client);

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`/notes/${note.id}`);
    await page.locator("[data-note-body]").filter({ hasText: "rope" }).waitFor();
    await openHistory(page, 2);

    // Newest first, each with its date and what replaced it.
    const texts = await entries(page).allTextContents();
    expect(texts[0]).toContain("Before an edit");
    expect(texts[1]).toContain("11 minutes ago");
    for (const text of texts) expect(text).toMatch(/\d{4}/);
    expect(await entries(page).locator("time").first().getAttribute("datetime")).toMatch(/^\d{4}-\d\d-\d\dT/);

    // The older one against the note now: "stove" is only in it, "compass" and "rope" only in the note.
    await entries(page).nth(1).click();
    const diff = history(page).locator("[data-diff]");
    await diff.waitFor();
    expect(await entries(page).nth(1).getAttribute("aria-current")).toBe("true");
    expect(await diff.locator("del .text").allTextContents()).toEqual(["stove"]);
    expect(await diff.locator("ins .text").allTextContents()).toEqual(["compass", "rope"]);
    // Marked by more than colour: a sign to see and a word for screen readers.
    expect(await diff.locator("del .visually-hidden").textContent()).toBe("Removed:");
    expect(await diff.locator("ins .visually-hidden").allTextContents()).toEqual(["Added:", "Added:"]);
    expect(await diff.locator("del .sign").textContent()).toBe("−");
    expect(await history(page).locator("[data-title-diff] [dir=auto]").textContent()).toBe(
      "[removed:\u00a0Packing][added:\u00a0Camping] list",
    );
    // The heading of the comparison has focus, so a screen reader reads on from there.
    expect(await page.evaluate("document.activeElement.tagName")).toBe("H3");
    await page.screenshot({ path: "/tmp/history-desktop.png" });

    await page.setViewportSize({ width: 390, height: 844 });
    await diff.scrollIntoViewIfNeeded();
    await page.screenshot({ path: "/tmp/history-phone.png" });
    await page.setViewportSize({ width: 1280, height: 900 });

    await confirmRestore(page);
    await history(page).waitFor({ state: "hidden" });
    await page.getByText(/^Restored the version from /).waitFor();
    await page.locator("[data-note-body]").filter({ hasText: "stove" }).waitFor();
    expect(await page.locator("[data-note-body]").textContent()).not.toContain("rope");
    // Focus is back on the button that opened the dialog.
    expect(await page.evaluate("document.activeElement.textContent.trim()")).toBe("History");
    const restored = await client.query<Note>("notes.get", { id: note.id });
    expect(restored.data).toMatchObject({ title: "Packing list", description: "tent\nstove\nmap" });
    await page.getByRole("heading", { level: 1, name: "Packing list" }).waitFor();

    // The text the restore replaced is kept too, as the newest entry.
    await openHistory(page, 3);
    expect(await entries(page).first().textContent()).toContain("Before a restore");
    await page.keyboard.press("Escape");
    await history(page).waitFor({ state: "hidden" });
  });

  it("refuses a restore onto a note changed elsewhere, and shows the latest version", async () => {
    const { page, account } = await signedIn();
    const client = await signIn(suite.server, account);
    const note = await noteWithTwoRevisions(client);

    await page.goto(`/notes/${note.id}`);
    await page.locator("[data-note-body]").filter({ hasText: "rope" }).waitFor();
    await openHistory(page, 2);
    await entries(page).nth(1).click();
    await history(page).locator("[data-diff]").waitFor();

    // Meanwhile, another device edits the note.
    await update(client, note, { description: "tent\nmap\ncompass\nrope\nlantern" });

    await confirmRestore(page);
    await history(page).getByText("This note was changed elsewhere since you opened it.").waitFor();
    // Nothing was restored; the page and the comparison show the latest version.
    await history(page).locator("[data-diff] ins").filter({ hasText: "lantern" }).waitFor();
    await page.locator("[data-note-body]").filter({ hasText: "lantern" }).waitFor();
    const latest = await client.query<Note>("notes.get", { id: note.id });
    expect(latest.data.description).toBe("tent\nmap\ncompass\nrope\nlantern");

    // Restoring again now goes onto the version shown.
    await confirmRestore(page);
    await history(page).waitFor({ state: "hidden" });
    await page.locator("[data-note-body]").filter({ hasText: "stove" }).waitFor();
  });
});
