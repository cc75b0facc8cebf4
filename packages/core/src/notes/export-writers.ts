// The three export formats, each turning batches of notes into chunks of the file as they come.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- zip-stream ships no types; the declaration must travel with this file into every project that compiles it
/// <reference path="./zip-stream.d.ts" />
import { Readable } from "node:stream";
import ZipStream from "zip-stream";

/** One note as every format writes it. */
export interface ExportedNote {
  id: string;
  title: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
  /** As first written; CSV and .xlsx join them with ", ". */
  tags: string[];
  /** The note's files in the list (JSON only: a spreadsheet has no use for ids). */
  attachments?: { id: string; name: string }[];
}

/**
 * Text a spreadsheet would run as a formula gets a leading apostrophe (OWASP "CSV injection"),
 * in every format that a spreadsheet opens (CSV and .xlsx): text that starts with `=`, `+`, `-`
 * or `@`, or with a character NFKC folds to one of them (fullwidth `＝＋－＠`, small `﹦﹢﹣﹫`,
 * super- and subscript `⁺⁼₊₌`, `⩵`, `⩶`, `﬩`), after any run of white space (tab, CR, LF, U+00A0,
 * U+3000...), control or invisible format characters, which spreadsheets may trim first; and
 * text that starts with a tab or CR, which some strip before reading the rest.
 */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

const FORMULA_START =
  /^(?:[\s\p{Cc}\p{Cf}]*[=+\-@\u207A\u207C\u208A\u208C\u2A75\u2A76\uFB29\uFE62\uFE63\uFE66\uFE6B\uFF0B\uFF0D\uFF1D\uFF20]|[\t\r])/u;

/** RFC 4180: a field holding a quote, comma, CR or LF is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_HEADER = ["Title", "Text", "Created", "Updated", "Id", "Tags"];

const joinedTags = (tags: string[]) => tags.join(", ");

/** UTF-8 with a byte-order mark so Excel reads accents right; CRLF line ends; ISO 8601 dates. */
export async function* csvChunks(batches: AsyncIterable<ExportedNote[]>): AsyncGenerator<string> {
  yield `\uFEFF${CSV_HEADER.join(",")}\r\n`;
  for await (const notes of batches) {
    let chunk = "";
    for (const note of notes) {
      chunk += [
        csvField(neutralizeFormula(note.title)),
        csvField(neutralizeFormula(note.description)),
        note.createdAt.toISOString(),
        note.updatedAt.toISOString(),
        csvField(neutralizeFormula(note.id)),
        csvField(neutralizeFormula(joinedTags(note.tags))),
      ].join(",");
      chunk += "\r\n";
    }
    yield chunk;
  }
}

/** A JSON array written object by object. It is data, not a spreadsheet: text is left as it is. */
export async function* jsonChunks(batches: AsyncIterable<ExportedNote[]>): AsyncGenerator<string> {
  let separator = "[\n";
  for await (const notes of batches) {
    let chunk = "";
    for (const note of notes) {
      chunk += separator;
      chunk += JSON.stringify({
        id: note.id,
        title: note.title,
        description: note.description,
        createdAt: note.createdAt.toISOString(),
        updatedAt: note.updatedAt.toISOString(),
        tags: note.tags,
        attachments: note.attachments ?? [],
      });
      separator = ",\n";
    }
    yield chunk;
  }
  yield separator === "[\n" ? "[]\n" : "\n]\n";
}

/** Excel refuses longer cells; the CSV and JSON exports have no such limit. */
export const XLSX_CELL_MAX = 32_767;
const CUT_MARK =
  "\n[…] (cut: an Excel cell holds at most 32,767 characters; the CSV and JSON exports have the whole text)";

/** A text cell's value as the sheet holds it: rich-text runs (one: the export does not format text). */
export interface XlsxText {
  richText: { text: string }[];
}

/**
 * The value of a text cell: formula-proof, within Excel's cell limit, without the control
 * characters XML 1.0 cannot hold (tab and LF stay). In the XML, `_xHHHH_` stands for a character
 * (ECMA-376 ST_Xstring): CR is written that way, because XML parsers turn a raw CR into LF, and
 * text that looks like an escape is escaped. XML's own escapes (`&amp;`...) are the writer's job.
 */
export function xlsxText(text: string): XlsxText {
  const special = NOT_PLAIN.test(text);
  // Dropped first, so that the formula check sees the text as a spreadsheet will show it.
  let value = neutralizeFormula(special ? text.replace(NOT_IN_XML, "") : text);
  if (value.length > XLSX_CELL_MAX) {
    let end = XLSX_CELL_MAX - CUT_MARK.length;
    const last = value.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1; // never split a surrogate pair
    value = value.slice(0, end) + CUT_MARK;
  }
  if (special) {
    // Every "_" that could start an escape is itself escaped, before CR adds escapes of its own.
    value = value.replace(/_(?=x[0-9A-Fa-f]{4})/g, "_x005F_").replace(/\r/g, "_x000D_");
  }
  return { richText: [{ text: value }] };
}

