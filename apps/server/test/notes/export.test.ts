import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { crc32, inflateRawSync } from "node:zlib";
import ExcelJS from "exceljs";
import { newId, QueryTypes } from "@notebox/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { isCi, sofficePath, testDb } from "../support/env";
import { createUser, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

interface Expected {
  id: string;
  title: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  tags: string[];
}

/** Formulas behind white space a spreadsheet may trim first. */
const leadingSpaceAttacks: { title: string; description: string }[] = [
  { title: " =1+1", description: "\u00a0+SUM(1)" },
  { title: "\u3000-1+1", description: "\n@SUM(1)" },
  { title: '\r\n=HYPERLINK("http://evil.test","click")', description: "  \t =1+1" },
];

/** Texts a spreadsheet would run as formulas, and texts that are hard to quote. */
const tricky: { title: string; description: string }[] = [
  { title: "=cmd|' /C calc'!A0", description: "+1" },
  { title: "+1", description: "-1" },
  { title: "-1", description: "@SUM(1)" },
  { title: "@SUM(1)", description: '=HYPERLINK("http://evil.test","click")' },
  { title: "\tx", description: "\rx" },
  { title: "\rx", description: "\tx" },
  { title: 'Commas, "quotes" and lines', description: 'line 1\r\nline 2\nline 3, "quoted"\r\n' },
  { title: "Café crème 😀", description: "Ünïcödé — naïve façade 🎉 日本語" },
  { title: "  spaces around  ", description: "_x000D_ is literal, _x005F\r too; a\rlone CR" },
  { title: "Empty text", description: "" },
  { title: "Markdown", description: "# Heading\n\n- item *one*\n- item `two`\n\n| a | b |\n|---|---|" },
  { title: "<b>Markup</b> & &amp; entities", description: "a < b > c && ]]> <![CDATA[ x ]]> </t></is></c>" },
  // White space (ASCII, no-break, ideographic) before the formula, and fullwidth ＝ ＋ － ＠.
  ...leadingSpaceAttacks,
  { title: '\uff1dHYPERLINK("http://evil.test","click")', description: "\uff0b1+1" },
  { title: "\uff0d1+1", description: "\uff20SUM(1)" },
  { title: " \u3000\uff1d1+1", description: "\t\uff0b1" },
];

/**
 * The test's own statement of the rule: after any leading white space, control or format
 * characters, text whose first character folds (NFKC) to = + - @; or a leading tab or CR.
 */
const runsAsFormula = (text: string) =>
  /^[=+\-@]/.test(text.replace(/^[\s\p{Cc}\p{Cf}]+/u, "").normalize("NFKC")) || /^[\t\r]/.test(text);
const escaped = (text: string) => (runsAsFormula(text) ? `'${text}` : text);

/** Newest edit first, then the larger id: the documented order. */
const byExportOrder = (a: Pick<Expected, "id" | "updatedAt">, b: Pick<Expected, "id" | "updatedAt">) =>
  b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * A user with the tricky notes (two of them edited at the same instant, to check the id
 * tie-break), one note in the trash, and a second user with notes of their own.
 */
async function seedNotes() {
  const owner = await createUser(t);
  const other = await createUser(t);
  const base = Date.UTC(2026, 0, 15, 9, 30, 0, 123);
  // Every note has a tag (a spreadsheet drops trailing empty cells); the first one a formula-like one.
  const tagsOf = (i: number) => (i === 0 ? ["=1+1", "Work"] : [`tag ${i}`]);
  const rows = tricky.map((note, i) => ({
    id: newId(),
    ownerId: owner.user.id,
    title: note.title,
    description: note.description,
    tags: JSON.stringify(tagsOf(i)),
    createdAt: new Date(base - 86_400_000 - i * 1000),
    updatedAt: new Date(base - (i === 1 ? 0 : i) * 60_000),
  }));
  await t.models.Note.bulkCreate(rows);
  await t.models.Note.create({
    id: newId(),
    ownerId: owner.user.id,
    title: "In the trash",
    description: "deleted",
    createdAt: new Date(base),
    updatedAt: new Date(base + 1000),
    deletedAt: new Date(base + 2000),
  });
  await t.models.Note.create({
    id: newId(),
    ownerId: other.user.id,
    title: "Someone else's",
    description: "private",
    createdAt: new Date(base),
    updatedAt: new Date(base + 5000),
  });
  const expected: Expected[] = rows.map(({ id, title, description, createdAt, updatedAt }, i) => ({
    id,
    title,
    description,
    createdAt,
    updatedAt,
    tags: tagsOf(i),
  }));
  expected.sort(byExportOrder);
  return { client: await signIn(t, owner.account), expected };
}

/**
 * RFC 4180, strictly: records end with CRLF, a quote may only open a field, and inside quotes a
 * doubled quote is one quote and CR/LF are data.
 */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else {
        quoted = false;
        wasQuoted = true;
      }
    } else if (ch === '"') {
      if (field !== "" || wasQuoted) throw new Error(`quote inside a field at ${i}`);
      quoted = true;
    } else if (ch === ",") {
      record.push(field);
      field = "";
      wasQuoted = false;
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      wasQuoted = false;
      i++;
    } else if (ch === "\r" || ch === "\n") {
      throw new Error(`bare line break outside quotes at ${i}`);
    } else {
      if (wasQuoted) throw new Error(`text after a closing quote at ${i}`);
      field += ch;
    }
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || record.length) throw new Error("last record does not end with CRLF");
  return records;
}

