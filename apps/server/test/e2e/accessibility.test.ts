// axe-core on every main page, in Chromium: no critical and no serious violation, as a visitor,
// signed in (desktop and phone widths, dialogs open) and as an administrator. axe is injected
// through the DevTools protocol, which the pages' strict CSP does not govern, so no <script> tag
// is added to them.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { signIn } from "../support/server";
import { createNote, trashNote, type Note } from "../support/notes";
import { PNG, uploadOne } from "../support/files";
import type { TestClient } from "../support/client";
import { browserAvailable, useBrowserSuite } from "./browser";

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

const ELEVEN_MINUTES = 11 * 60 * 1000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** The critical and serious violations axe finds on the page as it is now. */
async function axeViolations(page: Page): Promise<Violation[]> {
  // Colours are measured as drawn: a toast or dialog still fading in would read as low contrast.
  await page.evaluate(
    "Promise.all(document.getAnimations().filter(a => a.effect?.getComputedTiming().endTime !== Infinity).map(a => a.finished.catch(() => {})))",
  );
  if (!(await page.evaluate("typeof window.axe !== 'undefined'"))) await page.evaluate(axeSource);
  const violations = await page.evaluate<Violation[]>(
    "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5) })))",
  );
  return violations.filter((v) => v.impact === "critical" || v.impact === "serious");
}

const ANOTHER_NOTE = [
  "# Trip to the coast",
  "",
  "## Before leaving",
  "",
  "- [ ] Book the train",
  "- [x] Pack the tent",
  "",
  "## Budget",
  "",
  "| Item | Cost |",
  "| --- | --- |",
  "| Train | 40 |",
  "| Camping | 25 |",
].join("\n");