/** Anything xlsxText escapes or drops (CR among them): most texts have none, and skip the replacements. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NOT_PLAIN = /[\x00-\x08\x0B-\x1F\uFFFE\uFFFF]|_x[0-9A-Fa-f]{4}/;
/** XML 1.0 has no place for these, not even as `&#1;`. Lone surrogates need nothing: UTF-8 encoding writes U+FFFD, as for CSV. */
// eslint-disable-next-line no-control-regex -- as above
const NOT_IN_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g;

/**
 * A styled .xlsx (bold frozen header, column widths, wrapped text, real date cells in UTC), written
 * as SpreadsheetML by hand and zipped by zip-stream as it goes: each batch of notes becomes a piece
 * of the sheet's XML, deflated on zlib's thread while the next batch is read and written. Memory
 * holds about two batches, and nothing is made faster than the reader takes it. ExcelJS's streaming
 * writer did the same job at about 2.7x the CSV export's time, and sheetjs-style holds the whole
 * workbook in memory (see "Excel export" in the README).
 */
export async function* xlsxChunks(
  batches: AsyncIterable<ExportedNote[]>,
  now = new Date(),
): AsyncGenerator<Uint8Array> {
  const zip = new ZipStream({ zlib: SHEET_DEFLATE });
  // A write the zip refuses after it was destroyed (the reader left) must not crash the process;
  // every error that matters reaches the loop below through the zip's iterator.
  zip.on("error", () => undefined);
  // Small parts stored whole (written at once), then the sheet, deflated with its CRC and sizes
  // in a data descriptor after it. Compression starts at once: the first notes are read while the
  // small parts go out.
  for (const [name, xml] of workbookParts(now)) zip.entry(Buffer.from(xml, "utf8"), { name, date: now, store: true });
  const sheet = Readable.from(sheetXml(batches), { highWaterMark: 1 });
  zip.entry(sheet, { name: "xl/worksheets/sheet1.xml", date: now }, (error) => {
    // zip-stream ends a failed entry like a finished one; the central directory must then never
    // be written, or the download would end as a sound file with notes missing.
    if (error) zip.destroy(error);
    else zip.finalize();
  });
  try {
    for await (const chunk of zip as AsyncIterable<Buffer>) yield chunk;
  } finally {
    // A reader that left, or a failure: stop reading notes.
    sheet.destroy();
    zip.destroy();
  }
}

/**
 * Level 1 is the fastest deflate, and the sheet's XML still shrinks 3-4x; the largest hash table
 * (memLevel 9) makes it about 7% faster still. Large output steps mean fewer trips to zlib's thread.
 */
const SHEET_DEFLATE = { level: 1, memLevel: 9, chunkSize: 64 * 1024 };

/**
 * A streamed entry's sizes go in a 32-bit data descriptor, so a sheet of 4 GiB or more (far beyond
 * Excel's 1,048,576 rows of typical notes) fails the export instead of producing a broken file.
 */
const SHEET_MAX_BYTES = 0xffff_ffff;

