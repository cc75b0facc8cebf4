// The database going away under load (DESIGN §5): while MariaDB is stopped, requests fail fast
// with a clean JSON 503 and the process stays up; once it is back, Notebox recovers by itself,
// and every note whose create was acknowledged is there. Runs once, in the SQLite project: it
// brings its own private mariadbd and never touches the shared one.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { missing, testDb } from "../support/env";
import { walkPages, type NoteSummary } from "../support/notes";
import { startServerProcess, type ServerProcess } from "../support/process";
import {
  createAdminWithCli,
  mariaDbAvailable,
  signInTo,
  startLoad,
  startPrivateMariaDb,
  statusesByPhase,
  type PrivateService,
} from "../support/services";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The longest any one request may take while the database is down or coming back. */
const ANSWER_WITHIN_MS = 6_000;

describe.runIf(testDb === "sqlite")("the database stopped and started under load", () => {
  let dataDir: string;
  let mariadb: PrivateService | undefined;
  let server: ServerProcess | undefined;
  let client: TestClient;

  beforeAll(async () => {
    if (!mariaDbAvailable()) return;
    dataDir = await mkdtemp(path.join(os.tmpdir(), "notebox-dbfault-"));
    mariadb = await startPrivateMariaDb();
    const env = { DATA_DIR: dataDir, DATABASE_URL: mariadb.url };
    await createAdminWithCli(env);
    server = await startServerProcess(env);
    client = await signInTo(server);
  });

  afterAll(async () => {
    await server?.stop();
    await mariadb?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("answers 5xx fast while it is down, recovers alone, and keeps every acknowledged note", async (ctx) => {
    if (!mariadb || !server) return missing(ctx, "MariaDB is not installed (mariadbd, mariadb-install-db)");
    const db = mariadb;
    const notebox = server;

    const load = startLoad(3, (n) => ({
      op: "notes.create",
      send: async () => {
        const res = await client.mutation<{ id: string }>("notes.create", {
          title: `steady ${n}`,
          description: "under load",
        });
        return { status: res.status, id: res.status === 200 ? res.data.id : undefined, message: res.error?.message };
      },
    }));

    await sleep(1_000);
    load.phase = "stopping";
    const stoppedAt = performance.now();
    await db.stop("SIGTERM");
    load.phase = "down";
    await sleep(500);
    const readyWhileDown = await fetch(`${notebox.url}/readyz`);
    const readyBody = (await readyWhileDown.json()) as { checks: Record<string, boolean> };
    await sleep(2_000);

    load.phase = "starting";
    await db.start();
    const restartedAt = performance.now();
    load.phase = "back";
    // Recovered: a create sent after the restart has succeeded.
    let recoveredMs: number | null = null;
    while (performance.now() - restartedAt < 15_000) {
      if (load.outcomes.some((o) => o.phase === "back" && o.status === 200)) {
        recoveredMs = Math.round(performance.now() - restartedAt);
        break;
      }
      await sleep(50);
    }
    await sleep(1_000);
    const outcomes = await load.stop();

    const table = statusesByPhase(outcomes);
    const slowest = Math.max(...outcomes.map((o) => o.ms));
    const downMessages = [...new Set(outcomes.filter((o) => o.status >= 500).map((o) => o.message))];
    console.info(
      "database fault:",
      JSON.stringify({
        statusesByPhase: table,
        recoveredMs,
        slowestMs: slowest,
        readyzWhileDown: readyWhileDown.status,
        downMessages,
      }),
    );

    // Every request got an HTTP answer, quickly: no hangs, no dropped connections.
    expect(outcomes.filter((o) => o.status === 0)).toEqual([]);
    expect(slowest).toBeLessThan(ANSWER_WITHIN_MS);
    // Failures are 503 "try again" with a plain message (nothing about the database's internals leaks).
    for (const o of outcomes.filter((x) => x.status !== 200)) {
      expect(o.status, JSON.stringify(o)).toBe(503);
      expect(o.message).not.toMatch(/ECONNREFUSED|Sequelize|mysql|connect /i);
    }
    // Everything answered before the database began to stop succeeded (a request still in flight
    // then may fail); while it was down nothing succeeded.
    const answeredBefore = outcomes.filter((o) => o.sentAt + o.ms < stoppedAt);
    expect(answeredBefore.length).toBeGreaterThan(0);
    expect(answeredBefore.filter((o) => o.status !== 200)).toEqual([]);
    expect(table.down?.[200]).toBeUndefined();
    expect(Object.keys(table.down ?? {}).length).toBeGreaterThan(0);
    expect(recoveredMs, "no create succeeded within 15 s of the database coming back").not.toBeNull();
    const afterRecovery = outcomes.filter((o) => o.phase === "back").slice(-10);
    expect(afterRecovery.map((o) => o.status)).toEqual(afterRecovery.map(() => 200));

    expect(readyWhileDown.status).toBe(503);
    expect(readyBody.checks.database).toBe(false);
    expect(notebox.alive(), notebox.stderr().slice(0, 2000)).toBe(true);
    expect((await fetch(`${notebox.url}/readyz`)).status).toBe(200);

    // Every acknowledged create is stored; nothing else but unacknowledged ones.
    const listed = (await walkPages<NoteSummary>(client, "notes.list", { limit: 100 })).flat().map((n) => n.id);
    const acknowledged = outcomes.filter((o) => o.status === 200).map((o) => o.id!);
    expect(acknowledged.filter((id) => !listed.includes(id))).toEqual([]);
    expect(listed.length).toBeLessThanOrEqual(outcomes.length);
  });
});
