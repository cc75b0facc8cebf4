// Which rows of a list are selected for a bulk action: one at a time, a range with Shift (from
// the row chosen last), all shown at once; never more than one bulk request takes.
import { BULK_NOTES_MAX } from "@notebox/api/limits";
import { SvelteSet } from "svelte/reactivity";

export class Selection {
  readonly ids = new SvelteSet<string>();
  /** The row a Shift range starts from: the one chosen last. */
  #anchor: string | null = null;

  readonly max: number;

  constructor(max = BULK_NOTES_MAX) {
    this.max = max;
  }

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  /**
   * Turns one row on or off; with `range`, every row from the last one chosen to this one takes
   * this one's new state. `order` is the rows as shown. False when the limit kept some out.
   */
  toggle(id: string, order: readonly string[], range = false): boolean {
    const on = !this.ids.has(id);
    const from = this.#anchor === null ? -1 : order.indexOf(this.#anchor);
    const to = order.indexOf(id);
    const span = range && from !== -1 && to !== -1 ? order.slice(Math.min(from, to), Math.max(from, to) + 1) : [id];
    this.#anchor = id;
    return this.#set(span, on);
  }

  /** Selects every row in `order`, or clears them all when they all were. */
  toggleAll(order: readonly string[]): boolean {
    const all = order.length > 0 && order.every((id) => this.ids.has(id));
    if (all) {
      this.clear();
      return true;
    }
    return this.#set(order, true);
  }

  /** Whether every row of `order` is selected. */
  allOf(order: readonly string[]): boolean {
    return order.length > 0 && order.every((id) => this.ids.has(id));
  }

  /** Keeps only the rows still shown. */
  keepOnly(order: readonly string[]): void {
    for (const id of [...this.ids]) if (!order.includes(id)) this.ids.delete(id);
  }

  clear(): void {
    this.ids.clear();
    this.#anchor = null;
  }

  #set(span: readonly string[], on: boolean): boolean {
    let fits = true;
    for (const id of span) {
      if (!on) this.ids.delete(id);
      else if (this.ids.has(id)) continue;
      else if (this.ids.size < this.max) this.ids.add(id);
      else fits = false;
    }
    return fits;
  }
}

/** Whether a key press happened where typing goes (a text field, an editor) or in a dialog. */
export function typingTarget(event: KeyboardEvent): boolean {
  const target = event.target;
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return (
    target.closest("textarea, select, dialog, [contenteditable], input:not([type=checkbox]):not([type=radio])") !== null
  );
}

/** A plain key press: no Ctrl, Alt or Meta, and nothing else took it. */
export function plainKey(event: KeyboardEvent): boolean {
  return !event.ctrlKey && !event.metaKey && !event.altKey && !event.defaultPrevented && !event.repeat;
}
