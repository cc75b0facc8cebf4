// The read caches through the real server: in process on the SQLite run, in Redis on the MariaDB
// run. Repeated reads are answered from the cache, every write is in the very next read, and a
// revoked session or a changed user is refused at once. With Redis unreachable, all still works.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadOne, type FileRecord, type Page } from "./support/files";
import { metricsEnv, scrapeMetrics } from "./support/metrics";
import { createNote, search, type Note, type NoteSummary } from "./support/notes";
import { createUser, freePort, signIn, startTestServer, type TestServer } from "./support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: metricsEnv });
});
afterAll(() => t.close());

/** notebox_cache_lookups_total for one cache and outcome, from /metrics. */
async function lookups(
  server: TestServer,
  cache: "list" | "session",
  outcome: "hit" | "miss" | "error",
): Promise<number> {
  const text = await scrapeMetrics(server.url);
  const line = new RegExp(`^notebox_cache_lookups_total\\{cache="${cache}",outcome="${outcome}"\\} (\\d+)`, "m").exec(
    text,
  );
  return Number(line?.[1] ?? 0);
}

const titles = async (client: Awaited<ReturnType<typeof signIn>>, procedure = "notes.list") =>
  (await client.query<Page<NoteSummary>>(procedure, {})).data.items.map((n) => n.title);

describe("note lists and searches", () => {
  it("answers a repeated list from the cache", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    await createNote(client, { title: "cached once" });
    await titles(client);
    const hits = await lookups(t, "list", "hit");
    expect(await titles(client)).toEqual(["cached once"]);
    expect(await lookups(t, "list", "hit")).toBe(hits + 1);
  });

  it("shows every kind of write in the next list, trash list and search", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const first = await createNote(client, { title: "quokka first" });
    expect(await titles(client)).toEqual(["quokka first"]);
    expect((await search(client, "quokka")).items.map((h) => h.title)).toEqual(["quokka first"]);

    await createNote(client, { title: "quokka second" });
    expect(await titles(client)).toEqual(["quokka second", "quokka first"]);
    expect((await search(client, "quokka")).items).toHaveLength(2);

    const edited = await client.mutation<Note>("notes.update", {
      id: first.id,
      version: first.version,
      title: "wombat now",
    });
    expect(edited.status).toBe(200);
    expect(await titles(client)).toEqual(["wombat now", "quokka second"]);
    expect((await search(client, "quokka")).items.map((h) => h.title)).toEqual(["quokka second"]);

    await client.mutation("notes.delete", { id: first.id });
    expect(await titles(client)).toEqual(["quokka second"]);
    expect(await titles(client, "notes.trash.list")).toEqual(["wombat now"]);
    expect((await search(client, "wombat")).items).toEqual([]);

    await client.mutation("notes.restore", { id: first.id });
    expect(await titles(client)).toEqual(["wombat now", "quokka second"]);
    expect(await titles(client, "notes.trash.list")).toEqual([]);

    await client.mutation("notes.delete", { id: first.id });
    expect(await titles(client, "notes.trash.list")).toEqual(["wombat now"]);
    await client.mutation("notes.trash.purge", {});
    expect(await titles(client, "notes.trash.list")).toEqual([]);
  });

  it("does not let a refused edit change what is cached", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const note = await createNote(client, { title: "kept" });
    await titles(client);
    const stale = await client.mutation("notes.update", { id: note.id, version: note.version + 5, title: "lost" });
    expect(stale.status).toBe(409);
    expect(await titles(client)).toEqual(["kept"]);
  });

  it("never shows one person's cached list to another", async () => {
    const a = await signIn(t, (await createUser(t)).account);
    const b = await signIn(t, (await createUser(t)).account);
    await createNote(a, { title: "only for a" });
    expect(await titles(a)).toEqual(["only for a"]);
    expect(await titles(b)).toEqual([]);
  });
});

describe("file lists", () => {
  it("shows uploads, renames and deletions in the next list", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const names = async () => (await client.query<Page<FileRecord>>("files.list", {})).data.items.map((f) => f.name);
    expect(await names()).toEqual([]);
    const file = await uploadOne(client, "first.txt", "hello");
    expect(await names()).toEqual(["first.txt"]);
    expect(await names()).toEqual(["first.txt"]);
    await client.mutation("files.rename", { id: file.id, name: "renamed.txt" });
    expect(await names()).toEqual(["renamed.txt"]);
    await client.mutation("files.delete", { id: file.id });
    expect(await names()).toEqual([]);
  });
});

describe("cached session validation", () => {
  it("answers repeated requests of one session from the cache", async () => {
    const client = await signIn(t, (await createUser(t)).account);
    await client.query("notes.list", {});
    const hits = await lookups(t, "session", "hit");
    expect((await client.query("notes.list", {})).status).toBe(200);
    expect(await lookups(t, "session", "hit")).toBe(hits + 1);
  });

  it("refuses a signed-out session at once", async () => {
    const client = await signIn(t, (await createUser(t)).account);
    const copy = t.client({ headers: { cookie: `notebox_session=${client.sessionToken}` } });
    expect((await copy.query("notes.list", {})).status).toBe(200);
    await client.mutation("auth.logout");
    expect((await copy.query("notes.list", {})).status).toBe(401);
  });

  it("refuses a session revoked from another device at once", async () => {
    const { account } = await createUser(t);
    const phone = await signIn(t, account);
    const laptop = await signIn(t, account);
    expect((await phone.query("notes.list", {})).status).toBe(200);
    const sessions = await laptop.query<{ items: { id: string; current: boolean }[] }>("auth.sessions.list");
    const other = sessions.data.items.find((s) => !s.current)!;
    expect((await laptop.mutation("auth.sessions.revoke", { id: other.id })).status).toBe(200);
    expect((await phone.query("notes.list", {})).status).toBe(401);
  });

  it("refuses a disabled person and a removed administrator at once", async () => {
    const admin = await signIn(t, (await createUser(t, { role: "admin" })).account);
    const other = await createUser(t, { role: "admin" });
    const otherClient = await signIn(t, other.account);
    expect((await otherClient.query("admin.stats")).status).toBe(200);
    expect((await admin.mutation("admin.users.setRole", { id: other.user.id, role: "user" })).status).toBe(200);
    // Changing the role also ends the person's sessions.
    expect((await otherClient.query("admin.stats")).status).toBe(401);

    const person = await createUser(t);
    const personClient = await signIn(t, person.account);
    expect((await personClient.query("notes.list", {})).status).toBe(200);
    expect((await admin.mutation("admin.users.setDisabled", { id: person.user.id, disabled: true })).status).toBe(200);
    expect((await personClient.query("notes.list", {})).status).toBe(401);
  });
});

describe("with Redis unreachable", () => {
  let down: TestServer;
  beforeAll(async () => {
    // A port nobody listens on: every Redis command fails at once.
    down = await startTestServer({ env: { ...metricsEnv, REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
  }, 30_000);
  afterAll(() => down.close());

  it("signs in, writes, lists and searches without a single error", async () => {
    const client = await signIn(down, (await createUser(down)).account);
    await createNote(client, { title: "no redis needed" });
    expect(await titles(client)).toEqual(["no redis needed"]);
    expect(await titles(client)).toEqual(["no redis needed"]);
    expect((await search(client, "redis")).items).toHaveLength(1);
    expect((await client.query("notes.list", {})).status).toBe(200);
    expect(await lookups(down, "list", "hit")).toBe(0);
    expect(await lookups(down, "list", "error")).toBeGreaterThan(0);
  });
});
