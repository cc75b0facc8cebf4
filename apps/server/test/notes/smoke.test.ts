import { afterAll, beforeAll, expect, it } from "vitest";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

it("creates, lists, searches and edits a note", async () => {
  const { account } = await createUser(t);
  const c = await signIn(t, account);
  const created = await c.mutation<{ id: string; version: number }>("notes.create", { title: "Café recipes", description: "How to brew a perfect espresso" });
  expect(created.status, JSON.stringify(created.error)).toBe(200);
  await c.mutation("notes.create", { title: "Shopping", description: "coffee beans, milk; espresso cups" });
  const list = await c.query<{ items: { title: string }[] }>("notes.list", { limit: 10 });
  expect(list.data.items.map((n) => n.title)).toEqual(["Shopping", "Café recipes"]);
  for (const q of ["espr", "CAFE", "café rec", "\"(*", "NEAR OR -x", "%_", "😀", "a".repeat(3000), "e"]) {
    const res = await c.query<{ items: { title: string }[] }>("notes.search", { q });
    expect(res.status, `${q}: ${JSON.stringify(res.error)}`).toBe(200);
    console.log(JSON.stringify(q.slice(0, 20)), res.data.items.map((i) => i.title));
  }
  const hit = await c.query("notes.search", { q: "espresso" });
  console.log(JSON.stringify(hit.data));
  const upd = await c.mutation("notes.update", { id: created.data.id, version: 1, title: "Coffee" });
  expect(upd.status).toBe(200);
  const stale = await c.mutation("notes.update", { id: created.data.id, version: 1, title: "Lost" });
  expect(stale.status).toBe(409);
});
