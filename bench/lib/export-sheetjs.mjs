// The sheetjs-style prototype for bench/export.mjs (run in its own process): one user's notes read
// from the SQLite file in keyset batches of 250, as the server does for .xlsx, into a styled
// worksheet (bold header, column widths, date cells), written with XLSX.write({type: "buffer"}).
// SheetJS has no streaming .xlsx writer: the whole workbook is built in memory. Prints one JSON
// line: bytes, seconds, and peak RSS growth (VmHWM) over the RSS before the first row was read.
// Writing only: SheetJS never reads a spreadsheet here (its reader has a prototype-pollution CVE).
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import XLSX from "sheetjs-style";

const [dbFile, ownerId] = process.argv.slice(2);
const status = (field) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
const db = new Database(dbFile, { readonly: true });
const all = async (sql, params) => db.prepare(sql).all(...params);
const toDate = (value) => new Date(value.replace(" ", "T").replace(" +00:00", "Z"));
const cell = (text) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

const baseline = status("VmRSS");
const started = performance.now();
const aoa = [["Title", "Text", "Created", "Updated", "Id"]];
let after = null;
for (;;) {
  const rows = await all(
    `SELECT id, title, description, created_at, updated_at FROM notes
      WHERE owner_id = ? AND deleted_at IS NULL ${after ? "AND (updated_at < ? OR (updated_at = ? AND id < ?))" : ""}
      ORDER BY updated_at DESC, id DESC LIMIT 250`,
    after ? [ownerId, after.updated_at, after.updated_at, after.id] : [ownerId],
  );
  for (const row of rows)
    aoa.push([cell(row.title), cell(row.description), toDate(row.created_at), toDate(row.updated_at), row.id]);
  if (rows.length < 250) break;
  after = rows[rows.length - 1];
}
const sheet = XLSX.utils.aoa_to_sheet(aoa, { cellDates: true, dateNF: "yyyy-mm-dd hh:mm" });
for (const ref of ["A1", "B1", "C1", "D1", "E1"]) sheet[ref].s = { font: { bold: true } };
sheet["!cols"] = [{ wch: 40 }, { wch: 80 }, { wch: 20 }, { wch: 20 }, { wch: 38 }];
const workbook = XLSX.utils.book_new();
XLSX.utils.book_append_sheet(workbook, sheet, "Notes");
const buffer = XLSX.write(workbook, { type: "buffer", bookType: "xlsx", compression: true, cellDates: true });
const seconds = (performance.now() - started) / 1000;
db.close();
console.log(
  JSON.stringify({ rows: aoa.length - 1, bytes: buffer.length, seconds, growthMb: status("VmHWM") - baseline }),
);
