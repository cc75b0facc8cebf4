// A note's history as the history panel shows it: what each kept revision was, and what changed
// between one and the note as it is now. Only the panel imports this module, and the panel is
// loaded when History is opened, so jsdiff stays out of the notes page's first download.
import type { RouterOutputs } from "@notebox/api";
import { diffLines, diffWordsWithSpace } from "diff";

export type RevisionSummary = RouterOutputs["notes"]["revisions"]["list"]["items"][number];
export type Revision = RouterOutputs["notes"]["revisions"]["get"];

const SOURCES: Record<RevisionSummary["source"], string> = {
  edit: "Before an edit",
  restore: "Before a restore",
  import: "Before an import",
};

/** What replaced the revision: a revision is the state an edit (or a restore, or an import) replaced. */
export function sourceLabel(source: RevisionSummary["source"]): string {
  return SOURCES[source];
}

/** One line of the compared text; `skipped` stands for a run of unchanged lines left out. */
export type DiffLine = { kind: "same" | "added" | "removed"; text: string } | { kind: "skipped"; count: number };

/** A stretch of the compared title. */
export interface DiffPiece {
  kind: "same" | "added" | "removed";
  text: string;
}

export interface TextChanges {
  lines: DiffLine[];
  added: number;
  removed: number;
}

/** Unchanged lines kept around a change, so it can be found in the note. */
const CONTEXT_LINES = 2;
/** A note can hold a megabyte: past this, two very different texts are shown as replaced whole. */
const DIFF_TIMEOUT_MS = 1500;

const normalized = (text: string) => text.replace(/\r\n?/g, "\n");

function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The lines of `before` (a revision) against `after` (the note now): removed lines are only in
 * the revision, added ones only in the note. Long runs of unchanged lines are folded.
 */
export function textChanges(before: string, after: string): TextChanges {
  const old = normalized(before);
  const now = normalized(after);
  const parts = diffLines(old, now, { timeout: DIFF_TIMEOUT_MS, ignoreNewlineAtEof: true }) ?? [
    { value: old, added: false, removed: true, count: 0 },
    { value: now, added: true, removed: false, count: 0 },
  ];
  const all: { kind: "same" | "added" | "removed"; text: string }[] = [];
  for (const part of parts) {
    const kind = part.added ? "added" : part.removed ? "removed" : "same";
    for (const text of linesOf(part.value)) all.push({ kind, text });
  }
  const added = all.filter((line) => line.kind === "added").length;
  const removed = all.filter((line) => line.kind === "removed").length;
  return { lines: fold(all), added, removed };
}

/** Keeps CONTEXT_LINES unchanged lines on each side of a change; the rest become `skipped`. */
function fold(lines: { kind: "same" | "added" | "removed"; text: string }[]): DiffLine[] {
  const near = lines.map(() => false);
  lines.forEach((line, i) => {
    if (line.kind === "same") return;
    for (let j = Math.max(0, i - CONTEXT_LINES); j <= Math.min(lines.length - 1, i + CONTEXT_LINES); j++)
      near[j] = true;
  });
  const out: DiffLine[] = [];
  let hidden: DiffLine[] = [];
  const flush = () => {
    // Folding a single line saves no room.
    if (hidden.length > 1) out.push({ kind: "skipped", count: hidden.length });
    else out.push(...hidden);
    hidden = [];
  };
  lines.forEach((line, i) => {
    if (near[i]) {
      flush();
      out.push(line);
    } else hidden.push(line);
  });
  flush();
  return out;
}

/** The revision's title against the note's, word by word; empty when they are the same. */
export function titleChanges(before: string, after: string): DiffPiece[] {
  if (before === after) return [];
  return diffWordsWithSpace(before, after).map((part) => ({
    kind: part.added ? "added" : part.removed ? "removed" : "same",
    text: part.value,
  }));
}
