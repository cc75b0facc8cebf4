// Organizing notes on the home page in Chromium: tag chips and the tags panel, pins, search filter
// chips and tag suggestions, bulk selection with Undo, the trash's bulk actions, text direction
// for right-to-left titles, and the phone layout.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { TestClient } from "../support/client";
import { createNote } from "../support/notes";
import { signIn } from "../support/server";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

/** What the page's window offers here; these tests are typed without the DOM's types. */
type Styles = { getComputedStyle: (element: unknown) => { direction: string } };

/** An element's computed `direction`, run in the page. */
const direction = (element: unknown) => (globalThis as unknown as Styles).getComputedStyle(element).direction;

describe.skipIf(!browserAvailable)("organizing notes in the browser", () => {
  const suite = useBrowserSuite();

  /** A signed-in browser and an API client of the same person, with `titles` created oldest first. */
  async function withNotes(notes: { title: string; description?: string; tags?: string[]; pinned?: boolean }[]) {
    const device = await suite.signedIn();
    const api: TestClient = await signIn(suite.server, device.account);
    const ids: string[] = [];
    for (const note of notes) ids.push((await createNote(api, { description: "", ...note })).id);
    await device.page.goto("/");
    await device.page.getByRole("link", { name: notes[notes.length - 1]!.title, exact: true }).waitFor();
    return { ...device, api, ids };
  }

  const row = (page: Page, title: string) =>
    page.locator("li.note").filter({ has: page.getByRole("link", { name: title, exact: true }) });
  const firstTitle = (page: Page) => page.locator("li.note").first().locator(".note-title").textContent();
  const search = (page: Page) => page.getByRole("combobox", { name: "Search notes" });

  it("shows tag chips that filter, and pins a note to the top", async () => {
    const { page } = await withNotes([
      { title: "Alpha budget", tags: ["work"] },
      { title: "Beta trip", tags: ["travel plans", "work"] },
      { title: "Gamma ideas" },
    ]);
    expect(await row(page, "Beta trip").getByRole("list", { name: "Tags" }).innerText()).toMatch(
      /^travel plans\s+work$/,
    );
    expect(
      await row(page, "Beta trip").getByRole("button", { name: "Tag: travel plans", exact: true }).isVisible(),
    ).toBe(true);
    expect(await page.getByRole("switch", { name: "Pin Beta trip" }).isChecked()).toBe(false);

    await row(page, "Beta trip").getByRole("button", { name: "travel plans" }).click();
    expect(await search(page).inputValue()).toBe('tag:"travel plans"');
    await page.locator("[data-search-hit]").filter({ hasText: "Beta trip" }).waitFor();
    await expect.poll(() => page.locator("[data-search-hit]").count()).toBe(1);

    await search(page).fill("");
    await row(page, "Alpha budget").getByRole("button", { name: "work" }).click();
    expect(await search(page).inputValue()).toBe("tag:work");
    await expect.poll(() => page.locator("[data-search-hit]").count()).toBe(2);
    await search(page).press("Escape");

    expect(await firstTitle(page)).toBe("Gamma ideas");
    const pin = page.getByRole("switch", { name: "Pin Alpha budget" });
    await pin.click();
    await expect.poll(() => pin.isChecked()).toBe(true);
    await expect.poll(() => firstTitle(page)).toBe("Alpha budget");
    await page.reload();
    await expect.poll(() => firstTitle(page)).toBe("Alpha budget");
    expect(await pin.isChecked()).toBe(true);
    await pin.click();
    await expect.poll(() => firstTitle(page)).toBe("Gamma ideas");

    // n, away from any text field, starts a new note.
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("n");
    await waitForPath(page, "/notes/new");
  });

  it("renames and deletes tags from the tags panel", async () => {
    const { page, api } = await withNotes([
      { title: "Report draft", tags: ["work"] },
      { title: "Holiday", tags: ["old"] },
    ]);
    const panel = page.getByRole("region", { name: "Tags" });
    await panel.getByRole("button", { name: /^work/ }).waitFor();

    await panel.getByRole("button", { name: "Rename tag work" }).click();
    const dialog = page.getByRole("dialog", { name: /Rename the tag/ });
    await dialog.getByLabel("New name").fill("job");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await dialog.waitFor({ state: "hidden" });
    await panel.getByRole("button", { name: /^job/ }).waitFor();
    await row(page, "Report draft").getByRole("button", { name: "job" }).waitFor();

    await panel.getByRole("button", { name: "Delete tag old" }).click();
    await page.getByRole("dialog", { name: "Delete this tag?" }).getByRole("button", { name: "Delete tag" }).click();
    await panel.getByRole("button", { name: /^old/ }).waitFor({ state: "detached" });
    const tags = await api.query<{ name: string; count: number }[]>("notes.tags.list");
    expect(tags.data).toEqual([{ name: "job", count: 1 }]);

    // Choosing a tag in the panel filters by it.
    await panel.getByRole("button", { name: /^job/ }).click();
    expect(await search(page).inputValue()).toBe("tag:job");
    await expect
      .poll(() => page.locator("[data-search-hit]").allTextContents())
      .toEqual([expect.stringContaining("Report draft")]);
  });

  it("adds filters from chips and suggests tag names", async () => {
    const { page } = await withNotes([
      { title: "Pinned plan", tags: ["workshop"], pinned: true },
      { title: "Loose idea", tags: ["work"] },
      { title: "Errands", description: "- [ ] buy milk" },
    ]);
    expect(await search(page).getAttribute("placeholder")).toBe("Search notes (press /)");
    await page.keyboard.press("/");
    expect(await page.evaluate<string>("document.activeElement.id")).toBe("note-search");
    await page.getByRole("button", { name: "Pinned", exact: true }).click();
    expect(await search(page).inputValue()).toBe("is:pinned");
    expect(await page.getByRole("button", { name: "Pinned", exact: true }).getAttribute("aria-pressed")).toBe("true");
    await expect.poll(() => page.locator("[data-search-hit] .note-title").allTextContents()).toEqual(["Pinned plan"]);
    await page.getByRole("button", { name: "Pinned", exact: true }).click();
    expect(await search(page).inputValue()).toBe("");

    await page.getByRole("button", { name: "Open tasks" }).click();
    await expect.poll(() => page.locator("[data-search-hit] .note-title").allTextContents()).toEqual(["Errands"]);
    await search(page).fill("");

    await search(page).focus();
    await page.keyboard.type("tag:wo");
    const options = page.getByRole("listbox", { name: "Tags" }).getByRole("option");
    await expect
      .poll(() => options.allTextContents())
      .toEqual([expect.stringContaining("work"), expect.stringContaining("workshop")]);
    expect(await search(page).getAttribute("aria-expanded")).toBe("true");
    await page.keyboard.press("ArrowDown");
    expect(await options.nth(1).getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("Enter");
    expect(await search(page).inputValue()).toBe("tag:workshop ");
    await expect.poll(() => page.locator("[data-search-hit] .note-title").allTextContents()).toEqual(["Pinned plan"]);
  });

  it("selects notes by checkbox, Shift range and x, trashes them and undoes it", async () => {
    const titles = ["Note one", "Note two", "Note three", "Note four", "Note five"];
    const { page, api } = await withNotes(titles.map((title) => ({ title })));
    // Newest first: five, four, three, two, one.
    await page.getByRole("checkbox", { name: "Select Note five" }).click();
    await page.getByRole("checkbox", { name: "Select Note three" }).click({ modifiers: ["Shift"] });
    await page.getByText("3 selected").waitFor();
    expect(await page.getByRole("checkbox", { name: "Select Note four" }).isChecked()).toBe(true);

    await page.getByRole("link", { name: "Note one", exact: true }).focus();
    await page.keyboard.press("x");
    await page.getByText("4 selected").waitFor();
    expect(await page.getByRole("checkbox", { name: "Select Note one" }).isChecked()).toBe(true);
    expect(await page.getByRole("checkbox", { name: "Select Note two" }).isChecked()).toBe(false);

    await page.getByRole("button", { name: "Move to trash" }).click();
    await page.getByRole("status").filter({ hasText: "Moved 4 notes to the trash." }).waitFor();
    await page.getByRole("link", { name: "Note five", exact: true }).waitFor({ state: "detached" });
    expect(await page.locator("li.note .note-title").allTextContents()).toEqual(["Note two"]);
    await page.getByRole("button", { name: "Undo" }).click();
    await page.getByRole("link", { name: "Note five", exact: true }).waitFor();
    await expect.poll(() => page.locator("li.note").count()).toBe(5);
    const trash = await api.query<{ items: unknown[] }>("notes.trash.list");
    expect(trash.data.items).toEqual([]);

    // Select all, then tag them all at once.
    await page.getByRole("checkbox", { name: "Select all" }).click();
    await page.getByText("5 selected").waitFor();
    await page.getByRole("button", { name: "Add tag" }).click();
    await page.getByLabel("Tag to add").fill("batch");
    await page.screenshot({ path: "/tmp/organize-bulk.png" });
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Tagged 5 notes “batch”." }).waitFor();
    await expect.poll(() => page.locator("li.note").getByRole("button", { name: "batch" }).count()).toBe(5);

    // The selection stays for another action; take the tag off one note, picked from the suggestions.
    expect(await page.getByText("5 selected").isVisible()).toBe(true);
    await page.getByRole("button", { name: "Clear selection" }).click();
    await page.getByRole("checkbox", { name: "Select Note two" }).click();
    await page.getByRole("button", { name: "Remove tag" }).click();
    await page.getByLabel("Tag to remove").pressSequentially("ba");
    await page.getByRole("listbox", { name: "Tags" }).getByRole("option", { name: "batch" }).waitFor();
    await page.keyboard.press("Enter");
    expect(await page.getByLabel("Tag to remove").inputValue()).toBe("batch");
    await page.getByRole("button", { name: "Remove", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Took “batch” off 1 note." }).waitFor();
    await expect.poll(() => page.locator("li.note").getByRole("button", { name: "batch" }).count()).toBe(4);
  });

  it("exports the selected notes as a spreadsheet", async () => {
    const { page } = await withNotes([{ title: "Keep out" }, { title: "Export me" }, { title: "And me" }]);
    await page.getByRole("checkbox", { name: "Select Export me" }).click();
    await page.getByRole("checkbox", { name: "Select And me" }).click();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export selected (.xlsx)" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^notebox-notes-\d{4}-\d{2}-\d{2}\.xlsx$/);
    const file = await download.path();
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(file);
    expect(bytes.subarray(0, 2).toString()).toBe("PK");
  });

  it("restores or deletes several notes at once from the trash", async () => {
    const { page, api, ids } = await withNotes([{ title: "Old one" }, { title: "Old two" }, { title: "Old three" }]);
    const bulk = await api.mutation("notes.bulk", { ids, action: "trash" });
    expect(bulk.status).toBe(200);
    await page.goto("/trash");
    await page.getByRole("checkbox", { name: "Select Old one" }).click();
    await page.getByRole("checkbox", { name: "Select Old two" }).click();
    await page.getByRole("button", { name: "Restore selected" }).click();
    await page.getByRole("status").filter({ hasText: "Restored 2 notes." }).waitFor();
    await expect.poll(() => page.locator("ul.trash > li").count()).toBe(1);

    await page.getByRole("checkbox", { name: "Select all" }).click();
    await page.getByRole("button", { name: "Delete selected forever" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Yes, delete them" }).click();
    await page.getByText("The trash is empty.").waitFor();
    const list = await api.query<{ items: { title: string }[] }>("notes.list");
    expect(list.data.items.map((n) => n.title).sort()).toEqual(["Old one", "Old two"]);
  });

  it("gives right-to-left titles their own direction", async () => {
    const { page } = await withNotes([
      { title: "ملاحظات الاجتماع", description: "نص عربي قصير", tags: ["عمل"] },
      { title: "רשימת קניות", description: "חלב ולחם", tags: ["בית", "home"] },
      { title: "Shopping list", description: "milk and **bread**", tags: ["home", "shopping"], pinned: true },
    ]);
    const titleDirection = (title: string) => row(page, title).locator(".note-title").evaluate(direction);
    expect(await titleDirection("ملاحظات الاجتماع")).toBe("rtl");
    expect(await titleDirection("רשימת קניות")).toBe("rtl");
    expect(await titleDirection("Shopping list")).toBe("ltr");
    expect(await row(page, "רשימת קניות").locator(".excerpt").evaluate(direction)).toBe("rtl");
    expect(await row(page, "ملاحظات الاجتماع").getByRole("button", { name: "Tag: عمل" }).evaluate(direction)).toBe(
      "rtl",
    );
    await page.screenshot({ path: "/tmp/organize-desktop.png", fullPage: true });
  });

  it("shows the first note without scrolling on a phone", async () => {
    const { page } = await withNotes([
      { title: "Groceries", description: "Apples, pears and a long list of other things to buy", tags: ["home"] },
      { title: "Standup notes", description: "Talked about the release", tags: ["work", "daily"] },
      { title: "Reading list", description: "Books for the summer", pinned: true },
    ]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const first = page.locator("li.note").first();
    await first.waitFor();
    const box = await first.boundingBox();
    expect(box).not.toBeNull();
    expect(box!.y + box!.height).toBeLessThanOrEqual(844);
    // Export is behind "More" on a phone.
    expect(await page.getByRole("button", { name: "Export" }).isVisible()).toBe(false);
    await page.getByRole("button", { name: "More" }).click();
    expect(await page.getByRole("button", { name: "Export" }).isVisible()).toBe(true);
    await page.getByRole("button", { name: "More" }).click();
    const width = await page.evaluate<number>("document.documentElement.scrollWidth");
    expect(width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: "/tmp/organize-phone.png" });

    // A touch screen has no "/" to press and no files to drag.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("Emulation.setTouchEmulationEnabled", { enabled: true, maxTouchPoints: 5 });
    await page.reload();
    await first.waitFor();
    expect(await search(page).getAttribute("placeholder")).toBe("Search notes");
    await page.getByRole("checkbox", { name: "Select Groceries" }).click();
    await page.getByRole("button", { name: "Tags", exact: true }).click();
    await page.getByRole("region", { name: "Tags" }).getByRole("button", { name: "Rename tag work" }).waitFor();
    await page.screenshot({ path: "/tmp/organize-phone-selected.png", fullPage: true });
    await page.goto("/files");
    await page.getByRole("heading", { level: 1, name: "Files" }).waitFor();
    expect(await page.getByText("You can also drag files").isVisible()).toBe(false);
  });
});
