// A file's name is only a label: hostile names (paths, control characters, header injection,
// over-long, empty) are cleaned, never used as a storage key, and always sent back correctly
// encoded. files.rename cleans the same way.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import {
  download,
  drivers,
  encodedNamePart,
  multipartBody,
  parseDisposition,
  startFilesServerSignedIn,
  uploadMultipart,
  uploadOne,
  type FileRecord,
  type FilesServer,
} from "../support/files";

const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8");
/** True when the string survives UTF-8 (no lone surrogate halves from a cut emoji). */
const wellFormed = (s: string) => Buffer.from(s, "utf8").toString("utf8") === s;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

// [label, name sent, how it travels, what the stored name must satisfy]
// "form" is a browser's FormData (which itself writes CR, LF and `"` as %0D, %0A, %22);
// "rfc5987" is `filename*=UTF-8''...`, which carries any character to the server as is.
type Check = string | ((name: string) => void);
const cases: [string, string, "form" | "rfc5987", Check][] = [
  ["a relative path", "../../etc/passwd", "form", "passwd"],
  ["a relative path, encoded", "../../etc/passwd", "rfc5987", "passwd"],
  ["an absolute path", "/etc/shadow", "rfc5987", "shadow"],
  ["a Windows path", "..\\..\\Windows\\system.ini", "rfc5987", "system.ini"],
  ["CR LF and a header", "a\r\nSet-Cookie: x=1.txt", "rfc5987", "aSet-Cookie: x=1.txt"],
  ["a NUL byte", "nul\u0000byte.txt", "rfc5987", "nulbyte.txt"],
  ["a right-to-left override", "invoice\u202Efdp.exe", "rfc5987", "invoicefdp.exe"],
  ["tabs and runs of spaces", "  lots\tof   space  .txt ", "rfc5987", "lotsof space .txt"],
  ["dot-dot", "..", "rfc5987", "file"],
  ["dot-dot through FormData", "..", "form", "file"],
  ["a single dot", ".", "rfc5987", "file"],
  ["an empty name", "", "form", "file"],
  [
    "1,000 ASCII characters",
    `${"a".repeat(996)}.txt`,
    "form",
    (name) => {
      expect(utf8Bytes(name)).toBeLessThanOrEqual(255);
      expect(name).toMatch(/^a+….txt$/);
    },
  ],
  [
    "1,000 two-byte characters",
    `${"é".repeat(996)}.pdf`,
    "form",
    (name) => {
      expect(utf8Bytes(name)).toBeLessThanOrEqual(255);
      expect(name).toMatch(/^é+….pdf$/);
    },
  ],
  [
    "400 emoji (1,600 bytes)",
    `${"📄".repeat(400)}.tar.gz`,
    "form",
    (name) => {
      expect(utf8Bytes(name)).toBeLessThanOrEqual(255);
      expect(wellFormed(name)).toBe(true);
      expect(name.endsWith(".gz")).toBe(true);
    },
  ],
];

