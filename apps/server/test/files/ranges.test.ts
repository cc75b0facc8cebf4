// Ranged and conditional downloads (RFC 9110 §13, §14): single byte ranges answer 206 with the
// exact bytes, unsatisfiable ones 416 with `bytes */size`, the ETag is the quoted sha256 and
// If-None-Match with it answers 304; HEAD answers the headers without a body.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import {
  download,
  drivers,
  sha256,
  startFilesServer,
  uploadOne,
  type FileRecord,
  type FilesServer,
} from "../support/files";
import { createUser, signIn } from "../support/server";

const SIZE = 10_000;

describe.each(drivers)("ranged downloads (%s storage)", (driver) => {
  let t: FilesServer;
  let a: TestClient;
  let bytes: Buffer;
  let file: FileRecord;
  let etag: string;

  beforeAll(async () => {
    t = await startFilesServer(driver);
    a = await signIn(t, (await createUser(t)).account);
    bytes = randomBytes(SIZE);
    file = await uploadOne(a, "ranged.bin", bytes);
    etag = `"${sha256(bytes)}"`;
  });
  afterAll(() => t?.close());

  describe("satisfiable ranges", () => {
    // [header, first byte, last byte]
    const ranges: [string, number, number][] = [
      ["bytes=0-99", 0, 99],
      ["bytes=1000-1999", 1000, 1999],
      ["bytes=-500", SIZE - 500, SIZE - 1],
      ["bytes=500-", 500, SIZE - 1],
      ["bytes=0-0", 0, 0],
      ["bytes=9999-9999", SIZE - 1, SIZE - 1],
      ["bytes=9000-999999", 9000, SIZE - 1],
      ["bytes=-999999", 0, SIZE - 1],
      [" bytes=10-19 ", 10, 19],
    ];
    it.each(ranges)("answers %s with 206 and exactly those bytes", async (range, start, end) => {
      const { res, bytes: got } = await download(a, file.id, { headers: { range } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes ${start}-${end}/${SIZE}`);
      expect(res.headers.get("content-length")).toBe(String(end - start + 1));
      expect(res.headers.get("etag")).toBe(etag);
      expect(res.headers.get("accept-ranges")).toBe("bytes");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(got.length).toBe(end - start + 1);
      expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
    });

    it("reassembles the whole file from consecutive ranges", async () => {
      const pieces: Buffer[] = [];
      for (let start = 0; start < SIZE; start += 3000) {
        const { res, bytes: got } = await download(a, file.id, {
          headers: { range: `bytes=${start}-${start + 2999}` },
        });
        expect(res.status).toBe(206);
        pieces.push(got);
      }
      expect(sha256(Buffer.concat(pieces))).toBe(file.sha256);
    });
  });

  describe("unsatisfiable ranges", () => {
    it.each(["bytes=999999999-", `bytes=${SIZE}-`, `bytes=${SIZE}-${SIZE + 10}`, "bytes=-0"])(
      "answers %s with 416 and Content-Range bytes */size",
      async (range) => {
        const { res, bytes: got } = await download(a, file.id, { headers: { range } });
        expect(res.status).toBe(416);
        expect(res.headers.get("content-range")).toBe(`bytes */${SIZE}`);
        expect(got.length).toBe(0);
      },
    );

    it("answers any range of an empty file with 416 bytes */0", async () => {
      const empty = await uploadOne(a, "empty.bin", new Uint8Array(0));
      const { res } = await download(a, empty.id, { headers: { range: "bytes=0-0" } });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe("bytes */0");
    });
  });

  describe("ranges served whole", () => {
    // A range header that is not one valid byte range is ignored (RFC 9110 §14.2), not an error.
    it.each(["bytes=abc", "items=0-9", "bytes=0-1,5-6", "bytes=20-10", "bytes=-", ""])(
      "answers %j with the whole file",
      async (range) => {
        const { res, bytes: got } = await download(a, file.id, { headers: range ? { range } : {} });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-range")).toBeNull();
        expect(res.headers.get("content-length")).toBe(String(SIZE));
        expect(got.equals(bytes)).toBe(true);
      },
    );
  });

  describe("ETag and If-None-Match", () => {
    it("labels the content with the quoted sha256", async () => {
      const { res } = await download(a, file.id);
      expect(res.headers.get("etag")).toBe(`"${file.sha256}"`);
      expect(res.headers.get("last-modified")).toBe(new Date(file.createdAt).toUTCString());
    });

    it.each([
      ["the ETag", (e: string) => e],
      ["the weak form of the ETag", (e: string) => `W/${e}`],
      ["a list holding the ETag", (e: string) => `"something-else", ${e}`],
    ])("answers If-None-Match with %s with 304 and no body", async (_label, header) => {
      const { res, bytes: got } = await download(a, file.id, { headers: { "if-none-match": header(etag) } });
      expect(res.status).toBe(304);
      expect(res.headers.get("etag")).toBe(etag);
      expect(got.length).toBe(0);
    });

    it("answers 304 before looking at a Range", async () => {
      const { res } = await download(a, file.id, { headers: { "if-none-match": etag, range: "bytes=0-9" } });
      expect(res.status).toBe(304);
    });

    it("sends the bytes when the ETag does not match", async () => {
      const { res, bytes: got } = await download(a, file.id, { headers: { "if-none-match": `"${"0".repeat(64)}"` } });
      expect(res.status).toBe(200);
      expect(got.equals(bytes)).toBe(true);
    });
  });

  describe("HEAD", () => {
    it("answers with the headers of a GET and no body", async () => {
      const { res: get } = await download(a, file.id);
      const { res, bytes: got } = await download(a, file.id, { method: "HEAD" });
      expect(res.status).toBe(200);
      expect(got.length).toBe(0);
      for (const name of [
        "content-length",
        "content-type",
        "etag",
        "accept-ranges",
        "content-disposition",
        "x-content-type-options",
      ]) {
        expect(res.headers.get(name), name).toBe(get.headers.get(name));
      }
      expect(res.headers.get("content-length")).toBe(String(SIZE));
    });

    it("answers a ranged HEAD with 206 and the Content-Range, and no body", async () => {
      const { res, bytes: got } = await download(a, file.id, { method: "HEAD", headers: { range: "bytes=100-199" } });
      expect(res.status).toBe(206);
      expect(res.headers.get("content-range")).toBe(`bytes 100-199/${SIZE}`);
      expect(res.headers.get("content-length")).toBe("100");
      expect(got.length).toBe(0);
    });

    it("answers HEAD with If-None-Match with 304", async () => {
      const { res } = await download(a, file.id, { method: "HEAD", headers: { "if-none-match": etag } });
      expect(res.status).toBe(304);
    });
  });
});
