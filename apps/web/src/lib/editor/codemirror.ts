// The Markdown editor itself: CodeMirror 6 with only what a note needs (history, Markdown syntax,
// continued lists, a URL pasted over a selection becoming a link). Loaded on demand by
// MarkdownEditor.svelte, so reading a note never downloads it.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  insertNewlineContinueMarkup,
  deleteMarkupBackward,
  markdownLanguage,
  pasteURLAsLink,
} from "@codemirror/lang-markdown";
import { HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, Prec, RangeSetBuilder, type Extension } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  ViewPlugin,
  drawSelection,
  keymap,
  placeholder as placeholderText,
  type DecorationSet,
  type ViewUpdate,
} from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { FORMATS, type Format } from "./format";

export interface EditorOptions {
  doc: string;
  /** Attributes of the editable element: its label, description, validity. */
  attributes: Record<string, string>;
  placeholder?: string;
  onchange: (text: string) => void;
  /** Files pasted or dropped into the text; the cursor is where they go. Without it, they are left to the browser. */
  onfiles?: (files: File[]) => void;
}

export interface EditorHandle {
  readonly view: EditorView;
  /** Replaces the whole text (a draft restored, the latest version loaded) unless it is already that. */
  setText(text: string): void;
  setAttributes(attributes: Record<string, string>): void;
  format(format: Format): void;
  /** Types `text` over the selection, as if it were pasted there. */
  insert(text: string): void;
  /** Replaces the first `search` in the text by `replacement` (nothing if it is gone); one undo step of its own. */
  replace(search: string, replacement: string): boolean;
  focus(): void;
  destroy(): void;
}

const highlight = HighlightStyle.define([
  { tag: tags.heading, fontWeight: "700" },
  { tag: tags.strong, fontWeight: "700" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strikethrough, textDecoration: "line-through" },
  { tag: tags.link, color: "var(--accent)" },
  { tag: tags.url, color: "var(--text-muted)" },
  { tag: tags.monospace, fontFamily: "var(--font-mono)" },
  { tag: [tags.processingInstruction, tags.meta, tags.contentSeparator], color: "var(--text-muted)" },
  { tag: tags.quote, color: "var(--text-muted)" },
]);

const theme = EditorView.theme({
  "&": {
    minHeight: "16rem",
    maxHeight: "70vh",
    border: "1px solid var(--border-strong)",
    borderRadius: "var(--radius-small)",
    background: "var(--surface)",
    color: "var(--text)",
    fontSize: "0.95rem",
  },
  "&.cm-focused": { outline: "3px solid var(--focus)", outlineOffset: "0", borderColor: "var(--focus)" },
  ".cm-scroller": { fontFamily: "var(--font-mono)", lineHeight: "1.55", overflow: "auto" },
  ".cm-content": { padding: "var(--space-3) 0", minHeight: "16rem", caretColor: "var(--text)" },
  ".cm-line": { padding: "0 var(--space-3)" },
  ".cm-placeholder": { color: "var(--text-muted)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    background: "color-mix(in srgb, var(--focus) 25%, transparent)",
  },
  ".cm-cursor": { borderLeftColor: "var(--text)" },
});

/**
 * Every line takes the direction of its own text (dir="auto"): an Arabic or Hebrew line runs right
 * to left, and with perLineTextDirection the cursor moves through it as it reads.
 */
const lineDirection = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = lineDecorations(view);
    }
    update(update: ViewUpdate) {
      if (update.docChanged || update.viewportChanged) this.decorations = lineDecorations(update.view);
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

const autoDirection = Decoration.line({ attributes: { dir: "auto" } });

function lineDecorations(view: EditorView): DecorationSet {
  const builder = new RangeSetBuilder<Decoration>();
  for (const { from, to } of view.visibleRanges) {
    for (let pos = from; pos <= to;) {
      const line = view.state.doc.lineAt(pos);
      builder.add(line.from, line.from, autoDirection);
      pos = line.to + 1;
    }
  }
  return builder.finish();
}

export function createEditor(parent: HTMLElement, options: EditorOptions): EditorHandle {
  const attributes = new Compartment();
  let applying = false;

  const formatKeys = keymap.of(
    FORMATS.filter((f) => f.key).map((f) => ({
      key: f.key!,
      run: (view: EditorView) => {
        f.apply(view);
        return true;
      },
    })),
  );

  const extensions: Extension[] = [
    history(),
    drawSelection(),
    markdownLanguage,
    syntaxHighlighting(highlight),
    EditorView.lineWrapping,
    // Each line takes the direction of its own text: Arabic or Hebrew lines run right to left.
    EditorView.perLineTextDirection.of(true),
    lineDirection,
    pasteURLAsLink,
    Prec.high(formatKeys),
    Prec.high(
      keymap.of([
        { key: "Enter", run: insertNewlineContinueMarkup },
        { key: "Backspace", run: deleteMarkupBackward },
      ]),
    ),
    // Ctrl/⌘+Enter is left to the form (it saves); Tab indents, Escape then Tab leaves the editor.
    keymap.of([...defaultKeymap.filter((binding) => binding.key !== "Mod-Enter"), ...historyKeymap, indentWithTab]),
    attributes.of(EditorView.contentAttributes.of(options.attributes)),
    EditorView.contentAttributes.of({ spellcheck: "true", autocorrect: "on", autocapitalize: "sentences" }),
    theme,
    EditorView.updateListener.of((update) => {
      if (update.docChanged && !applying) options.onchange(update.state.doc.toString());
    }),
  ];
  if (options.placeholder) extensions.push(placeholderText(options.placeholder));
  const onfiles = options.onfiles;
  if (onfiles) {
    extensions.push(
      EditorView.domEventHandlers({
        paste(event) {
          const files = [...(event.clipboardData?.files ?? [])];
          if (!files.length) return false;
          event.preventDefault();
          onfiles(files);
          return true;
        },
        drop(event, view) {
          const files = [...(event.dataTransfer?.files ?? [])];
          if (!files.length) return false;
          event.preventDefault();
          const at = view.posAtCoords({ x: event.clientX, y: event.clientY });
          if (at !== null) view.dispatch({ selection: { anchor: at } });
          view.focus();
          onfiles(files);
          return true;
        },
      }),
    );
  }

  const view = new EditorView({ parent, state: EditorState.create({ doc: options.doc, extensions }) });

  return {
    view,
    setText(text) {
      if (view.state.doc.toString() === text) return;
      applying = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        applying = false;
      }
    },
    setAttributes(next) {
      view.dispatch({ effects: attributes.reconfigure(EditorView.contentAttributes.of(next)) });
    },
    format(format) {
      FORMATS.find((f) => f.name === format)?.apply(view);
      view.focus();
    },
    insert(text) {
      view.dispatch(view.state.replaceSelection(text), { scrollIntoView: true, userEvent: "input.paste" });
    },
    replace(search, replacement) {
      const from = view.state.doc.toString().indexOf(search);
      if (from < 0) return false;
      view.dispatch({ changes: { from, to: from + search.length, insert: replacement } });
      return true;
    },
    focus() {
      view.focus();
    },
    destroy() {
      view.destroy();
    },
  };
}
