// A client that reads a download slowly, or stops reading, holds the server's reads back instead
// of making it buffer the file (a cheap way to exhaust memory otherwise), and a shutdown waits for
// that download to finish instead of cutting it off.
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import { Transform, pipeline } from "node:stream";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signedIn } from "../support/admin";
import { contentPath, eventually, MiB, uploadOne } from "../support/files";
import { startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** Counts the bytes the server reads from storage for every download from now on. */
function countStorageReads() {
  const storage = t.server.runtime.deps.storage;
  const get = storage.get.bind(storage);
  const counter = { bytes: 0 };
  vi.spyOn(storage, "get").mockImplementation(async (key, range) => {
    const counting = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        counter.bytes += chunk.length;
        done(null, chunk);
      },
    });
    return pipeline(await get(key, range), counting, () => {});
  });
  return counter;
}

/** A GET over node:http whose body the test reads at its own pace. */
function openDownload(path: string, cookie: string) {
  const url = new URL(path, t.url);
  return new Promise<http.IncomingMessage>((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: url.port, path: url.pathname, headers: { cookie } }, resolve)
      .on("error", reject);
  });
}

function readAll(res: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on("data", (chunk: Buffer) => chunks.push(chunk));
    res.on("end", () => resolve(Buffer.concat(chunks)));
    res.on("error", reject);
  });
}

describe("a download to a client that stops reading", () => {
  it("reads no further ahead than the connection holds, and a shutdown waits for the last byte", async () => {
    const size = 40 * MiB;
    const bytes = randomBytes(size);
    const p = await signedIn(t);
    const file = await uploadOne(p.client, "large.bin", bytes);
    const reads = countStorageReads();

    const res = await openDownload(contentPath(file.id), p.client.cookieHeader());
    expect(res.statusCode).toBe(200);
    res.pause();
    // Wait until the server stops reading: the socket buffers are full and nobody drains them.
    let settled = -1;
    await eventually(async () => {
      const before = reads.bytes;
      await sleep(250);
      if (reads.bytes !== before || before === 0) throw new Error(`still reading (${before} bytes)`);
      settled = before;
    }, 10_000);
    // Loopback socket buffers hold a few MiB; without backpressure the whole file would be read.
    expect(settled).toBeLessThan(size / 2);

    // Shutting down now does not cut the download off: it waits while the client is stalled...
    let closed = false;
    const closing = t.server.close().then(() => (closed = true));
    // Longer than the second close() gives connections with nothing in flight before cutting them.
    await sleep(1_500);
    expect(closed).toBe(false);
    // ...and the client, reading again, gets every byte before the server finishes closing.
    const body = await readAll(res.resume());
    expect(body.length).toBe(size);
    expect(sha256(body)).toBe(sha256(bytes));
    // Once it has, the server is not held up any longer (the drain timeout is far longer).
    await Promise.race([closing, sleep(5_000)]);
    expect(closed).toBe(true);
  });
});
