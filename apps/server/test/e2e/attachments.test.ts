// Files inside notes, in Chromium through the real server: an image pasted from the clipboard into
// a note's editor uploads into the note and shows inline once saved; it goes to the trash with its
// note and comes back with it; a file chosen with Attach becomes a download chip; a paste into a
// new note is attached to it when it is saved; an upload the quota refuses says so and leaves no
// placeholder behind.
import { readFile } from "node:fs/promises";
import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { BrowserContext, Locator, Page, Route } from "playwright-core";
import { signIn } from "../support/server";
import { createNote, type Note } from "../support/notes";
import { contentPath, fileForm, type FileRecord, type Page as ListPage } from "../support/files";
import type { TestClient } from "../support/client";
import { browserAvailable, useBrowserSuite, waitForPath } from "./browser";

// ---- A real PNG, built here: 2x2 pixels, red, green, blue and white ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png2x2(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(2, 0); // width
  header.writeUInt32BE(2, 4); // height
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter, no interlace
  // Each row starts with its filter type (0: none).
  const rows = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

const PNG = png2x2();

/** An image reference as the editor writes it, capturing the file's id. */
const IMAGE_REF = /^!\[([^\]]*)\]\(\/api\/v1\/files\/([^/)]+)\/content\?disposition=inline\)$/;

