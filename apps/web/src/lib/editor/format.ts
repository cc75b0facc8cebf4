// Markdown formatting commands for the editor's toolbar and shortcuts. Each is one transaction, so
// a single undo takes it back.
import { EditorSelection, type ChangeSpec, type EditorState } from "@codemirror/state";
import type { EditorView } from "@codemirror/view";
import { TOOLBAR, type Format } from "./toolbar";

export type { Format };

/** Wraps each selection in `mark` (or unwraps it when it is already wrapped). */
function wrap(view: EditorView, mark: string, empty: string) {
  const { state } = view;
  view.dispatch(
    state.changeByRange((range) => {
      const before = state.sliceDoc(range.from - mark.length, range.from);
      const after = state.sliceDoc(range.to, range.to + mark.length);
      if (!range.empty && before === mark && after === mark) {
        return {
          changes: [
            { from: range.from - mark.length, to: range.from },
            { from: range.to, to: range.to + mark.length },
          ],
          range: EditorSelection.range(range.from - mark.length, range.to - mark.length),
        };
      }
      const selected = state.sliceDoc(range.from, range.to);
      if (selected.length > 2 * mark.length && selected.startsWith(mark) && selected.endsWith(mark)) {
        const inner = selected.slice(mark.length, -mark.length);
        return {
          changes: { from: range.from, to: range.to, insert: inner },
          range: EditorSelection.range(range.from, range.from + inner.length),
        };
      }
      const text = range.empty ? empty : selected;
      return {
        changes: { from: range.from, to: range.to, insert: `${mark}${text}${mark}` },
        range: EditorSelection.range(range.from + mark.length, range.from + mark.length + text.length),
      };
    }),
    { scrollIntoView: true, userEvent: "input.format" },
  );
}

/** The lines the selections touch, each once. */
function selectedLines(state: EditorState) {
  const seen = new Set<number>();
  const lines = [];
  for (const range of state.selection.ranges) {
    for (let pos = range.from; pos <= range.to;) {
      const line = state.doc.lineAt(pos);
      if (!seen.has(line.number)) {
        seen.add(line.number);
        lines.push(line);
      }
      pos = line.to + 1;
    }
  }
  return lines;
}

/**
 * Starts every selected line with `prefix`, or takes it away when all of them have it already;
 * `existing` matches a prefix of the same kind to replace ("- " becoming "- [ ] ").
 */
function linePrefix(view: EditorView, prefix: string, has: RegExp, existing?: RegExp) {
  const { state } = view;
  const lines = selectedLines(state).filter((line, _i, all) => all.length === 1 || line.text.trim() !== "");
  const indent = (text: string) => /^\s*/.exec(text)![0].length;
  const all = lines.every((line) => has.test(line.text.slice(indent(line.text))));
  const changes: ChangeSpec[] = lines.map((line) => {
    const start = line.from + indent(line.text);
    const rest = line.text.slice(indent(line.text));
    if (all) return { from: start, to: start + has.exec(rest)![0].length };
    const old = existing?.exec(rest);
    return { from: start, to: start + (old ? old[0].length : 0), insert: prefix };
  });
  // A cursor where a prefix goes in ends up after it, ready to type.
  const set = state.changes(changes);
  view.dispatch({
    changes: set,
    selection: state.selection.map(set, 1),
    scrollIntoView: true,
    userEvent: "input.format",
  });
}

function code(view: EditorView) {
  const { state } = view;
  const range = state.selection.main;
  if (state.sliceDoc(range.from, range.to).includes("\n")) {
    const from = state.doc.lineAt(range.from);
    const to = state.doc.lineAt(range.to);
    view.dispatch({
      changes: [
        { from: from.from, insert: "```\n" },
        { from: to.to, insert: "\n```" },
      ],
      scrollIntoView: true,
      userEvent: "input.format",
    });
    return;
  }
  wrap(view, "`", "code");
}

function link(view: EditorView) {
  const { state } = view;
  view.dispatch(
    state.changeByRange((range) => {
      const text = state.sliceDoc(range.from, range.to);
      if (range.empty) {
        const insert = "[link text](https://)";
        return {
          changes: { from: range.from, insert },
          range: EditorSelection.range(range.from + 1, range.from + 10),
        };
      }
      const insert = `[${text}](https://)`;
      const urlStart = range.from + text.length + 3;
      return {
        changes: { from: range.from, to: range.to, insert },
        range: EditorSelection.range(urlStart, urlStart + "https://".length),
      };
    }),
    { scrollIntoView: true, userEvent: "input.format" },
  );
}

function table(view: EditorView) {
  const { state } = view;
  const line = state.doc.lineAt(state.selection.main.head);
  const lead = line.text.trim() ? "\n\n" : line.number > 1 && state.doc.line(line.number - 1).text.trim() ? "\n" : "";
  const template = "| Column | Column |\n| --- | --- |\n|  |  |\n";
  const at = line.text.trim() ? line.to : line.from;
  const start = at + lead.length + 2;
  view.dispatch({
    changes: { from: at, to: line.text.trim() ? at : line.to, insert: `${lead}${template}` },
    selection: EditorSelection.range(start, start + "Column".length),
    scrollIntoView: true,
    userEvent: "input.format",
  });
}

const LIST = /^(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/;

const APPLY: Record<Format, (view: EditorView) => void> = {
  bold: (view) => wrap(view, "**", "bold text"),
  italic: (view) => wrap(view, "_", "italic text"),
  heading: (view) => linePrefix(view, "## ", /^#{1,6}\s+/, /^#{1,6}\s+/),
  bullet: (view) => linePrefix(view, "- ", /^[-*+]\s+(?!\[[ xX]\])/, LIST),
  task: (view) => linePrefix(view, "- [ ] ", /^[-*+]\s+\[[ xX]\]\s+/, LIST),
  link,
  code,
  quote: (view) => linePrefix(view, "> ", /^>\s?/),
  table,
};

export const FORMATS = TOOLBAR.map((item) => ({ name: item.format, key: item.key, apply: APPLY[item.format] }));
