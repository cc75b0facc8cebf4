// The hooks rendered in jsdom against the real server: a small page that lists the user's notes
// and adds one through a mutation, the way another service's React front end would use them.
import { QueryClient } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, inject, it } from "vitest";
import { NoteboxProvider, trpc, useNotebox, type NoteboxProviderProps } from "../src";

const notebox = inject("notebox");

afterEach(() => cleanup());

/** The intranet page: the user's notes, and a form that adds one. */
function NotesPage() {
  const utils = useNotebox();
  const me = trpc.auth.me.useQuery();
  const list = trpc.notes.list.useQuery({ limit: 20 });
  const create = trpc.notes.create.useMutation({ onSuccess: () => utils.notes.list.invalidate() });
  const [title, setTitle] = useState("");
  if (list.error) return <p role="alert">{list.error.data?.code ?? list.error.message}</p>;
  if (!list.data) return <p>Loading…</p>;
  return (
    <main>
      <h1>{me.data ? `Notes of ${me.data.username}` : "Notes"}</h1>
      <ul aria-label="notes">
        {list.data.items.map((note) => (
          <li key={note.id}>{note.title}</li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate({ title, description: "added from React" });
        }}
      >
        <input aria-label="Title" value={title} onChange={(event) => setTitle(event.target.value)} />
        <button type="submit" disabled={create.isPending}>
          Add
        </button>
      </form>
    </main>
  );
}

interface Sent {
  path: string;
  calls: string[];
  authorization: string | null;
  credentials: RequestCredentials | undefined;
}

/** A fetch that records what the provider sends, then sends it for real. */
function recordingFetch(adjust?: (headers: Headers, init: RequestInit | undefined) => void) {
  const sent: Sent[] = [];
  const recording: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = new Headers(init?.headers);
    adjust?.(headers, init);
    sent.push({
      path: url.pathname,
      calls: url.pathname.replace("/api/v1/trpc/", "").split(","),
      authorization: headers.get("authorization"),
      credentials: init?.credentials,
    });
    return fetch(input, { ...init, headers });
  };
  return { sent, recording };
}

function renderPage(props: Omit<NoteboxProviderProps, "url" | "children">) {
  return render(
    <NoteboxProvider url={notebox.url} {...props}>
      <NotesPage />
    </NoteboxProvider>,
  );
}

async function addNote(title: string) {
  fireEvent.change(screen.getByLabelText("Title"), { target: { value: title } });
  fireEvent.click(screen.getByRole("button", { name: "Add" }));
  const list = screen.getByRole("list", { name: "notes" });
  await within(list).findByText(title);
  return within(list)
    .getAllByRole("listitem")
    .map((item) => item.textContent);
}

describe("@notebox/react against the real server", () => {
  it("lists the notes with a JWT, adds one through a mutation and shows the list updated", async () => {
    const { sent, recording } = recordingFetch();
    renderPage({ token: notebox.token, fetch: recording });

    const list = await screen.findByRole("list", { name: "notes" });
    expect(
      within(list)
        .getAllByRole("listitem")
        .map((item) => item.textContent),
    ).toEqual([notebox.seededTitle]);
    await screen.findByText(/^Notes of /);

    expect(await addNote("Added from the intranet")).toEqual(["Added from the intranet", notebox.seededTitle]);

    // The two queries of the first render went in one batch; every call carried the JWT and no cookie.
    expect(sent[0]!.calls.sort()).toEqual(["auth.me", "notes.list"]);
    expect(sent.map((s) => s.calls.join(","))).toEqual(["auth.me,notes.list", "notes.create", "notes.list"]);
    expect(sent.every((s) => s.path.startsWith("/api/v1/trpc/"))).toBe(true);
    expect(sent.every((s) => s.authorization === `Bearer ${notebox.token}` && s.credentials === "omit")).toBe(true);
  });

  it("asks getToken for the JWT, which it may get by exchanging an API key", async () => {
    let exchanges = 0;
    let jwt: string | null = null;
    const getToken = async () => {
      if (jwt) return jwt;
      exchanges++;
      const answer = await fetch(`${notebox.url}/api/v1/trpc/auth.issueToken`, {
        method: "POST",
        headers: { authorization: `Bearer ${notebox.apiKey}`, "content-type": "application/json" },
      });
      if (!answer.ok) throw new Error(`auth.issueToken answered ${answer.status}`);
      jwt = ((await answer.json()) as { result: { data: { token: string } } }).result.data.token;
      return jwt;
    };
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    renderPage({ getToken, queryClient });

    // Another account: it sees none of the first one's notes.
    await screen.findByRole("button", { name: "Add" });
    expect(within(screen.getByRole("list", { name: "notes" })).queryAllByRole("listitem")).toHaveLength(0);
    expect(await addNote("Through a key")).toEqual(["Through a key"]);
    expect(exchanges).toBe(1);
    // The hooks filled the QueryClient that was handed in.
    expect(queryClient.getQueryCache().getAll().length).toBeGreaterThanOrEqual(2);
  });

  it("sends the browser's session cookie when given no token, and reports a refusal at once", async () => {
    // What a browser does on Notebox's own origin with credentials: "include": cookie and Origin go along.
    const browser = recordingFetch((headers, init) => {
      if (init?.credentials !== "include") return;
      headers.set("cookie", notebox.session.cookie);
      if (init.method === "POST") headers.set("origin", notebox.session.origin);
    });
    renderPage({ fetch: browser.recording });
    await screen.findByRole("button", { name: "Add" });
    expect(await addNote("From a session")).toEqual(["From a session"]);
    expect(browser.sent.every((s) => s.credentials === "include" && s.authorization === null)).toBe(true);
    cleanup();

    // Signed out (no cookie, no token): UNAUTHORIZED shows without retrying.
    const signedOut = recordingFetch();
    renderPage({ fetch: signedOut.recording });
    expect((await screen.findByRole("alert")).textContent).toBe("UNAUTHORIZED");
    expect(signedOut.sent).toHaveLength(1);
  });
});
