// Seed and read helpers for the notes tests: everything goes through the API, as the signed-in
// person's browser would send it.
import type { Note, NoteSummary, Page, SearchHit, Segment } from "@notebox/core";
import type { CallResult, TestClient } from "./client";

export type { Note, NoteSummary, SearchHit, Segment };

export async function createNote(
  client: TestClient,
  note: { title: string; description?: string; tags?: string[]; pinned?: boolean },
): Promise<Note> {
  const res = await client.mutation<Note>("notes.create", note);
  if (res.status !== 200) throw new Error(`notes.create failed: ${res.status} ${JSON.stringify(res.error)}`);
  return res.data;
}

export async function trashNote(client: TestClient, id: string): Promise<Note> {
  const res = await client.mutation<Note>("notes.delete", { id });
  if (res.status !== 200) throw new Error(`notes.delete failed: ${res.status} ${JSON.stringify(res.error)}`);
  return res.data;
}

/** Follows `nextCursor` from the first page to the last; returns the pages in order. */
export async function walkPages<T>(
  client: TestClient,
  procedure: string,
  input: Record<string, unknown> = {},
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  do {
    const res: CallResult<Page<T>> = await client.query<Page<T>>(procedure, {
      ...input,
      ...(cursor ? { cursor } : {}),
    });
    if (res.status !== 200) throw new Error(`${procedure} failed: ${res.status} ${JSON.stringify(res.error)}`);
    pages.push(res.data.items);
    cursor = res.data.nextCursor;
    if (pages.length > 1000) throw new Error(`${procedure} never reached its last page`);
  } while (cursor);
  return pages;
}

export async function search(
  client: TestClient,
  q: string,
  options: { limit?: number; cursor?: string } = {},
): Promise<Page<SearchHit>> {
  const res = await client.query<Page<SearchHit>>("notes.search", { q, ...options });
  if (res.status !== 200)
    throw new Error(
      `notes.search ${JSON.stringify(q.slice(0, 40))} failed: ${res.status} ${JSON.stringify(res.error)}`,
    );
  return res.data;
}

/** The titles a search finds, best first. */
export async function searchTitles(client: TestClient, q: string): Promise<string[]> {
  return (await search(client, q, { limit: 100 })).items.map((hit) => hit.title);
}

/** The highlighted parts of a title or snippet. */
export const highlighted = (segments: Segment[]) => segments.filter((s) => s.highlight).map((s) => s.text);

/** The plain text the segments spell out. */
export const textOf = (segments: Segment[]) => segments.map((s) => s.text).join("");
