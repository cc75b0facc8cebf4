import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, rm, utimes, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createStorage, pastGrace, type Storage } from "../src";
import { startS3 } from "./s3-server";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

let localDir: string;
let s3: Awaited<ReturnType<typeof startS3>>;
const drivers: Record<string, () => Storage> = {};
beforeAll(async () => {
  localDir = await mkdtemp(path.join(os.tmpdir(), "notebox-files-"));
  s3 = await startS3();
  drivers.file = () => createStorage(`file:${localDir}`);
  drivers.s3 = () => createStorage(s3.url);
});
afterAll(async () => {
  await s3.close();
  await rm(localDir, { recursive: true, force: true });
});

describe.each(["file", "s3"])("%s storage", (kind) => {
  it("stores bytes under a key and reads them back whole and by range", async () => {
    const storage = drivers[kind]!();
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const { size } = await storage.put("user1/file-a", Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect(size).toBe(bytes.length);
    expect(sha(await readAll(await storage.get("user1/file-a")))).toBe(sha(bytes));
    const middle = await readAll(await storage.get("user1/file-a", { start: 100, end: 199 }));
    expect(middle.equals(bytes.subarray(100, 200))).toBe(true);
    expect(await storage.stat("user1/file-a")).toEqual({ size: bytes.length });
    await storage.close();
  });

  it("stores an empty object", async () => {
    const storage = drivers[kind]!();
    await storage.put("user1/empty", Readable.from([Buffer.alloc(0)]));
    expect(await storage.stat("user1/empty")).toEqual({ size: 0 });
    expect((await readAll(await storage.get("user1/empty"))).length).toBe(0);
  });

  it("leaves nothing under the key when the body fails midway", async () => {
    const storage = drivers[kind]!();
    const failing = new Readable({
      read() {
        this.push(randomBytes(64 * 1024));
        this.destroy(new Error("client went away"));
      },
    });
    await expect(storage.put("user1/broken", failing)).rejects.toThrow();
    expect(await storage.stat("user1/broken")).toBeNull();
  });

  it("lists stored objects and deletes them; deleting twice is fine", async () => {
    const storage = drivers[kind]!();
    await storage.put("user2/x", Readable.from(["hello"]));
    const keys: string[] = [];
    for await (const o of storage.list()) keys.push(o.key);
    expect(keys).toContain("user2/x");
    await storage.delete("user2/x");
    await storage.delete("user2/x");
    expect(await storage.stat("user2/x")).toBeNull();
    expect(await storage.ping()).toBe(true);
  });
});

describe("file storage", () => {
  it("refuses keys that would leave its directory", async () => {
    const storage = drivers.file!();
    await expect(storage.put("../escape", Readable.from(["x"]))).rejects.toThrow(/invalid storage key/);
    await expect(storage.get("a/../../etc/passwd")).rejects.toThrow(/invalid storage key/);
  });

  it("sweeps stale temporaries and keeps fresh ones", async () => {
    const storage = drivers.file!();
    const temp = path.join(localDir, ".tmp");
    await mkdir(temp, { recursive: true });
    await writeFile(path.join(temp, "stale"), "x");
    await writeFile(path.join(temp, "fresh"), "y");
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(temp, "stale"), old, old);
    expect(await storage.sweepTemporaries(3600_000)).toBe(1);
    expect(await readdir(temp)).toEqual(["fresh"]);
    const keys: string[] = [];
    for await (const o of storage.list()) keys.push(o.key);
    expect(keys.some((k) => k.startsWith(".tmp"))).toBe(false);
  });

  it("sweeps a temporary written this very millisecond when there is no grace", async () => {
    const storage = drivers.file!();
    const temp = path.join(localDir, ".tmp");
    await mkdir(temp, { recursive: true });
    await writeFile(path.join(temp, "just-now"), "z");
    // An mtime with a fraction past Date.now()'s whole millisecond: still no younger than now.
    const now = new Date(Date.now() + 0.7);
    await utimes(path.join(temp, "just-now"), now, now);
    // The boundary, with the clock held still: a change 0.7 ms into this millisecond is 0 ms old.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(now);
      expect(pastGrace(now.getTime() + 0.7, 0)).toBe(true);
      expect(pastGrace(now.getTime() - 59_999, 60_000)).toBe(false);
      expect(pastGrace(now.getTime() - 60_000, 60_000)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(await storage.sweepTemporaries(0)).toBeGreaterThanOrEqual(1);
    expect(await readdir(temp)).not.toContain("just-now");
  });
});
