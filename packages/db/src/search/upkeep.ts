// Upkeep of the MySQL/MariaDB full-text index of notes (migration 2026-11-24T00-00-notes-search).
//
// InnoDB never takes an edited, trashed or deleted note's old words out of a FULLTEXT index: it
// puts the note's old document id on the index's deleted list, and every full-text statement reads
// that whole list before it looks a word up. On 1,000,000 notes a statement that finds nothing
// took 0.4 ms with 3,670 ids on the list and 10-17 ms with 125,000 (docs/benchmarks.md), and a
// search runs one to three such statements: without upkeep, search slows down with every save.
//
// Only OPTIMIZE TABLE empties the list, and only with the server's innodb_optimize_fulltext_only
// ON; with it OFF, OPTIMIZE TABLE rebuilds the whole table instead, which on a table with a
// FULLTEXT index blocks writes for minutes, so it is never sent then. With it ON, one statement
// rewrites the posting lists of innodb_ft_num_word_optimize words (2,000 by default), InnoDB keeps
// its place between statements, and the list is emptied once a pass over every word ends: in the
// statement where every FULLTEXT index of the table has just reached its end, which is why notes
// has only one (2026-12-07T00-00-search-one-index). With nothing on the list a statement returns
// at once. SQLite's FTS5 index merges its deletions as it goes: there is nothing to do there.
import { selectRows, type RowSource } from "../rows";

export type SearchUpkeep =
  /** SQLite: nothing to do. */
  | { state: "not-needed" }
  /** innodb_optimize_fulltext_only is OFF: nothing was sent (see above). */
  | { state: "off" }
  /** `finished`: the last two statements found nothing to rewrite; else the time ran out (or a stop). */
  | { state: "ran"; statements: number; ms: number; finished: boolean };

/**
 * A statement this quick rewrote no posting list: it found the list empty, or it ended a pass
 * (emptying the list). Rewriting even a few words takes longer (12-40 ms on a table of a few
 * hundred notes), an idle statement about 1 ms. Two such in a row end the upkeep: one alone may be
 * the end of a pass that new edits have since listed more ids for.
 */
const IDLE_STATEMENT_MS = 5;

interface OptimizeResult {
  Msg_type: string;
  Msg_text: string;
}

/**
 * Between two statements: writes to notes that waited on a statement go through, and a server too
 * loaded for an idle statement to look idle sends a few dozen a second, not thousands.
 */
const PAUSE_MS = 20;

/**
 * OPTIMIZE TABLE notes, one statement after another, until two in a row find nothing to rewrite,
 * `budgetMs` has passed or `signal` is aborted (the statement under way finishes). The setting is
 * read again before each statement: turned OFF meanwhile, the next would rebuild the table.
 */
export async function optimizeSearchIndex(
  db: RowSource,
  { budgetMs, signal }: { budgetMs: number; signal?: AbortSignal },
): Promise<SearchUpkeep> {
  if (db.dialect === "sqlite") return { state: "not-needed" };
  const started = performance.now();
  let statements = 0;
  let idleInARow = 0;
  const stopped = (): SearchUpkeep => ({ state: "ran", statements, ms: performance.now() - started, finished: false });
  for (;;) {
    if (statements > 0) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
    if (signal?.aborted) return stopped();
    const [setting] = await selectRows<{ on: number | string }>(
      db,
      "SELECT @@GLOBAL.innodb_optimize_fulltext_only AS `on`",
      [],
    );
    if (Number(setting?.on) !== 1) {
      return statements === 0 ? { state: "off" } : stopped();
    }
    const statementStarted = performance.now();
    const results = await selectRows<OptimizeResult>(db, "OPTIMIZE TABLE notes", []);
    const failure = results.find((r) => r.Msg_type.toLowerCase() === "error");
    if (failure) throw new Error(`OPTIMIZE TABLE notes: ${failure.Msg_text}`);
    statements++;
    const now = performance.now();
    idleInARow = now - statementStarted < IDLE_STATEMENT_MS ? idleInARow + 1 : 0;
    const finished = idleInARow === 2;
    if (finished || now - started >= budgetMs) return { state: "ran", statements, ms: now - started, finished };
  }
}
