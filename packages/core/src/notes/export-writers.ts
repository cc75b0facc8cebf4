// The three export formats, each turning batches of notes into chunks of the file as they come.
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import ExcelJS from "exceljs";

/** One note as every format writes it. */
export interface ExportedNote {
  id: string;
  title: string;
  description: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Text a spreadsheet would run as a formula (or whose leading tab or CR some spreadsheets strip
 * before doing so) gets a leading apostrophe (OWASP "CSV injection").
 */
export function neutralizeFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** RFC 4180: a field holding a quote, comma, CR or LF is quoted, its quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_HEADER = ["Title", "Text", "Created", "Updated", "Id"];

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
      });
      separator = ",\n";
    }
    yield chunk;
  }
  yield separator === "[\n" ? "[]\n" : "\n]\n";
}

/** Excel refuses longer cells; the CSV and JSON exports have no such limit. */
export const XLSX_CELL_MAX = 32_767;
const CUT_MARK = "\n[…] (cut: an Excel cell holds at most 32,767 characters; the CSV and JSON exports have the whole text)";
const DATE_FORMAT = "yyyy-mm-dd hh:mm";
/**
 * How far the compressor may fall behind the rows already committed. Enough to keep it busy while
 * the next batch is written; once over, the writer waits until it has caught up completely.
 */
const ZIP_LAG_BYTES = 8 * 1024 * 1024;

/**
 * The value of a text cell: formula-proof, within Excel's cell limit, and written as an inline
 * string (`t="inlineStr"`, with `xml:space="preserve"` where whitespace matters). In the XML,
 * `_xHHHH_` stands for a character (ECMA-376 ST_Xstring): CR is written that way, because XML
 * parsers turn a raw CR into LF, and text that looks like an escape is escaped.
 */
export function xlsxText(text: string): ExcelJS.CellRichTextValue {
  let value = neutralizeFormula(text);
  if (value.length > XLSX_CELL_MAX) {
    let end = XLSX_CELL_MAX - CUT_MARK.length;
    const last = value.charCodeAt(end - 1);
    if (last >= 0xd800 && last <= 0xdbff) end -= 1; // never split a surrogate pair
    value = value.slice(0, end) + CUT_MARK;
  }
  // Every "_" that could start an escape is itself escaped, before CR adds escapes of its own.
  value = value.replace(/_(?=x[0-9A-Fa-f]{4})/g, "_x005F_").replace(/\r/g, "_x000D_");
  return { richText: [{ text: value }] };
}

/**
 * A styled .xlsx written with ExcelJS's streaming WorkbookWriter: each committed row goes into the
 * zip at once (sheetjs-style builds the whole workbook in memory; see "Excel export" in the README).
 * Bold frozen header, wrapped text, real date cells (UTC).
 */
export async function* xlsxChunks(batches: AsyncIterable<ExportedNote[]>): AsyncGenerator<Uint8Array> {
  const out = new PassThrough();
  const stop = new AbortController();
  writeWorkbook(out, batches, stop.signal).catch((error: unknown) =>
    out.destroy(error instanceof Error ? error : new Error(String(error))),
  );
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } finally {
    stop.abort();
    out.destroy();
  }
}

/** One object per cell style: ExcelJS caches a style's id by object identity. */
const top = { vertical: "top" } as const;
const textStyle: Partial<ExcelJS.Style> = { alignment: { ...top, wrapText: true } };
const dateStyle: Partial<ExcelJS.Style> = { numFmt: DATE_FORMAT, alignment: top };
const idStyle: Partial<ExcelJS.Style> = { alignment: top };
const headerStyle: Partial<ExcelJS.Style> = { font: { bold: true } };
const rowStyles = [textStyle, textStyle, dateStyle, dateStyle, idStyle];

async function writeWorkbook(out: PassThrough, batches: AsyncIterable<ExportedNote[]>, signal: AbortSignal) {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    // Shared strings would keep every distinct text in memory until the end.
    useSharedStrings: false,
    // Fastest deflate (sheet XML still shrinks about 4x), in large steps: fewer round trips to
    // zlib's thread, and less memory held in its small buffers.
    zip: { zlib: { level: 1, chunkSize: 256 * 1024 } },
  });
  workbook.creator = "Notebox";
  const sheet = workbook.addWorksheet("Notes", { views: [{ state: "frozen", ySplit: 1 }] });
  sheet.columns = [
    { header: "Title", width: 40 },
    { header: "Text", width: 80 },
    { header: "Created", width: 20 },
    { header: "Updated", width: 20 },
    { header: "Id", width: 38 },
  ];
  const header = sheet.getRow(1);
  header.eachCell((cell) => (cell.style = headerStyle));
  header.commit();
  for await (const notes of batches) {
    for (const note of notes) {
      const row = sheet.addRow([xlsxText(note.title), xlsxText(note.description), note.createdAt, note.updatedAt, xlsxText(note.id)]);
      row.eachCell((cell, column) => (cell.style = rowStyles[column - 1]!));
      row.commit();
    }
    await zipCaughtUp(sheet, signal);
  }
  sheet.commit();
  await workbook.commit();
}

/**
 * The two ExcelJS internals `zipCaughtUp` reads. If an upgrade moves them, the writer loses its
 * backpressure, and the unit test of a reader that stops reading fails.
 */
interface SheetInternals {
  stream?: {
    /** 64 KB blocks not yet handed to the zip. */
    buffers?: unknown[];
    /** The zip's input for this sheet, once the zip has started on it. */
    pipes?: (NodeJS.EventEmitter & { writableLength?: number; _writableState?: { length: number } })[];
  };
}

/**
 * ExcelJS hands a worksheet's XML to the zip through its own buffer, which ignores backpressure:
 * when the compressor or the client is slower than the database, committed rows pile up in memory
 * in front of the zip. So after each batch, if the zip is more than ZIP_LAG_BYTES behind, wait
 * until it has caught up.
 */
async function zipCaughtUp(sheet: ExcelJS.Worksheet, signal: AbortSignal): Promise<void> {
  const stream = (sheet as unknown as SheetInternals).stream;
  for (;;) {
    signal.throwIfAborted();
    const zipInput = stream?.pipes?.[0];
    if (zipInput) {
      const pending = zipInput.writableLength ?? zipInput._writableState?.length ?? 0;
      if (pending <= ZIP_LAG_BYTES) return;
      await once(zipInput, "drain", { signal });
    } else {
      // The zip has not reached this sheet yet (it starts within a few ticks).
      if ((stream?.buffers?.length ?? 0) * 64 * 1024 <= ZIP_LAG_BYTES) return;
      await sleep(5, undefined, { signal });
    }
  }
}