const DATE_FORMAT = "yyyy-mm-dd hh:mm";
const COLUMNS = [
  { header: "Title", width: 40 },
  { header: "Text", width: 80 },
  { header: "Created", width: 20 },
  { header: "Updated", width: 20 },
  { header: "Id", width: 38 },
  { header: "Tags", width: 30 },
];
/** Indexes into cellXfs of styles.xml below. */
const STYLE = { header: 1, text: 2, date: 3, id: 4 } as const;
const MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** Every part of the package but the sheet, in the order they go into the zip. */
function workbookParts(now: Date): [string, string][] {
  const type = (part: string) => `application/vnd.openxmlformats-officedocument.${part}+xml`;
  const rel = (kind: string) => `${REL_NS}/${kind}`;
  return [
    [
      "[Content_Types].xml",
      `${XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
        `<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
        `<Default Extension="xml" ContentType="application/xml"/>` +
        `<Override PartName="/xl/workbook.xml" ContentType="${type("spreadsheetml.sheet.main")}"/>` +
        `<Override PartName="/xl/worksheets/sheet1.xml" ContentType="${type("spreadsheetml.worksheet")}"/>` +
        `<Override PartName="/xl/styles.xml" ContentType="${type("spreadsheetml.styles")}"/>` +
        `<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
        `</Types>`,
    ],
    [
      "_rels/.rels",
      `${XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${rel("officeDocument")}" Target="xl/workbook.xml"/>` +
        `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
        `</Relationships>`,
    ],
    [
      "docProps/core.xml",
      `${XML_DECLARATION}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
        `xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" ` +
        `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
        `<dc:creator>Notebox</dc:creator>` +
        `<dcterms:created xsi:type="dcterms:W3CDTF">${now.toISOString().slice(0, 19)}Z</dcterms:created>` +
        `</cp:coreProperties>`,
    ],
    [
      "xl/workbook.xml",
      `${XML_DECLARATION}<workbook xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
        `<bookViews><workbookView/></bookViews>` +
        `<sheets><sheet name="Notes" sheetId="1" r:id="rId1"/></sheets>` +
        `</workbook>`,
    ],
    [
      "xl/_rels/workbook.xml.rels",
      `${XML_DECLARATION}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
        `<Relationship Id="rId1" Type="${rel("worksheet")}" Target="worksheets/sheet1.xml"/>` +
        `<Relationship Id="rId2" Type="${rel("styles")}" Target="styles.xml"/>` +
        `</Relationships>`,
    ],
    [
      "xl/styles.xml",
      `${XML_DECLARATION}<styleSheet xmlns="${MAIN_NS}">` +
        `<numFmts count="1"><numFmt numFmtId="164" formatCode="${DATE_FORMAT}"/></numFmts>` +
        `<fonts count="2">` +
        `<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
        `<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>` +
        `</fonts>` +
        `<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>` +
        `<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>` +
        `<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>` +
        `<cellXfs count="5">` +
        `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>` +
        `<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>` +
        `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>` +
        `<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment vertical="top"/></xf>` +
        `<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top"/></xf>` +
        `</cellXfs>` +
        `<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>` +
        `</styleSheet>`,
    ],
  ];
}

/** The sheet, one piece per batch: frozen first row, column widths, then the rows. */
async function* sheetXml(batches: AsyncIterable<ExportedNote[]>): AsyncGenerator<Buffer> {
  const cols = COLUMNS.map((c, i) => `<col min="${i + 1}" max="${i + 1}" width="${c.width}" customWidth="1"/>`).join(
    "",
  );
  const header = COLUMNS.map((c, i) => textCell(`${"ABCDEF"[i]!}1`, STYLE.header, c.header)).join("");
  yield Buffer.from(
    `${XML_DECLARATION}<worksheet xmlns="${MAIN_NS}" xmlns:r="${REL_NS}">` +
      `<sheetViews><sheetView workbookViewId="0">` +
      `<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>` +
      `<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>` +
      `</sheetView></sheetViews>` +
      `<sheetFormatPr defaultRowHeight="15"/>` +
      `<cols>${cols}</cols>` +
      `<sheetData><row r="1">${header}</row>`,
    "utf8",
  );
  let r = 1;
  let size = 0;
  for await (const notes of batches) {
    let xml = "";
    for (const note of notes) {
      r++;
      xml +=
        `<row r="${r}">` +
        textCell(`A${r}`, STYLE.text, note.title) +
        textCell(`B${r}`, STYLE.text, note.description) +
        `<c r="C${r}" s="${STYLE.date}"><v>${excelDate(note.createdAt)}</v></c>` +
        `<c r="D${r}" s="${STYLE.date}"><v>${excelDate(note.updatedAt)}</v></c>` +
        textCell(`E${r}`, STYLE.id, note.id) +
        textCell(`F${r}`, STYLE.text, joinedTags(note.tags)) +
        `</row>`;
    }
    const piece = Buffer.from(xml, "utf8");
    size += piece.length;
    if (size >= SHEET_MAX_BYTES) throw new Error("the sheet is over 4 GiB, more than a zip without zip64 holds");
    yield piece;
  }
  yield Buffer.from(
    `</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`,
    "utf8",
  );
}

/**
 * An inline string (no shared-strings table to hold in memory), never a formula, as one rich-text
 * run: Excel reads `_xHHHH_` in plain inline text too, but ExcelJS's reader only in runs.
 */
function textCell(ref: string, style: number, text: string): string {
  const xml = cellXml(text);
  // Whitespace at either end survives only marked so; text with line breaks is marked too, as
  // Excel and ExcelJS write it.
  const keep = xml.charCodeAt(0) <= 32 || xml.charCodeAt(xml.length - 1) <= 32 || xml.includes("\n");
  return `<c r="${ref}" s="${style}" t="inlineStr"><is><r><t${keep ? ' xml:space="preserve"' : ""}>${xml}</t></r></is></c>`;
}

/**
 * A text as the content of its cell's `<t>`: xlsxText's value, XML-escaped. Most texts need
 * neither kind of escape, and one scan tells.
 */
function cellXml(text: string): string {
  // Shorter than the limit: the apostrophe may add one character.
  if (text.length < XLSX_CELL_MAX && !ESCAPED.test(text) && !CONTROL.test(text)) return neutralizeFormula(text);
  let value = "";
  for (const run of xlsxText(text).richText) value += run.text;
  return /[&<>]/.test(value) ? value.replace(/[&<>]/g, (ch) => XML_ESCAPES[ch]!) : value;
}

/** What XML escapes, and text that looks like an `_xHHHH_` escape. */
const ESCAPED = /[&<>]|_x[0-9A-Fa-f]{4}/;
/** Control characters but tab and LF (so CR too), U+FFFE and U+FFFF. Apart from ESCAPED: one expression for both is slower than two. */
const CONTROL = /[^\t\n\x20-\uFFFD]/;
const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };

/**
 * Days since 1899-12-30 (Excel's day 0 in the 1900 date system), in UTC. A date that could not be
 * read fails the export, as `toISOString` does for CSV, rather than put NaN in the sheet.
 */
function excelDate(date: Date): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("Invalid time value");
  return ms / 86_400_000 + 25_569;
}