describe.each(drivers)("file names (%s storage)", (driver) => {
  let t: FilesServer;
  let a: TestClient;
  let ownerId: string;

  beforeAll(async () => {
    ({ t, a, ownerId } = await startFilesServerSignedIn(driver));
  });
  afterAll(() => t?.close());

  async function send(name: string, via: "form" | "rfc5987", bytes = "the contents\n"): Promise<FileRecord> {
    if (via === "form") return uploadOne(a, name, bytes);
    const res = await uploadMultipart(a, multipartBody([encodedNamePart(name, bytes)]));
    const text = await res.text();
    if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${text}`);
    return (JSON.parse(text) as { items: FileRecord[] }).items[0]!;
  }

  /** The name is safe everywhere it appears, and the download carries it back exactly. */
  async function expectSafelyServed(record: FileRecord) {
    const name = record.name;
    expect(name).not.toMatch(CONTROL);
    expect(name).not.toMatch(/[/\\]/);
    expect(name).not.toBe("");
    expect(name).not.toBe("..");
    expect(utf8Bytes(name)).toBeLessThanOrEqual(255);
    expect((await a.query<FileRecord>("files.get", { id: record.id })).data.name).toBe(name);

    const row = await t.models.File.findByPk(record.id);
    expect(row!.name).toBe(name);
    expect(row!.storageKey).toBe(`${ownerId}/${record.id}`);
    expect(await t.storage.stat(row!.storageKey)).not.toBeNull();

    for (const query of ["", "?disposition=inline"]) {
      const { res, bytes } = await download(a, record.id, { query });
      expect(res.status).toBe(200);
      expect(bytes.toString()).toBe("the contents\n");
      const header = res.headers.get("content-disposition");
      expect(header).toMatch(/^[\x20-\x7e]+$/); // printable ASCII: no CR, LF, NUL or raw UTF-8
      const disposition = parseDisposition(header);
      expect(disposition.filenameStar).toBe(name);
      expect(disposition.filename).toMatch(/^[\x20-\x7e]*$/);
      expect(res.headers.getSetCookie()).toEqual([]);
      for (const [key, value] of res.headers) expect(`${key}: ${value}`).not.toMatch(/[\r\n\0]/);
    }
  }

  describe("on upload", () => {
    it.each(cases)("stores %s safely", async (_label, name, via, check) => {
      const record = await send(name, via);
      if (typeof check === "string") expect(record.name).toBe(check);
      else check(record.name);
      await expectSafelyServed(record);
    });

    it("never uses the name in the storage key", async () => {
      const record = await send("../../../../tmp/evil", "rfc5987");
      const row = await t.models.File.findByPk(record.id);
      expect(row!.storageKey).toBe(`${ownerId}/${record.id}`);
      expect(row!.storageKey).not.toContain("evil");
      const rows = await t.models.File.findAll({ where: { ownerId } });
      for (const r of rows) expect(r.storageKey).toBe(`${ownerId}/${r.id}`);
    });

    it("keeps two files with the same name apart", async () => {
      const first = await send("same.txt", "form");
      const second = await send("same.txt", "form", "other contents\n");
      expect(first.id).not.toBe(second.id);
      expect((await download(a, first.id)).bytes.toString()).toBe("the contents\n");
      expect((await download(a, second.id)).bytes.toString()).toBe("other contents\n");
    });
  });

  describe("files.rename", () => {
    let file: FileRecord;
    let storageKey: string;
    beforeAll(async () => {
      file = await send("original.txt", "form");
      storageKey = (await t.models.File.findByPk(file.id))!.storageKey;
    });

    // Blank names get a 400 rather than "file"; NUL is refused by every tRPC text field (below).
    const renames = cases.filter(([, name]) => name.trim() !== "" && !name.includes("\u0000"));
    it.each(renames)("cleans %s like an upload", async (_label, name, _via, check) => {
      const res = await a.mutation<FileRecord>("files.rename", { id: file.id, name });
      expect(res.status).toBe(200);
      if (typeof check === "string") expect(res.data.name).toBe(check);
      else check(res.data.name);
      expect(res.data.id).toBe(file.id);
      expect(res.data.sha256).toBe(file.sha256);
      await expectSafelyServed(res.data);
      // Renaming never moves the bytes.
      expect((await t.models.File.findByPk(file.id))!.storageKey).toBe(storageKey);
    });

    it("keeps a unicode name exactly", async () => {
      const res = await a.mutation<FileRecord>("files.rename", { id: file.id, name: "résumé 📄 最終.pdf" });
      expect(res.data.name).toBe("résumé 📄 最終.pdf");
      await expectSafelyServed(res.data);
    });

    it("refuses an empty or blank name, a NUL byte and a name over 1,000 characters with 400", async () => {
      const before = (await a.query<FileRecord>("files.get", { id: file.id })).data;
      for (const name of ["", "   ", "nul\u0000byte.txt", "x".repeat(1001)]) {
        const res = await a.mutation("files.rename", { id: file.id, name });
        expect(res.status, JSON.stringify(name.slice(0, 20))).toBe(400);
        expect(res.error!.data.code).toBe("BAD_REQUEST");
      }
      expect((await a.query<FileRecord>("files.get", { id: file.id })).data).toEqual(before);
    });
  });
});
