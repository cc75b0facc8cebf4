// The file store running out of space: an upload that does not fit fails cleanly, leaves no row
// and no temporary behind, earlier files stay intact, and the server carries on. The store is a
// tiny tmpfs (mounting needs root, as in CI; elsewhere the test is skipped). Runs once, in the
// SQLite project.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { missing, testDb } from "../support/env";
import {
  download,
  eventually,
  KiB,
  MiB,
  sha256,
  uploadOne,
  uploadRaw,
  type FileRecord,
  type Page,
} from "../support/files";
import { startServerProcess, type ServerProcess } from "../support/process";
import { createAdminWithCli, signInTo } from "../support/services";

const run = promisify(execFile);
const STORE_SIZE = 2 * MiB;

describe.runIf(testDb === "sqlite")("storage out of space", () => {
  let dir: string | undefined;
  let storeDir: string;
  let mountError: string | null = null;
  let server: ServerProcess | undefined;
  let client: TestClient;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "notebox-full-"));
    storeDir = path.join(dir, "store");
    await mkdir(storeDir);
    try {
      await run("mount", ["-t", "tmpfs", "-o", `size=${STORE_SIZE},mode=0700`, "tmpfs", storeDir]);
    } catch (error) {
      mountError = `cannot mount a ${STORE_SIZE / MiB} MiB tmpfs (needs root): ${String(error).split("\n")[0]}`;
      return;
    }
    const env = { DATA_DIR: path.join(dir, "data"), STORAGE_URL: `file:${storeDir}` };
    await createAdminWithCli(env);
    server = await startServerProcess(env);
    client = await signInTo(server);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) {
      if (!mountError) await run("umount", [storeDir]).catch(() => run("umount", ["-l", storeDir]));
      await rm(dir, { recursive: true, force: true });
    }
  });

  const temporaries = () => readdir(path.join(storeDir, ".tmp")).catch(() => [] as string[]);

  /** The answer to the upload that does not fit, kept for the test of its status. */
  let refused: { status: number; body: string } | undefined;

  it("refuses an upload that does not fit, keeps earlier files, and leaves nothing behind", async (ctx) => {
    if (mountError || !server) return missing(ctx, mountError ?? "the server did not start");
    const notebox = server;

    const kept = randomBytes(256 * KiB);
    const first = await uploadOne(client, "kept.bin", kept);

    const res = await uploadRaw(client, [{ name: "too-big.bin", bytes: randomBytes(STORE_SIZE + MiB) }]);
    refused = { status: res.status, body: (await res.text()).slice(0, 500) };
    console.info("storage full:", JSON.stringify(refused));
    // An error in the API's JSON shape, with no internals (errno, paths, stack) in it.
    expect(refused.status, refused.body).toBeGreaterThanOrEqual(400);
    expect((JSON.parse(refused.body) as { error: { code: string } }).error.code).toEqual(expect.any(String));
    expect(refused.body).not.toMatch(/ENOSPC|no space|\/tmp|at .*\.ts/i);

    const list = await client.query<Page<FileRecord>>("files.list");
    expect(list.status).toBe(200);
    expect(list.data.items.map((f) => f.name)).toEqual(["kept.bin"]);
    const again = await download(client, first.id);
    expect(again.res.status).toBe(200);
    expect(sha256(again.bytes)).toBe(sha256(kept));
    await eventually(async () => expect(await temporaries()).toEqual([]));
    // Only the kept file's bytes remain: the space the failed upload took is free again.
    const stored = (await readdir(storeDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    expect(stored.map((e) => e.name)).toEqual([first.id]);

    expect(notebox.alive(), notebox.stderr().slice(0, 2000)).toBe(true);
    expect((await fetch(`${notebox.url}/readyz`)).status).toBe(200);
    const small = await uploadOne(client, "after.txt", "room for this\n");
    expect((await download(client, small.id)).bytes.toString()).toBe("room for this\n");
  });

  // Not the person's fault, so not a 4xx: the server is out of space, and says so.
  it("says the server is out of space rather than blaming the request", (ctx) => {
    if (!refused) return missing(ctx, mountError ?? "the upload did not run");
    expect(refused.status, refused.body).toBe(503);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "SERVICE_UNAVAILABLE", reason: "storage_full" } });
  });
});
