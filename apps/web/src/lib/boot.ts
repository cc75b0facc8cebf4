// What the server put into the page for its first paint (apps/server/src/web.ts): the signed-in
// account and, on the home page, the first page of notes. Each is taken once, by the first to
// ask; everything after that is asked of the server as usual.
import type { NoteSummary } from "$lib/notes.svelte";
import type { User } from "$lib/trpc";

interface Boot {
  me?: User;
  notes?: { items: NoteSummary[]; nextCursor: string | null };
}

let boot: Boot | undefined;

function read(): Boot {
  if (boot) return boot;
  boot = {};
  const element = typeof document === "undefined" ? null : document.getElementById("notebox-boot");
  if (element?.textContent) {
    try {
      boot = JSON.parse(element.textContent) as Boot;
    } catch {
      // A page cut short: ask the server instead.
    }
  }
  element?.remove();
  return boot;
}

/** The server's answer for `key`, the first time it is asked for; undefined after, or without one. */
export function takeBoot<K extends keyof Boot>(key: K): Boot[K] | undefined {
  const found = read();
  const value = found[key];
  delete found[key];
  return value;
}
