// The formatting buttons of the note editor: names, labels and shortcuts only, so the toolbar can
// be drawn before the editor itself has loaded.
export type Format = "bold" | "italic" | "heading" | "bullet" | "task" | "link" | "code" | "quote" | "table";

export interface ToolbarItem {
  format: Format;
  label: string;
  /** CodeMirror's notation: Mod is Ctrl, or ⌘ on a Mac. */
  key?: string;
}

export const TOOLBAR: readonly ToolbarItem[] = [
  { format: "bold", label: "Bold", key: "Mod-b" },
  { format: "italic", label: "Italic", key: "Mod-i" },
  { format: "heading", label: "Heading" },
  { format: "bullet", label: "Bulleted list" },
  { format: "task", label: "Task" },
  { format: "link", label: "Link", key: "Mod-k" },
  { format: "code", label: "Code" },
  { format: "quote", label: "Quote" },
  { format: "table", label: "Table" },
];

/** "Ctrl+B" or "⌘B": a shortcut as the person's keyboard shows it. */
export function shortcutLabel(key: string, mac: boolean): string {
  const letter = key.split("-").pop()!.toUpperCase();
  return mac ? `⌘${letter}` : `Ctrl+${letter}`;
}
