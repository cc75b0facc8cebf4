// The note editor in Chromium: the CodeMirror editor with its toolbar and shortcuts, the live
// preview, drafts kept in the browser across a closed tab, tags, ticking tasks in the rendered
// note, and right-to-left text. Screenshots of the editor land in /tmp/editor-*.png.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { createUser, signIn } from "../support/server";
import { createNote, type Note } from "../support/notes";
import { browserAvailable, signInThroughUi, useBrowserSuite, waitForPath } from "./browser";

const MOD = process.platform === "darwin" ? "Meta" : "Control";

/** An element's CSS direction as the browser computed it (runs in the page). */
function computedDirection(element: unknown): string {
  const page = globalThis as unknown as { getComputedStyle: (e: unknown) => { direction: string } };
  return page.getComputedStyle(element).direction;
}

describe.skipIf(!browserAvailable)("the note editor in the browser", () => {
  const suite = useBrowserSuite();
  const { signedIn } = suite;

  /** The editable text of the note editor (CodeMirror's content element). */
  const editorText = (page: Page) => page.locator(".cm-content");

  async function openNewNote(page: Page) {
    await page.goto("/notes/new");
    await editorText(page).waitFor();
  }

  async function apiNote(account: { email: string; password: string }, id: string): Promise<Note> {
    const client = await signIn(suite.server, account);
    const res = await client.query<Note>("notes.get", { id });
    expect(res.status).toBe(200);
    return res.data;
  }

  const noteIdOf = (page: Page) => new URL(page.url()).pathname.split("/").pop()!;

  it("formats with the toolbar and shortcuts, previews live, continues lists and saves with Ctrl+Enter", async () => {
    const { page, account } = await signedIn();
    await page.setViewportSize({ width: 1280, height: 900 });
    await openNewNote(page);
    await page.getByLabel("Title").fill("Formatting");

    // The editor keeps the field's accessible name.
    await page.getByLabel("Text", { exact: true }).click();
    await page.keyboard.type("hello");
    await page.keyboard.press(`${MOD}+A`);
    await page.getByRole("toolbar", { name: "Formatting" }).getByRole("button", { name: "Bold" }).click();
    await page.keyboard.press("End");
    await page.keyboard.type(" and ");
    await page.keyboard.press(`${MOD}+I`);
    await page.keyboard.type("slanted");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("- one");
    await page.keyboard.press("Enter");
    await page.keyboard.type("two");

    // The preview beside the editor shows the rendered text as it is typed.
    const preview = page.locator("[data-preview]");
    await preview.locator("strong").filter({ hasText: "hello" }).waitFor();
    await preview.locator("em").filter({ hasText: "slanted" }).waitFor();
    await preview.locator("li").filter({ hasText: "two" }).waitFor();

    await page.screenshot({ path: "/tmp/editor-desktop.png", fullPage: true });

    await page.keyboard.press(`${MOD}+Enter`);
    await waitForPath(page, /^\/notes\/(?!new$)[^/]+$/);
    await page.locator("[data-note-body] strong").filter({ hasText: "hello" }).waitFor();
    const saved = await apiNote(account, noteIdOf(page));
    expect(saved.title).toBe("Formatting");
    expect(saved.description).toBe("**hello** and _slanted_\n- one\n- two");
  });

  it("makes links with Ctrl+K and from a URL pasted over a selection", async () => {
    const { page } = await signedIn();
    await openNewNote(page);
    await editorText(page).click();
    await page.keyboard.type("docs");
    await page.keyboard.press(`${MOD}+A`);
    await page.keyboard.press(`${MOD}+K`);
    // The address is selected, ready to be typed over.
    await page.keyboard.type("https://example.com");
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("site");
    await page.keyboard.press("Shift+Home");
    await page.evaluate(`(() => {
      const data = new DataTransfer();
      data.setData("text/plain", "https://notebox.example/page");
      const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
      document.querySelector(".cm-content").dispatchEvent(event);
    })()`);
    const lines = page.locator(".cm-line");
    await lines.filter({ hasText: "[site](https://notebox.example/page)" }).waitFor();
    expect(await lines.allTextContents()).toEqual([
      "[docs](https://example.com)",
      "[site](https://notebox.example/page)",
    ]);
    await page.locator("[data-preview] a").filter({ hasText: "site" }).waitFor();
  });

  it("shows Write and Preview tabs on a phone", async () => {
    const { page } = await signedIn();
    await page.setViewportSize({ width: 390, height: 844 });
    await openNewNote(page);
    await page.getByLabel("Title").fill("On the go");
    await editorText(page).click();
    await page.keyboard.type("## Groceries\n- [ ] milk");
    await page.getByLabel("Tags", { exact: true }).fill("errands");
    await page.getByLabel("Tags", { exact: true }).press("Enter");
    await page.screenshot({ path: "/tmp/editor-phone.png", fullPage: true });
    expect(await page.locator("[data-preview]").isVisible()).toBe(false);
    await page.getByRole("tab", { name: "Preview" }).click();
    await page.locator("[data-preview] h2").filter({ hasText: "Groceries" }).waitFor();
    expect(await editorText(page).isVisible()).toBe(false);
  });

  it("restores a draft after the tab was closed, until it is saved or discarded", async () => {
    const { page, context, account } = await signedIn();
    await openNewNote(page);
    await page.getByLabel("Title").fill("Half written");
    await editorText(page).click();
    await page.keyboard.type("Not lost when the tab closes.");
    await page.waitForTimeout(700);
    await page.close();

    const again = await context.newPage();
    await openNewNote(again);
    await again.getByText("Restored your unsaved draft").waitFor();
    expect(await again.getByLabel("Title").inputValue()).toBe("Half written");
    await editorText(again).filter({ hasText: "Not lost when the tab closes." }).waitFor();
    await again.getByRole("button", { name: "Discard" }).click();
    expect(await again.getByLabel("Title").inputValue()).toBe("");
    expect(await editorText(again).textContent()).toBe("");

    // An existing note: the edit comes back in the editor, and saving it clears the draft.
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Kept", description: "first" });
    await again.goto(`/notes/${note.id}`);
    await again.getByRole("button", { name: "Edit" }).click();
    await editorText(again).click();
    await again.keyboard.press("End");
    await again.keyboard.type(" and second");
    await again.waitForTimeout(700);
    await again.close();

    const third = await context.newPage();
    await third.goto(`/notes/${note.id}`);
    await third.getByText("Restored your unsaved draft").waitFor();
    await editorText(third).filter({ hasText: "first and second" }).waitFor();
    await third.getByRole("button", { name: "Save changes" }).click();
    await third.locator("[data-note-body]").filter({ hasText: "first and second" }).waitFor();
    expect((await apiNote(account, note.id)).description).toBe("first and second");
    await third.reload();
    await third.locator("[data-note-body]").filter({ hasText: "first and second" }).waitFor();
    expect(await third.getByText("Restored your unsaved draft").count()).toBe(0);

    // Leaving within the app, once confirmed, drops the draft: it is not offered again.
    await openNewNote(third);
    await third.getByLabel("Title").fill("Not wanted");
    await third.waitForTimeout(700);
    await third.getByRole("link", { name: "← All notes" }).click();
    await third.getByRole("button", { name: "Leave without saving" }).click();
    await waitForPath(third, "/");
    await openNewNote(third);
    await third.getByLabel("Title").waitFor();
    expect(await third.getByText("Restored your unsaved draft").count()).toBe(0);
    expect(await third.getByLabel("Title").inputValue()).toBe("");
  });

  it("never offers one person's draft to another signed in on the same browser", async () => {
    const { page, context, user } = await signedIn();
    await openNewNote(page);
    await page.getByLabel("Title").fill("Private plans");
    await page.waitForTimeout(700);
    await page.close();

    // Someone else signs in on the same browser (same storage, new session).
    await context.clearCookies();
    const other = await createUser(suite.server);
    const next = await context.newPage();
    await signInThroughUi(next, other.account);
    await openNewNote(next);
    await next.getByLabel("Title").waitFor();
    expect(await next.getByText("Restored your unsaved draft").count()).toBe(0);
    expect(await next.getByLabel("Title").inputValue()).toBe("");
    // The first person's draft is still theirs alone.
    const keys = await next.evaluate<string[]>(
      `Object.keys(localStorage).filter((k) => k.startsWith("notebox:draft:"))`,
    );
    expect(keys).toEqual([`notebox:draft:${user.id}:new`]);
  });

  it("saves tags added in the editor, offers #hashtags, and pins", async () => {
    const { page, account } = await signedIn();
    await openNewNote(page);
    await page.getByLabel("Title").fill("Tagged");
    await editorText(page).click();
    await page.keyboard.type("Call the plumber #urgent today");
    const tagsInput = page.getByLabel("Tags", { exact: true });
    await tagsInput.fill("Work");
    await tagsInput.press("Enter");
    await tagsInput.pressSequentially("home,");
    await tagsInput.pressSequentially("typo");
    await tagsInput.press("Enter");
    await page.getByRole("button", { name: "Remove tag typo" }).click();
    // Offered, not added on its own.
    await page.getByRole("button", { name: "Add tag #urgent" }).click();
    await page.getByRole("button", { name: "Add tag #urgent" }).waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Save note" }).click();
    await waitForPath(page, /^\/notes\/(?!new$)[^/]+$/);

    const tags = page.getByRole("list", { name: "Tags" });
    await tags.getByText("urgent").waitFor();
    const id = noteIdOf(page);
    expect([...(await apiNote(account, id)).tags].sort()).toEqual(["home", "urgent", "Work"].sort());

    await page.getByRole("button", { name: "Pin" }).click();
    await page.getByRole("button", { name: "Unpin" }).waitFor();
    expect((await apiNote(account, id)).pinned).toBe(true);

    // A tag leads to the notes that have it.
    await tags.getByRole("link", { name: "urgent" }).click();
    await waitForPath(page, "/");
    expect(new URL(page.url()).searchParams.get("q")).toBe("tag:urgent");
    await page.getByRole("link", { name: "Tagged" }).first().waitFor();
  });

  it("ticks a task in the rendered note and saves the text", async () => {
    const { page, account } = await signedIn();
    const client = await signIn(suite.server, account);
    const text =
      "- [ ] milk\n\n```\n- [ ] not a task\n```\n\n> - [ ] quoted\n\n1. [ ] numbered\n\n- [ ] eggs\n- [x] bread";
    const note = await createNote(client, { title: "Shopping", description: text });
    await page.goto(`/notes/${note.id}`);

    await page.getByRole("checkbox", { name: "eggs" }).check();
    await expect
      .poll(async () => (await apiNote(account, note.id)).description)
      .toBe(text.replace("- [ ] eggs", "- [x] eggs"));
    await page.getByRole("checkbox", { name: "bread" }).uncheck();
    await expect
      .poll(async () => (await apiNote(account, note.id)).description)
      .toBe(text.replace("- [ ] eggs", "- [x] eggs").replace("- [x] bread", "- [ ] bread"));
    expect(await page.getByRole("checkbox", { name: "eggs" }).isChecked()).toBe(true);
    await page.getByRole("checkbox", { name: "quoted" }).check();
    await expect
      .poll(async () => (await apiNote(account, note.id)).description)
      .toContain("> - [x] quoted\n\n1. [ ] numbered");

    // Changed elsewhere meanwhile: the tick is not saved over it without asking.
    const current = await apiNote(account, note.id);
    await client.mutation("notes.update", {
      id: note.id,
      version: current.version,
      description: `${current.description}\n- [ ] jam`,
    });
    await page.getByRole("checkbox", { name: "milk" }).check();
    await page.getByText("This note was changed elsewhere since you opened it.").waitFor();
    await page.getByRole("button", { name: "Reload the latest version" }).click();
    await page.getByRole("checkbox", { name: "jam" }).waitFor();
    expect(await page.getByRole("checkbox", { name: "milk" }).isChecked()).toBe(false);
  });

  it("sets right-to-left lines right to left", async () => {
    const { page, account } = await signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, {
      title: "Bilingual",
      description: "Hello there\n\nمرحبا بالعالم\n\n- قائمة\n- [ ] مهمة\n\n> اقتباس",
      tags: ["عربي", "Languages"],
    });
    await page.goto(`/notes/${note.id}`);
    await page.locator("[data-note-body] blockquote").waitFor();
    await page.screenshot({ path: "/tmp/note-rtl.png", fullPage: true });
    const body = page.locator("[data-note-body]");
    const direction = (text: string) =>
      body.locator("p, li").filter({ hasText: text }).first().evaluate(computedDirection);
    expect(await direction("مرحبا")).toBe("rtl");
    expect(await direction("Hello")).toBe("ltr");
    expect(await direction("قائمة")).toBe("rtl");
    // The quote's bar and the list's bullets change sides with the text.
    for (const block of ["blockquote", "ul"]) {
      expect(await body.locator(block).evaluate(computedDirection)).toBe("rtl");
    }

    await page.getByRole("button", { name: "Edit" }).click();
    const line = page.locator(".cm-line").filter({ hasText: "مرحبا" });
    expect(await line.evaluate(computedDirection)).toBe("rtl");
  });
});