describe.skipIf(!browserAvailable)("accessibility of every main page (axe-core)", () => {
  const suite = useBrowserSuite();

  /** Every page checked in a test, with what axe found there; the test asserts this stays empty. */
  function checker(page: Page) {
    const found: Record<string, Violation[]> = {};
    return {
      found,
      check: async (name: string) => {
        const violations = await axeViolations(page);
        if (violations.length > 0) found[name] = violations;
      },
    };
  }

  async function update(client: TestClient, note: Note, change: { title?: string; description: string }) {
    const res = await client.mutation<Note>("notes.update", { id: note.id, ...change, version: note.version });
    expect(res.status).toBe(200);
    return res.data;
  }

  it("has no critical or serious violation on the visitor's pages", { timeout: 120_000 }, async () => {
    const { page } = await suite.device();
    await page.setViewportSize(DESKTOP);
    const { found, check } = checker(page);
    const pages: [string, string][] = [
      ["/", "Your notes and files, on your own server"],
      ["/sign-in", "Sign in"],
      ["/sign-up", "Create your account"],
      ["/forgot-password", "Reset your password"],
      ["/verify", "Confirm your email"],
      ["/reset-password", "Choose your password"],
      ["/invite", "Accept your invitation"],
    ];
    for (const [path, heading] of pages) {
      await page.goto(path);
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      if (path === "/reset-password") await page.getByText("This reset link is incomplete.").waitFor();
      if (path === "/invite") await page.getByRole("alert").waitFor();
      await check(path);
    }
    expect(found, JSON.stringify(found, null, 2)).toEqual({});
  });

  it("has no critical or serious violation on the signed-in pages and dialogs", { timeout: 180_000 }, async () => {
    const { page, account } = await suite.signedIn();
    const client = await signIn(suite.server, account);
    const trip = await createNote(client, { title: "Trip to the coast", description: ANOTHER_NOTE, tags: ["travel"] });
    await createNote(client, { title: "Groceries", description: "eggs, milk" });
    const trashed = await createNote(client, { title: "Old draft", description: "no longer needed" });
    await trashNote(client, trashed.id);
    // A note edited twice, 11 minutes apart, so its history keeps two revisions.
    const { Note: Notes, NoteRevision } = suite.server.models;
    const packing = await createNote(client, { title: "Packing list", description: "tent\nstove\nmap" });
    const first = await update(client, packing, { description: "tent\nstove\nmap\ncompass" });
    const earlier = new Date(Date.now() - ELEVEN_MINUTES);
    await Notes.update({ revisedAt: earlier }, { where: { id: packing.id } });
    await NoteRevision.update({ createdAt: earlier }, { where: { noteId: packing.id, revision: 1 } });
    await update(client, first, { title: "Camping list", description: "tent\nmap\ncompass\nrope" });
    const file = await uploadOne(client, "pixel.png", PNG);

    const { found, check } = checker(page);
    for (const [label, size] of [
      ["desktop", DESKTOP],
      ["phone", PHONE],
    ] as const) {
      await page.setViewportSize(size);
      await page.goto("/");
      await page.getByRole("heading", { level: 1, name: /^Hello, / }).waitFor();
      await page.getByRole("link", { name: "Trip to the coast" }).first().waitFor();
      await check(`${label} /`);

      await page.goto(`/notes/${trip.id}`);
      await page.locator("[data-note-body]").filter({ hasText: "Book the train" }).waitFor();
      await page.locator("[data-note-body] table").waitFor();
      await check(`${label} /notes/:id`);
    }
    await page.setViewportSize(DESKTOP);

    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("heading", { level: 1, name: "Edit note" }).waitFor();
    await page.getByLabel("Text").waitFor();
    await check("/notes/:id editing");

    await page.goto("/notes/new");
    await page.getByRole("heading", { level: 1, name: "New note" }).waitFor();
    await page.getByLabel("Title").waitFor();
    await check("/notes/new");

    await page.goto("/files");
    await page.locator("[data-file-row]").filter({ hasText: "pixel.png" }).waitFor();
    await check("/files");

    await page.goto(`/files/${file.id}`);
    await page.getByRole("heading", { level: 1, name: "pixel.png" }).waitFor();
    await page.locator("img").first().waitFor();
    await check("/files/:id");

    // A file's Delete asks nothing: it moves the file to the trash, with an Undo toast.
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "“pixel.png” moved to trash." }).waitFor();
    await page.getByRole("button", { name: "Undo", exact: true }).waitFor();
    await check("/files after deleting a file (Undo toast)");

    // The trash with a note and a file in it; "Delete forever" asks first.
    await page.goto("/trash");
    await page.getByRole("heading", { level: 1, name: "Trash" }).waitFor();
    await page.getByText("Old draft").waitFor();
    await page.locator(`[data-trashed-file="${file.id}"]`).waitFor();
    await check("/trash");
    await page
      .locator(`[data-trashed-file="${file.id}"]`)
      .getByRole("button", { name: "Delete forever", exact: true })
      .click();
    const purge = page.getByRole("dialog", { name: "Delete this file forever?" });
    await purge.waitFor();
    await check("/trash Delete forever dialog");
    await page.keyboard.press("Escape");
    await purge.waitFor({ state: "hidden" });

    await page.goto("/account");
    await page.getByRole("heading", { level: 2, name: "Two-factor sign-in" }).waitFor();
    await page.getByRole("heading", { level: 2, name: "Passkeys" }).waitFor();
    await page.getByRole("heading", { level: 2, name: "API keys" }).waitFor();
    await check("/account");

    await page.goto(`/notes/${packing.id}`);
    await page.locator("[data-note-body]").filter({ hasText: "rope" }).waitFor();
    await page.getByRole("button", { name: "History" }).click();
    const history = page.getByRole("dialog", { name: "History" });
    await history.waitFor();
    await expect.poll(() => history.locator("[data-revisions] button").count()).toBe(2);
    await check("/notes/:id History dialog");
    await history.locator("[data-revisions] button").nth(1).click();
    await history.locator("[data-diff]").waitFor();
    await check("/notes/:id History dialog, comparing");
    await page.keyboard.press("Escape");
    await history.waitFor({ state: "hidden" });

    // The toast a note's Delete shows, with its Undo.
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Undo" }).waitFor();
    await check("/ after deleting a note (Undo toast)");

    expect(found, JSON.stringify(found, null, 2)).toEqual({});
  });

  it("has no critical or serious violation on the administrator's pages", { timeout: 120_000 }, async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    const { user } = await suite.signedIn();
    await page.setViewportSize(DESKTOP);
    const { found, check } = checker(page);

    await page.goto("/admin");
    await page.getByRole("heading", { level: 2, name: "Sign-ups per day" }).waitFor();
    await check("/admin");

    await page.goto("/admin/users");
    await page.getByRole("cell", { name: user.email }).waitFor();
    await check("/admin/users");

    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("dialog", { name: "Create an account" }).getByLabel("Email address").waitFor();
    await check("/admin/users Create account dialog");
    await page.keyboard.press("Escape");

    await page.goto(`/admin/users/${user.id}`);
    await page.getByRole("heading", { level: 1, name: user.username }).waitFor();
    await page.getByRole("heading", { level: 2, name: "Recent activity" }).waitFor();
    await page.getByText("Loading activity…").waitFor({ state: "detached" });
    await check("/admin/users/:id");

    await page.goto("/admin/audit");
    await page.getByRole("heading", { level: 1, name: "Audit log" }).waitFor();
    await page.getByRole("table").first().waitFor();
    await check("/admin/audit");

    await page.goto("/admin/settings");
    await page.getByRole("heading", { level: 2, name: "Invitations" }).waitFor();
    await check("/admin/settings");

    expect(found, JSON.stringify(found, null, 2)).toEqual({});
  });
});