async function download(client: TestClient, format?: string) {
  const res = await client.fetch(`/api/v1/notes/export${format === undefined ? "" : `?format=${format}`}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body };
}

async function readXlsx(body: Buffer) {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(body as unknown as ExcelJS.Buffer);
  const sheet = workbook.worksheets[0]!;
  return { workbook, sheet };
}

/**
 * The zip's entries as its central directory lists them, each checked against its local header,
 * its size and its CRC-32 (ExcelJS's reader checks none of these; Excel does).
 */
function zipEntries(zip: Buffer): Map<string, Buffer> {
  const entries = new Map<string, Buffer>();
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(end).toBe(zip.length - 22);
  let at = zip.readUInt32LE(end + 16);
  expect(at + zip.readUInt32LE(end + 12)).toBe(end);
  for (let n = zip.readUInt16LE(end + 10); n > 0; n--) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const [method, crc, compressed, size, nameLength, local] = [
      zip.readUInt16LE(at + 10),
      zip.readUInt32LE(at + 16),
      zip.readUInt32LE(at + 20),
      zip.readUInt32LE(at + 24),
      zip.readUInt16LE(at + 28),
      zip.readUInt32LE(at + 42),
    ];
    const name = zip.toString("utf8", at + 46, at + 46 + nameLength);
    expect(zip.readUInt32LE(local), name).toBe(0x04034b50);
    expect(zip.toString("utf8", local + 30, local + 30 + nameLength), name).toBe(name);
    const start = local + 30 + nameLength + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    const data = method === 8 ? inflateRawSync(raw) : raw;
    expect(data.length, name).toBe(size);
    expect(crc32(data), name).toBe(crc);
    entries.set(name, data);
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}

/** Every cell of the sheet, for the checks that must hold everywhere. */
function allCells(sheet: ExcelJS.Worksheet): ExcelJS.Cell[] {
  const cells: ExcelJS.Cell[] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => row.eachCell({ includeEmpty: true }, (cell) => cells.push(cell)));
  return cells;
}

const isoDay = new Date().toISOString().slice(0, 10);

describe("notes export", () => {
  it("refuses a signed-out caller with 401", async () => {
    const res = await t.client().fetch("/api/v1/notes/export?format=csv");
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("UNAUTHORIZED");
    expect(body.error.message).toBeTruthy();
  });

  it("refuses an unknown format with 400 naming the formats", async () => {
    const client = await signIn(t, (await createUser(t)).account);
    for (const format of ["pdf", "", "xlsx%00", "../csv"]) {
      const res = await client.fetch(`/api/v1/notes/export?format=${format}`);
      expect(res.status, format).toBe(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("BAD_REQUEST");
      for (const name of ["xlsx", "csv", "json"]) expect(body.error.message).toContain(name);
    }
  });

  it("csv: only the caller's notes outside the trash, in order, RFC 4180 with a BOM and formula escapes", async () => {
    const { client, expected } = await seedNotes();
    const { res, body } = await download(client, "csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="notebox-notes-${isoDay}.csv"; filename*=UTF-8''notebox-notes-${isoDay}.csv`,
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toBe("no-store");

    expect([...body.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const records = parseCsv(body.subarray(3).toString("utf8"));
    expect(records[0]).toEqual(["Title", "Text", "Created", "Updated", "Id", "Tags"]);
    expect(records.slice(1)).toEqual(
      expected.map((n) => [
        escaped(n.title),
        escaped(n.description),
        n.createdAt.toISOString(),
        n.updatedAt.toISOString(),
        n.id,
        escaped(n.tags.join(", ")),
      ]),
    );
    expect(records.slice(1).map((r) => r[5])).toContain("'=1+1, Work");
    const titles = records.slice(1).map((r) => r[0]);
    expect(titles).toContain("'=cmd|' /C calc'!A0");
    expect(titles).toContain("'\rx");
    expect(titles).toContain("'\tx");
    for (const attack of [
      " =1+1",
      "\u3000-1+1",
      '\r\n=HYPERLINK("http://evil.test","click")',
      '\uff1dHYPERLINK("http://evil.test","click")',
    ]) {
      expect(titles).toContain(`'${attack}`);
    }
    const texts = records.slice(1).map((r) => r[1]);
    for (const attack of ["\u00a0+SUM(1)", "\n@SUM(1)", "  \t =1+1", "\uff0b1+1", "\uff20SUM(1)", "\t\uff0b1"])
      expect(texts).toContain(`'${attack}`);
    expect(titles).not.toContain("In the trash");
    expect(titles).not.toContain("Someone else's");
  });

  it("json: the same notes, streamed as an array that round-trips exactly, unescaped", async () => {
    const { client, expected } = await seedNotes();
    const { res, body } = await download(client, "json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain(`filename="notebox-notes-${isoDay}.json"`);
    expect(res.headers.get("content-disposition")).toContain(`filename*=UTF-8''notebox-notes-${isoDay}.json`);
    expect(JSON.parse(body.toString("utf8"))).toEqual(
      expected.map((n) => ({
        id: n.id,
        title: n.title,
        description: n.description,
        createdAt: n.createdAt.toISOString(),
        updatedAt: n.updatedAt.toISOString(),
        tags: n.tags,
        attachments: [],
      })),
    );
  });

  it("answers an HTTP/1.0 client (nginx's default to its upstreams) without chunked framing", async () => {
    const { client, expected } = await seedNotes();
    const { port } = new URL(t.url);
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () =>
        socket.write(
          `GET /api/v1/notes/export?format=csv HTTP/1.0\r\nHost: localhost\r\nCookie: ${client.cookieHeader()}\r\n\r\n`,
        ),
      );
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("end", () => resolve(Buffer.concat(chunks)));
      socket.on("error", reject);
    });
    const split = raw.indexOf("\r\n\r\n");
    const head = raw.subarray(0, split).toString("latin1");
    expect(head).toMatch(/^HTTP\/1\.[01] 200/);
    expect(head.toLowerCase()).not.toContain("transfer-encoding");
    const records = parseCsv(raw.subarray(split + 4 + 3).toString("utf8"));
    expect(records.slice(1).map((r) => r[4])).toEqual(expected.map((n) => n.id));
  });

  it("json: an empty list is an empty array", async () => {
    const { account } = await createUser(t);
    const { body } = await download(await signIn(t, account), "json");
    expect(JSON.parse(body.toString("utf8"))).toEqual([]);
  });

  it("xlsx (the default): bold frozen header, real dates, and no cell is ever a formula", async () => {
    const { client, expected } = await seedNotes();
    const { res, body } = await download(client);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="notebox-notes-${isoDay}.xlsx"; filename*=UTF-8''notebox-notes-${isoDay}.xlsx`,
    );
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");

    const { sheet } = await readXlsx(body);
    expect(sheet.views[0]).toMatchObject({ state: "frozen", ySplit: 1 });
    const header = sheet.getRow(1);
    expect([1, 2, 3, 4, 5, 6].map((i) => header.getCell(i).text)).toEqual([
      "Title",
      "Text",
      "Created",
      "Updated",
      "Id",
      "Tags",
    ]);
    for (let i = 1; i <= 6; i++) expect(header.getCell(i).font?.bold, `header ${i}`).toBe(true);
    expect([1, 2, 3, 4, 5, 6].map((i) => sheet.getColumn(i).width)).toEqual([40, 80, 20, 20, 38, 30]);
    expect(sheet.getRow(2).getCell(2).alignment?.wrapText).toBe(true);

    expect(sheet.actualRowCount).toBe(expected.length + 1);
    expected.forEach((note, i) => {
      const row = sheet.getRow(i + 2);
      expect(row.getCell(1).text, `title of row ${i + 2}`).toBe(escaped(note.title));
      expect(row.getCell(2).text, `text of row ${i + 2}`).toBe(escaped(note.description));
      for (const [col, date] of [
        [3, note.createdAt],
        [4, note.updatedAt],
      ] as const) {
        const cell = row.getCell(col);
        expect(cell.type).toBe(ExcelJS.ValueType.Date);
        expect(cell.numFmt).toMatch(/yyyy-mm-dd hh:mm/);
        expect(Math.abs((cell.value as Date).getTime() - date.getTime())).toBeLessThanOrEqual(1);
      }
      expect(row.getCell(5).text).toBe(note.id);
      expect(row.getCell(6).text).toBe(escaped(note.tags.join(", ")));
    });

    const cells = allCells(sheet);
    expect(cells.length).toBeGreaterThanOrEqual((expected.length + 1) * 6);
    for (const cell of cells) {
      expect(cell.type, cell.address).not.toBe(ExcelJS.ValueType.Formula);
      expect(cell.formula, cell.address).toBeUndefined();
    }
    const titles: string[] = [];
    sheet.eachRow((row) => titles.push(row.getCell(1).text));
    for (const attack of [
      "=cmd|' /C calc'!A0",
      "+1",
      "-1",
      "@SUM(1)",
      "\tx",
      "\rx",
      " =1+1",
      "\u3000-1+1",
      "\uff0d1+1",
      " \u3000\uff1d1+1",
    ]) {
      expect(titles).toContain(`'${attack}`);
    }
  });

  it("xlsx: a sound zip (every part's header, size and CRC-32 check out) of XML parts without raw control characters", async () => {
    const { client } = await seedNotes();
    const parts = zipEntries((await download(client, "xlsx")).body);
    expect([...parts.keys()]).toEqual([
      "[Content_Types].xml",
      "_rels/.rels",
      "docProps/core.xml",
      "xl/workbook.xml",
      "xl/_rels/workbook.xml.rels",
      "xl/styles.xml",
      "xl/worksheets/sheet1.xml",
    ]);
    for (const [name, data] of parts) {
      const xml = data.toString("utf8");
      expect(xml, name).toMatch(/^<\?xml version="1\.0" encoding="UTF-8" standalone="yes"\?>\n<[A-Za-z:]+[ >]/);
      // eslint-disable-next-line no-control-regex -- none of these may reach the XML
      expect(xml, name).not.toMatch(/[\x00-\x08\x0B\x0C\x0E-\x1F\r]/);
    }
    const sheet = parts.get("xl/worksheets/sheet1.xml")!.toString("utf8");
    expect(sheet).not.toContain("<f>");
    expect(sheet.endsWith("</worksheet>")).toBe(true);
  });

  it("xlsx: drops the control characters XML cannot hold, keeps tab, LF, CR and the rest", async () => {
    const { user, account } = await createUser(t);
    const description = "bell\u0007 nul\u0000 tab\t lf\n cr\r esc\u001b del\u007f \ufffe\uffff end";
    await t.models.Note.create({
      id: newId(),
      ownerId: user.id,
      title: "\u0001=1",
      description,
    });
    const body = (await download(await signIn(t, account), "xlsx")).body;
    const { sheet } = await readXlsx(body);
    // What is left after the drop is what the formula check sees.
    expect(sheet.getRow(2).getCell(1).text).toBe("'=1");
    expect(sheet.getRow(2).getCell(2).text).toBe("bell nul tab\t lf\n cr\r esc del\u007f  end");
  });

  it("xlsx: a text longer than an Excel cell is cut with a note; csv keeps all of it", async () => {
    const { user, account } = await createUser(t);
    const long = `${"a".repeat(32_760)}😀${"b".repeat(50_000)}`;
    await t.models.Note.create({
      id: newId(),
      ownerId: user.id,
      title: "Long",
      description: long,
    });
    const client = await signIn(t, account);
    const { sheet } = await readXlsx((await download(client, "xlsx")).body);
    const text = sheet.getRow(2).getCell(2).text;
    expect(text.length).toBeLessThanOrEqual(32_767);
    expect(text.startsWith("a".repeat(1000))).toBe(true);
    expect(text).toContain("32,767 characters");
    expect(text).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    const csv = parseCsv((await download(client, "csv")).body.subarray(3).toString("utf8"));
    expect(csv[1]![1]).toBe(long);
  });
});

