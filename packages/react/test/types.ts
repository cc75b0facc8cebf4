// Compile-time tests of the hooks' types, run by `npm run typecheck` (tsc), never executed. Every
// expect-error directive below must meet an error: if a wrong procedure name or input ever
// type-checked (the router typed as `any`, say), tsc would fail on the unused directive.
import { NoteboxProvider, trpc, useNotebox, type RouterInputs, type RouterOutputs } from "../src";

export function RightUses() {
  const list = trpc.notes.list.useQuery({ limit: 20, sort: "title" });
  const titles: string[] | undefined = list.data?.items.map((note) => note.title);
  const page: RouterOutputs["notes"]["list"] | undefined = list.data;
  const input: RouterInputs["notes"]["create"] = { title: "Minutes" };
  const create = trpc.notes.create.useMutation();
  create.mutate(input);
  const utils = useNotebox();
  void utils.notes.list.invalidate();
  const me = trpc.auth.me.useQuery(undefined, { enabled: false });
  return [titles, page, me.data?.username satisfies string | undefined];
}

/* eslint-disable @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- these are meant not to type-check */
export function WrongUses() {
  // @ts-expect-error: there is no notes.nope procedure
  trpc.notes.nope.useQuery();
  // @ts-expect-error: there is no notez router
  trpc.notez.list.useQuery();
  // @ts-expect-error: limit is a number
  trpc.notes.list.useQuery({ limit: "20" });
  // @ts-expect-error: sort is one of updated, created, title
  trpc.notes.list.useQuery({ sort: "size" });
  // @ts-expect-error: a note needs a title
  trpc.notes.create.useMutation().mutate({ description: "untitled" });
  // @ts-expect-error: notes.list is a query, not a mutation
  trpc.notes.list.useMutation();
  const list = trpc.notes.list.useQuery();
  // @ts-expect-error: a title is a string
  const title: number | undefined = list.data?.items[0]?.title;
  // @ts-expect-error: the provider needs the server's url
  NoteboxProvider({ token: "jwt" });
  return title;
}
