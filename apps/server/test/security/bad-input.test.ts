import { afterAll, beforeAll, it } from "vitest";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

it("explore", async () => {
  const { account } = await createUser(t, { role: "admin" });
  const admin = await signIn(t, account);
  for (const q of ["?input=", "?input=%5B%5D", "", "?input=null", `?input=${encodeURIComponent(JSON.stringify({q: "a\u0000b"}))}`, `?input=${encodeURIComponent(JSON.stringify({q: "a\r\nb\u001b"}))}`, `?input=${encodeURIComponent(JSON.stringify({q: "😀"}))}`, `?input=${encodeURIComponent(JSON.stringify({cursor: "a\u0000b"}))}`, `?input=${encodeURIComponent(JSON.stringify({cursor: "😀"}))}`, `?input=${encodeURIComponent(JSON.stringify({q: "a".repeat(5000)}))}`]) {
    const r = await admin.fetch("/api/v1/trpc/admin.users.list" + q);
    console.log(q.slice(0, 60), r.status, (await r.text()).slice(0, 300));
  }
  const r = await admin.fetch("/api/v1/trpc/admin.users.list?input=" + encodeURIComponent(JSON.stringify({q: "a".repeat(1_000_000)})));
  console.log("1mb", r.status, [...r.headers], JSON.stringify(await r.text()));
});