/**
 * A sheet as LibreOffice Calc reads it, from Calc's own flat ODF save of the file: per non-empty
 * row, each cell's type, text and date. (That no cell is a formula is checked on the whole save.)
 */
interface CalcCell {
  type: string | null;
  text: string;
  date: string | null;
}

function calcRows(fods: string): CalcCell[][] {
  const attribute = (tag: string, name: string) => {
    const m = new RegExp(`${name}="([^"]*)"`).exec(tag);
    return m ? unescapeXml(m[1]!) : null;
  };
  const table = fods.slice(fods.indexOf("<table:table "), fods.indexOf("</table:table>"));
  const rows: CalcCell[][] = [];
  for (const [, row] of table.matchAll(/<table:table-row\b[^>]*>([\s\S]*?)<\/table:table-row>/g)) {
    const cells: CalcCell[] = [];
    for (const [, tag, content] of row!.matchAll(
      /(<table:table-cell\b[^>]*?)(?:\/>|>([\s\S]*?)<\/table:table-cell>)/g,
    )) {
      if (content === undefined) {
        // Empty cells; a run as wide as the sheet is the rest of the row.
        const repeated = Number(attribute(tag!, "table:number-columns-repeated") ?? 1);
        if (repeated < 1000) for (let k = 0; k < repeated; k++) cells.push({ type: null, text: "", date: null });
        continue;
      }
      const paragraphs = [...content.matchAll(/<text:p>([\s\S]*?)<\/text:p>|<text:p\/>/g)].map(([, p]) =>
        unescapeXml(
          (p ?? "")
            .replace(/<text:tab\/>/g, "\t")
            .replace(/<text:line-break\/>/g, "\n")
            .replace(/<text:s text:c="(\d+)"\/>/g, (_, n: string) => " ".repeat(Number(n)))
            .replace(/<text:s\/>/g, " ")
            .replace(/<[^>]+>/g, ""),
        ),
      );
      cells.push({
        type: attribute(tag!, "office:value-type"),
        text: attribute(tag!, "office:string-value") ?? paragraphs.join("\n"),
        date: attribute(tag!, "office:date-value"),
      });
    }
    if (cells.length) rows.push(cells);
  }
  return rows;
}