describe.skipIf(!browserAvailable)("files inside notes in the browser", () => {
  const suite = useBrowserSuite();

  /** The editable text of the note editor (CodeMirror's content element). */
  const editorText = (page: Page) => page.locator(".cm-content");
  const lines = (page: Page) => page.locator(".cm-line");
  const body = (page: Page) => page.locator("[data-note-body]");
  const attachments = (page: Page) => page.locator("[data-note-attachments]");

  /** The image's natural width once it has loaded (0 while it has not, or when it failed). */
  const naturalWidth = (image: Locator) =>
    image.evaluate((el: unknown) => {
      const img = el as { complete: boolean; naturalWidth: number };
      return img.complete ? img.naturalWidth : 0;
    });

  async function listFiles(client: TestClient, input: Record<string, unknown> = {}): Promise<FileRecord[]> {
    const res = await client.query<ListPage<FileRecord>>("files.list", input);
    expect(res.status).toBe(200);
    return res.data.items;
  }

  async function trashedFiles(client: TestClient): Promise<FileRecord[]> {
    const res = await client.query<ListPage<FileRecord>>("files.trash.list");
    expect(res.status).toBe(200);
    return res.data.items;
  }

  async function getNote(client: TestClient, id: string): Promise<Note> {
    const res = await client.query<Note>("notes.get", { id });
    expect(res.status).toBe(200);
    return res.data;
  }

  /** Opens the note and starts editing it, the cursor at the end of its text. */
  async function editNote(page: Page, id: string) {
    await page.goto(`/notes/${id}`);
    await page.getByRole("button", { name: "Edit", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Edit note" }).waitFor();
    await editorText(page).click();
    await page.keyboard.press("Control+End");
  }

  /**
   * Puts the PNG on the system clipboard with the async Clipboard API (as a screenshot tool or
   * "Copy image" would) and pastes it into the focused editor with Control+V: Chromium hands the
   * paste event the image as a File ("image.png"). Headless Chromium keeps its own clipboard, so
   * this is the real clipboard path, no synthetic event.
   */
  async function pasteImageFromClipboard(context: BrowserContext, page: Page, png: Buffer) {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: suite.server.url });
    await page.evaluate(`(async () => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(png.toString("base64"))}), (c) => c.charCodeAt(0));
      const blob = new Blob([bytes], { type: "image/png" });
      await navigator.clipboard.write([new ClipboardItem({ "image/png": blob })]);
    })()`);
    // What the clipboard holds now: an image, nothing else.
    expect(await page.evaluate(`navigator.clipboard.read().then((items) => items.flatMap((i) => i.types))`)).toEqual([
      "image/png",
    ]);
    await page.keyboard.press("Control+V");
  }

  /** Holds back every upload (POST /api/v1/files) until `release` is called. */
  async function holdUploads(page: Page) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const seen: string[] = [];
    await page.route(
      (url) => url.pathname === "/api/v1/files",
      async (route: Route) => {
        if (route.request().method() !== "POST") return route.continue();
        seen.push(route.request().url());
        await released;
        await route.continue();
      },
    );
    return { release, seen };
  }

  /** Waits for the one line of the editor that references an uploaded image; its name and file id. */
  async function imageReference(page: Page): Promise<{ name: string; id: string }> {
    const line = lines(page).filter({
      hasText: /^!\[[^\]]*\]\(\/api\/v1\/files\/[^/)]+\/content\?disposition=inline\)$/,
    });
    await line.waitFor();
    const match = IMAGE_REF.exec((await line.textContent()) ?? "");
    expect(match).not.toBeNull();
    return { name: match![1]!, id: match![2]! };
  }

  it("pastes an image from the clipboard into a note, uploads it into the note and shows it once saved", async () => {
    const { context, page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Tide pools", description: "Seen at low tide:" });

    await editNote(page, note.id);
    await page.keyboard.press("Enter");
    const held = await holdUploads(page);
    await pasteImageFromClipboard(context, page, PNG);

    // While it uploads: a placeholder where it was pasted, and a status saying so.
    await lines(page)
      .filter({ hasText: /^!\[Uploading image\.png…\]\(#upload-\d+\)$/ })
      .waitFor();
    await page.getByRole("status").filter({ hasText: "Uploading 1 file into the note…" }).waitFor();
    await expect.poll(() => held.seen.length).toBe(1);
    expect(new URL(held.seen[0]!).searchParams.get("noteId")).toBe(note.id);
    held.release();

    // The placeholder becomes the image's reference, and the status goes.
    const { name, id } = await imageReference(page);
    expect(name).toBe("image.png");
    await page.getByRole("status").filter({ hasText: "Uploading" }).waitFor({ state: "detached" });
    expect(await lines(page).filter({ hasText: "Uploading" }).count()).toBe(0);
    // The live preview shows it already.
    await expect.poll(() => naturalWidth(page.locator("[data-preview] img"))).toBe(2);

    await page.getByRole("button", { name: "Save changes", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Tide pools" }).waitFor();

    // Rendered in the note, really loaded from the server.
    const image = body(page).locator("img");
    await image.waitFor();
    expect(await image.getAttribute("src")).toBe(contentPath(id, "?disposition=inline"));
    expect(await image.getAttribute("alt")).toBe("image.png");
    await expect.poll(() => naturalWidth(image), { timeout: 10_000 }).toBe(2);
    expect(await image.evaluate((el: unknown) => (el as { naturalHeight: number }).naturalHeight)).toBe(2);

    // Listed under the note.
    await attachments(page).getByRole("heading", { name: "1 file in this note" }).waitFor();
    const item = attachments(page).locator(`[data-attachment="${id}"]`);
    await item.getByRole("link", { name: "image.png", exact: true }).waitFor();
    await item.getByRole("link", { name: "Download", exact: true }).waitFor();

    // On the server: the note's text holds the reference, the file is in the note, its bytes intact.
    expect((await getNote(client, note.id)).description).toBe(
      `Seen at low tide:\n![image.png](/api/v1/files/${id}/content?disposition=inline)\n`,
    );
    const files = await listFiles(client, { noteId: note.id });
    expect(files.map((f) => [f.id, f.name, f.contentType, f.noteId])).toEqual([
      [id, "image.png", "image/png", note.id],
    ]);
    const res = await client.fetch(contentPath(id));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).subarray(0, 8)).toEqual(PNG.subarray(0, 8));
  });

  it("trashes a note's image with the note and brings it back when the note is restored", async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const title = "Harbour sketch";
    const created = await createNote(client, { title, description: "Drawn from the pier." });
    const uploaded = await client.fetch(`/api/v1/files?noteId=${created.id}`, {
      method: "POST",
      body: fileForm([{ name: "harbour.png", bytes: PNG }]),
    });
    expect(uploaded.status).toBe(201);
    const [file] = ((await uploaded.json()) as { items: FileRecord[] }).items;
    expect(file?.noteId).toBe(created.id);
    const updated = await client.mutation<Note>("notes.update", {
      id: created.id,
      description: `Drawn from the pier.\n\n![harbour.png](/api/v1/files/${file!.id}/content?disposition=inline)`,
      version: created.version,
    });
    expect(updated.status).toBe(200);

    await page.goto(`/notes/${created.id}`);
    const image = body(page).locator("img");
    await expect.poll(() => naturalWidth(image), { timeout: 10_000 }).toBe(2);
    await attachments(page).locator(`[data-attachment="${file!.id}"]`).waitFor();

    // Delete on the note page: to the trash, with Undo offered.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await waitForPath(page, "/");
    await page.getByRole("status").filter({ hasText: "Note moved to trash." }).waitFor();
    await page.getByRole("button", { name: "Undo", exact: true }).waitFor();

    // Its file went with it (a note in the trash has no file list: 404).
    expect((await client.query("files.list", { noteId: created.id })).status).toBe(404);
    expect(await listFiles(client)).toEqual([]);
    const trashed = await trashedFiles(client);
    expect(trashed.map((f) => [f.id, f.noteId])).toEqual([[file!.id, created.id]]);
    expect(trashed[0]!.deletedAt).not.toBeNull();

    // The trash shows the note, and the file under Files, said to be there with its note.
    await page.goto("/trash");
    await page.getByRole("heading", { level: 1, name: "Trash" }).waitFor();
    const deletedNotes = page.getByRole("list", { name: "Deleted notes" });
    const noteItem = deletedNotes.getByRole("listitem").filter({ has: page.getByRole("link", { name: title }) });
    await noteItem.waitFor();
    const filesSection = page.locator("[data-trashed-files]");
    await filesSection.getByRole("heading", { level: 2, name: "Files", exact: true }).waitFor();
    const fileItem = filesSection.locator(`[data-trashed-file="${file!.id}"]`);
    await fileItem.getByText("harbour.png", { exact: true }).waitFor();
    await fileItem.getByText(/with its note/).waitFor();

    // Restoring the note restores its file: it leaves the trash's Files too.
    await noteItem.getByRole("button", { name: "Restore", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `Restored “${title}”.` })
      .waitFor();
    await noteItem.waitFor({ state: "detached" });
    await fileItem.waitFor({ state: "detached" });
    await page.getByText("The trash is empty.").waitFor();
    expect(await trashedFiles(client)).toEqual([]);
    const back = await listFiles(client, { noteId: created.id });
    expect(back.map((f) => [f.id, f.noteId, f.deletedAt])).toEqual([[file!.id, created.id, null]]);

    // The note shows its image again, loaded from the server, and lists it.
    await page.goto(`/notes/${created.id}`);
    await page.getByRole("heading", { level: 1, name: title }).waitFor();
    const again = body(page).locator("img");
    await expect.poll(() => naturalWidth(again), { timeout: 10_000 }).toBe(2);
    await attachments(page).getByRole("heading", { name: "1 file in this note" }).waitFor();
    await attachments(page)
      .locator(`[data-attachment="${file!.id}"]`)
      .getByRole("link", { name: "harbour.png", exact: true })
      .waitFor();
  });

  it("attaches a file chosen with Attach as a download chip", async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Trip plan", description: "The list:" });
    const TEXT = "tent\nstove\nmap\n";

    await editNote(page, note.id);
    await page.keyboard.press("Enter");
    // Attach opens the (hidden) file picker, for several files at once.
    const [chooser] = await Promise.all([
      page.waitForEvent("filechooser"),
      page.getByRole("button", { name: "Attach", exact: true }).click(),
    ]);
    expect(chooser.isMultiple()).toBe(true);
    expect(await chooser.element().getAttribute("aria-label")).toBe("Files to attach");
    await chooser.setFiles({ name: "packing-list.txt", mimeType: "text/plain", buffer: Buffer.from(TEXT) });

    const line = lines(page).filter({ hasText: /^\[packing-list\.txt\]\(\/api\/v1\/files\/[^/)]+\/content\)$/ });
    await line.waitFor();
    const id = /\/api\/v1\/files\/([^/)]+)\/content/.exec((await line.textContent()) ?? "")![1]!;

    await page.getByRole("button", { name: "Save changes", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "Trip plan" }).waitFor();

    // A chip that downloads the file, no image.
    const chip = body(page).locator("a.file-chip");
    await chip.waitFor();
    expect(await chip.textContent()).toBe("packing-list.txt");
    expect(await chip.getAttribute("href")).toBe(contentPath(id));
    expect(await chip.getAttribute("download")).toBe("packing-list.txt");
    expect(await body(page).locator("img").count()).toBe(0);
    const [download] = await Promise.all([page.waitForEvent("download"), chip.click()]);
    expect(download.suggestedFilename()).toBe("packing-list.txt");
    expect(await readFile(await download.path(), "utf8")).toBe(TEXT);

    await attachments(page).getByRole("heading", { name: "1 file in this note" }).waitFor();
    await attachments(page)
      .locator(`[data-attachment="${id}"]`)
      .getByRole("link", { name: "packing-list.txt", exact: true })
      .waitFor();
    const files = await listFiles(client, { noteId: note.id });
    expect(files.map((f) => [f.id, f.name, f.noteId])).toEqual([[id, "packing-list.txt", note.id]]);
  });

  it("deletes a file from the note's list to the trash, with Undo", async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Receipts", description: "March" });
    const res = await client.fetch(`/api/v1/files?noteId=${note.id}`, {
      method: "POST",
      body: fileForm([{ name: "march.txt", bytes: "coffee 3.20\n" }]),
    });
    expect(res.status).toBe(201);
    const [file] = ((await res.json()) as { items: FileRecord[] }).items;

    await page.goto(`/notes/${note.id}`);
    const item = attachments(page).locator(`[data-attachment="${file!.id}"]`);
    await item.waitFor();
    await item.getByRole("button", { name: "Move march.txt to the trash", exact: true }).click();
    await item.waitFor({ state: "detached" });
    expect((await trashedFiles(client)).map((f) => f.id)).toEqual([file!.id]);
    expect(await listFiles(client, { noteId: note.id })).toEqual([]);

    await page.getByText("“march.txt” moved to trash.").waitFor();
    await page.getByRole("button", { name: "Undo", exact: true }).click();
    await item.waitFor();
    expect((await listFiles(client, { noteId: note.id })).map((f) => f.id)).toEqual([file!.id]);
    expect(await trashedFiles(client)).toEqual([]);
  });

  it("attaches an image pasted into a new note to the note when it is saved", async () => {
    const { context, page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);

    await page.goto("/notes/new");
    await page.getByLabel("Title").fill("Whiteboard");
    await editorText(page).click();
    await page.keyboard.type("After the meeting:");
    await page.keyboard.press("Enter");
    await pasteImageFromClipboard(context, page, PNG);
    const { id } = await imageReference(page);

    // Uploaded, in no note yet: there is none.
    const before = await listFiles(client);
    expect(before.map((f) => [f.id, f.noteId])).toEqual([[id, null]]);

    await page.getByRole("button", { name: "Save note", exact: true }).click();
    await waitForPath(page, /^\/notes\/(?!new$)[^/]+$/);
    const noteId = new URL(page.url()).pathname.split("/").pop()!;
    await page.getByRole("heading", { level: 1, name: "Whiteboard" }).waitFor();

    await expect.poll(() => naturalWidth(body(page).locator("img")), { timeout: 10_000 }).toBe(2);
    await attachments(page).locator(`[data-attachment="${id}"]`).waitFor();
    const files = await listFiles(client, { noteId });
    expect(files.map((f) => [f.id, f.noteId])).toEqual([[id, noteId]]);
    expect((await getNote(client, noteId)).description).toContain(`(/api/v1/files/${id}/content?disposition=inline)`);
  });

  it("says why a file could not be attached and takes its placeholder away", async () => {
    const { context, page, account, user } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const note = await createNote(client, { title: "Full drive", description: "Nothing fits." });
    // A quota smaller than the image.
    await suite.server.models.User.update({ quotaBytes: 10 }, { where: { id: user.id } });

    await editNote(page, note.id);
    await page.keyboard.press("Enter");
    await pasteImageFromClipboard(context, page, PNG);

    // The server's own sentence (a 413 for the quota), after the file's name.
    const alert = page.getByRole("alert").filter({ hasText: /^Could not attach image\.png: / });
    await alert.waitFor();
    expect((await alert.textContent())?.trim()).toBe(
      "Could not attach image.png: Not enough storage space left for this upload. Delete some files and empty them from the trash first.",
    );
    await page.getByRole("status").filter({ hasText: "Uploading" }).waitFor({ state: "detached" });
    expect(await lines(page).allTextContents()).toEqual(["Nothing fits.", ""]);
    expect(await listFiles(client)).toEqual([]);
  });
});
