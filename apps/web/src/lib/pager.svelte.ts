// One cursor-paginated list as a page shows it: the first page of a query in place of what was
// shown, further pages appended, and only the newest answer let in, since answers can arrive out
// of order while someone types; and following a query as someone types it, asking once they pause.
import { untrack } from "svelte";

/** How long typing must pause before what was typed is asked about. */
export const TYPING_DELAY_MS = 200;

/** What every list procedure answers. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PagerOptions<T, Q> {
  /** Asks for one page of `query`, starting at `cursor` (null: the first page). */
  fetch: (query: Q, cursor: string | null, signal: AbortSignal) => Promise<Page<T>>;
  /** The newest request failed; one that was overtaken by another never reports. */
  onerror: (error: unknown) => void;
  /** The newest request succeeded: the moment to take down an earlier failure. */
  onsuccess?: () => void;
}

export interface FollowOptions<Q> {
  /**
   * How long a changed query waits for the next change before it is asked for, so a search box
   * asks once typing pauses (0: at once). The first query is always asked for at once.
   */
  delayMs?: number;
  /** Whether a query is worth asking about; one that is not (an emptied search box) clears the pager at once. */
  wanted?: (query: Q) => boolean;
  /** Runs as a query is taken up, asked for or cleared for: e.g. to put it in the address. */
  ontake?: (query: Q) => void;
}

export class Pager<T extends { id: string }, Q = void> {
  items = $state<T[]>([]);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  /** Whether a page has arrived since the pager was made or cleared. */
  loaded = $state(false);
  /** The query the shown items answer, once loaded. */
  shownFor = $state<Q>();

  readonly #options: PagerOptions<T, Q>;
  #latest = 0;
  #controller: AbortController | null = null;
  /** The next page on its way, so "Load more" and scrolling to the end share one request for it. */
  #more: { cursor: string; done: Promise<void> } | null = null;

  constructor(options: PagerOptions<T, Q>) {
    this.#options = options;
  }

  /** Shows the first page of `query` instead of whatever is shown. */
  load(query: Q): Promise<void> {
    this.#more = null;
    return this.#fetch(query, null);
  }

  /**
   * Shows the first page of whatever `query()` says, and follows it as it changes (`options`
   * says how). Only what `query()` reads is followed. Call while a component is being set up: it
   * is an effect, and ends with the component.
   */
  follow(query: () => Q, { delayMs = 0, wanted, ontake }: FollowOptions<Q> = {}): void {
    let first = true;
    $effect(() => {
      const q = query();
      const unwanted = wanted !== undefined && untrack(() => !wanted(q));
      const take = () =>
        untrack(() => {
          ontake?.(q);
          if (unwanted) this.clear();
          else void this.load(q);
        });
      const now = first || delayMs <= 0 || unwanted;
      first = false;
      if (now) {
        take();
        return;
      }
      const timer = setTimeout(take, delayMs);
      return () => clearTimeout(timer);
    });
  }

  /** Appends the next page of the query shown, if there is one and no other request is on its way. */
  more(): Promise<void> {
    const cursor = this.nextCursor;
    if (this.#more?.cursor === cursor) return this.#more.done;
    if (cursor === null || !this.loaded || this.loading) return Promise.resolve();
    const done = this.#fetch(this.shownFor as Q, cursor);
    const mine = { cursor, done };
    this.#more = mine;
    void done.finally(() => {
      if (this.#more === mine) this.#more = null;
    });
    return done;
  }

  /** Takes an item out of what is shown (deleted, restored). */
  remove(id: string): void {
    this.items = this.items.filter((item) => item.id !== id);
  }

  /** Drops whatever is on its way and everything shown. */
  clear(): void {
    this.#latest++;
    this.#controller?.abort();
    this.#controller = null;
    this.#more = null;
    this.items = [];
    this.nextCursor = null;
    this.loading = false;
    this.loaded = false;
    this.shownFor = undefined;
  }

  async #fetch(query: Q, cursor: string | null): Promise<void> {
    const request = ++this.#latest;
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    this.loading = true;
    try {
      const page = await this.#options.fetch(query, cursor, controller.signal);
      if (request !== this.#latest) return;
      this.items = cursor ? appendUnique(this.items, page.items) : page.items;
      this.nextCursor = page.nextCursor;
      this.shownFor = query;
      this.loaded = true;
      this.#options.onsuccess?.();
    } catch (error) {
      if (request === this.#latest) this.#options.onerror(error);
    } finally {
      if (request === this.#latest) {
        this.loading = false;
        this.#controller = null;
      }
    }
  }
}

/** Adds a page to what is shown; an item that moved between pages (edited meanwhile) shows once. */
function appendUnique<T extends { id: string }>(shown: T[], more: T[]): T[] {
  const seen = new Set(shown.map((item) => item.id));
  return [...shown, ...more.filter((item) => !seen.has(item.id))];
}

/**
 * Calls `then` with what `value()` says once it has stayed the same for `delayMs`: for acting on
 * typing when it pauses, where that is not asking a pager (e.g. putting it in the address). Call
 * while a component is being set up; it ends with the component.
 */
export function whenSettled<V>(value: () => V, then: (value: V) => void, delayMs = TYPING_DELAY_MS): void {
  $effect(() => {
    const v = value();
    const timer = setTimeout(() => untrack(() => then(v)), delayMs);
    return () => clearTimeout(timer);
  });
}