const unescapeXml = (text: string) =>
  text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, e: string) =>
    e[0] === "#"
      ? String.fromCodePoint(e[1] === "x" ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
      : { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" }[e]!,
  );

const calcAvailable = existsSync(sofficePath);
if (!calcAvailable && isCi)
  throw new Error(
    `LibreOffice not found at ${sofficePath}: CI must open the xlsx export in Calc (apt-get install libreoffice-calc-nogui).`,
  );

/**
 * Calc's flat ODF save of `file` (an export written to a directory of its own). A profile of its
 * own, so that runs side by side do not share (and lock) one.
 */
async function openInCalc(dir: string, file: string, infilter?: string): Promise<string> {
  await promisify(execFile)(
    sofficePath,
    [
      `-env:UserInstallation=${pathToFileURL(join(dir, "profile")).href}`,
      "--headless",
      ...(infilter ? [`--infilter=${infilter}`] : []),
      "--convert-to",
      "fods",
      "--outdir",
      dir,
      join(dir, file),
    ],
    { timeout: 100_000 },
  );
  return readFile(join(dir, file.replace(/\.\w+$/, ".fods")), "utf8");
}

/**
 * Calc's CSV import: comma, double quote, UTF-8, from line 1, standard column types, and
 * "Evaluate formulas" on (token 13), so that a formula in the file would become one.
 */
const CSV_IMPORT = "CSV:44,34,76,1,,0,false,false,false,false,false,-1,true";

describe.skipIf(!calcAvailable)("the exports in LibreOffice Calc", () => {
  it(
    "xlsx opens as written: every text as text (formula-like ones escaped), dates as dates, no formula",
    { timeout: 120_000 },
    async () => {
      const { client, expected } = await seedNotes();
      const dir = await mkdtemp(join(tmpdir(), "notebox-calc-"));
      try {
        await writeFile(join(dir, "notes.xlsx"), (await download(client, "xlsx")).body);
        const fods = await openInCalc(dir, "notes.xlsx");
        expect(fods).not.toContain("table:formula");
        const rows = calcRows(fods);
        expect(rows.map((r) => r.length)).toEqual(new Array(expected.length + 1).fill(6));
        expect(rows[0]!.map((c) => [c.type, c.text])).toEqual(
          ["Title", "Text", "Created", "Updated", "Id", "Tags"].map((h) => ["string", h]),
        );
        expected.forEach((note, i) => {
          const [title, text, created, updated, id, tags] = rows[i + 1]!;
          expect(tags!.text).toBe(asCalcShows(escaped(note.tags.join(", "))));
          // Calc saves an empty text as an empty cell.
          expect([title!.type, text!.type, id!.type]).toEqual([
            "string",
            note.description === "" ? null : "string",
            "string",
          ]);
          expect(title!.text, `title of row ${i + 2}`).toBe(asCalcShows(escaped(note.title)));
          expect(text!.text, `text of row ${i + 2}`).toBe(asCalcShows(escaped(note.description)));
          expect(id!.text).toBe(note.id);
          for (const [cell, date] of [
            [created!, note.createdAt],
            [updated!, note.updatedAt],
          ] as const) {
            expect(cell.type).toBe("date");
            // Calc keeps hundredths of a second.
            expect(Math.abs(new Date(`${cell.date}Z`).getTime() - date.getTime())).toBeLessThan(10);
            expect(cell.text).toBe(date.toISOString().slice(0, 16).replace("T", " "));
          }
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    "csv opens with formulas evaluated and still holds none: every formula-like text reads as the escaped text",
    { timeout: 120_000 },
    async () => {
      const { client, expected } = await seedNotes();
      const dir = await mkdtemp(join(tmpdir(), "notebox-calc-"));
      try {
        const { body } = await download(client, "csv");
        // The check can fail: the same import turns an unescaped formula into one.
        await writeFile(join(dir, "control.csv"), "Title\r\n=1+1\r\n");
        expect(await openInCalc(dir, "control.csv", CSV_IMPORT)).toContain('table:formula="of:=1+1"');

        await writeFile(join(dir, "notes.csv"), body);
        const fods = await openInCalc(dir, "notes.csv", CSV_IMPORT);
        expect(fods).not.toContain("table:formula");
        const rows = calcRows(fods);
        expect(rows).toHaveLength(expected.length + 1);
        expected.forEach((note, i) => {
          const [title, text, , , id] = rows[i + 1]!;
          expect(title!.type, `title of row ${i + 2}`).toBe("string");
          expect(title!.text, `title of row ${i + 2}`).toBe(asCalcShowsCsv(escaped(note.title)));
          if (note.description !== "") expect(text!.type, `text of row ${i + 2}`).toBe("string");
          expect(text!.text, `text of row ${i + 2}`).toBe(asCalcShowsCsv(escaped(note.description)));
          expect(id!.text).toBe(note.id);
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

/** Calc's CSV import reads CR, LF and CRLF inside a quoted field each as one line break. */
const asCalcShowsCsv = (text: string) => text.replace(/\r\n?/g, "\n");

/** Calc reads a CRLF inside a cell as one line break. */
const asCalcShows = (text: string) => text.replace(/\r\n/g, "\n");

describe("a large export", () => {
  const total = 5000;
  let client: TestClient;
  let expectedIds: string[];

  beforeAll(async () => {
    const { user, account } = await createUser(t);
    const base = Date.UTC(2026, 5, 1);
    const rows = Array.from({ length: total }, (_, i) => ({
      id: newId(),
      ownerId: user.id,
      title: `Note ${i}`,
      description: `Text of note ${i}, with a comma and "quotes".\n${"lorem ipsum ".repeat(25)}`,
      createdAt: new Date(base - i * 1000),
      // Runs of seven notes share an instant, so the keyset cursor must break ties by id across
      // batch boundaries.
      updatedAt: new Date(base - Math.floor(i / 7) * 1000),
    }));
    for (let i = 0; i < rows.length; i += 500) await t.models.Note.bulkCreate(rows.slice(i, i + 500));
    expectedIds = rows
      .map((r) => ({ ...r }))
      .sort(byExportOrder)
      .map((r) => r.id);
    client = await signIn(t, account);
  });

  it("returns every row, in order, in each format", async () => {
    const csv = parseCsv((await download(client, "csv")).body.subarray(3).toString("utf8"));
    expect(csv.length).toBe(total + 1);
    expect(csv.slice(1).map((r) => r[4])).toEqual(expectedIds);

    const json = JSON.parse((await download(client, "json")).body.toString("utf8")) as { id: string }[];
    expect(json.map((n) => n.id)).toEqual(expectedIds);

    const { sheet } = await readXlsx((await download(client, "xlsx")).body);
    expect(sheet.actualRowCount).toBe(total + 1);
    const ids: string[] = [];
    sheet.eachRow((row, n) => n > 1 && ids.push(row.getCell(5).text));
    expect(ids).toEqual(expectedIds);
  });

  it("survives a client that hangs up part-way", async () => {
    for (const format of ["csv", "xlsx"]) {
      const res = await client.fetch(`/api/v1/notes/export?format=${format}`);
      const reader = res.body!.getReader();
      await reader.read();
      await reader.cancel();
    }
    expect((await t.client().fetch("/healthz")).status).toBe(200);
    const again = await download(client, "csv");
    expect(parseCsv(again.body.subarray(3).toString("utf8")).length).toBe(total + 1);
  });

  // Only SQLite stores a date that cannot be read back, which makes the failure land mid-stream.
  it.skipIf(testDb !== "sqlite")(
    "cuts the download off, visibly, when a batch fails part-way, and keeps serving",
    async () => {
      const { user, account } = await createUser(t);
      const rows = Array.from({ length: 1500 }, (_, i) => ({
        id: newId(),
        ownerId: user.id,
        title: `Note ${i}`,
        description: "text",
        createdAt: new Date(Date.UTC(2026, 1, 1) - i * 1000),
        updatedAt: new Date(Date.UTC(2026, 1, 1) - i * 1000),
      }));
      await t.models.Note.bulkCreate(rows);
      // The oldest note, so it is in a later batch, long after the headers went out.
      await t.models.Note.sequelize!.query("UPDATE notes SET created_at = 'not a date' WHERE id = :id", {
        replacements: { id: rows[rows.length - 1]!.id },
        type: QueryTypes.UPDATE,
      });
      const broken = await signIn(t, account);
      for (const format of ["csv", "xlsx"]) {
        const res = await broken.fetch(`/api/v1/notes/export?format=${format}`);
        expect(res.status, format).toBe(200);
        await expect(res.arrayBuffer(), format).rejects.toThrow();
      }
      expect((await t.client().fetch("/healthz")).status).toBe(200);
      expect(parseCsv((await download(client, "csv")).body.subarray(3).toString("utf8")).length).toBe(total + 1);
    },
  );
});
