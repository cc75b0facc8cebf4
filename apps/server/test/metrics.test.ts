import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { procedureLabels } from "../src/metrics";
import { metricsEnv, scrapeMetrics } from "./support/metrics";
import { createUser, signIn, startTestServer, type TestServer } from "./support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: metricsEnv });
});
afterAll(() => t.close());

describe("/metrics", () => {
  it("exposes request durations by tRPC procedure and route, bytes moved, and process metrics", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    await client.query("auth.me");
    const form = new FormData();
    form.append("file", new Blob(["twelve bytes"]), "m.txt");
    const upload = (await (await client.fetch("/api/v1/files", { method: "POST", body: form })).json()) as {
      items: { id: string }[];
    };
    await (await client.fetch(`/api/v1/files/${upload.items[0]!.id}/content`)).arrayBuffer();

    const text = await scrapeMetrics(t.url);
    expect(text).toMatch(
      /notebox_http_request_duration_seconds_count\{method="GET",route="trpc:auth\.me",status="200"\} 1/,
    );
    expect(text).toMatch(
      /notebox_http_request_duration_seconds_count\{method="POST",route="trpc:auth\.login",status="200"\} 1/,
    );
    expect(text).toMatch(/route="\/api\/v1\/files\/:id\/content"/);
    expect(text).toMatch(/notebox_file_bytes_uploaded_total 12/);
    expect(text).toMatch(/notebox_file_bytes_downloaded_total 12/);
    expect(text).toMatch(/notebox_process_resident_memory_bytes \d+/);
    expect(text).not.toMatch(/notebox_session=|password/i);
  });
});

describe("procedureLabels", () => {
  it("answers a path the same whether it was asked before or not, a batch apart from one call", () => {
    for (let round = 0; round < 2; round++) {
      expect(procedureLabels("notes.get", false)).toEqual(["trpc:notes.get"]);
      expect(procedureLabels("notes.get%2Cauth.me", true)).toEqual(["trpc:notes.get", "trpc:auth.me"]);
      // The same text, as one call: a name no procedure has.
      expect(procedureLabels("notes.get%2Cauth.me", false)).toEqual(["trpc:unknown"]);
      expect(procedureLabels("auth.me,auth.me", true)).toEqual(["trpc:auth.me"]);
      expect(procedureLabels("nope", false)).toEqual(["trpc:unknown"]);
      expect(procedureLabels("%E0%A4%A", false)).toEqual(["trpc:unknown"]);
    }
  });
});
