import {
  BULK_ACTIONS,
  bulkNotes,
  createNote,
  deleteTag,
  listTags,
  renameTag,
  getNote,
  getRevision,
  listRevisions,
  restoreRevision,
  listNotes,
  purgeTrash,
  restoreNote,
  searchNotes,
  trashNote,
  updateNote,
} from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: field.recordId });

const trashRouter = router({
  list: protectedProcedure
    .input(z.object({ cursor: field.cursor, limit: field.pageLimit.optional() }).optional())
    .query(({ ctx, input }) => listNotes({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input, trash: true })),

  purge: protectedProcedure
    .input(z.object({ id: field.recordId.optional() }).optional())
    .mutation(({ ctx, input }) => purgeTrash({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input?.id })),
});

const tagsRouter = router({
  list: protectedProcedure.query(({ ctx }) => listTags({ deps: ctx.deps, ownerId: ctx.auth.user.id })),

  rename: protectedProcedure
    .input(z.object({ from: field.tagName, to: field.tagName }))
    .mutation(({ ctx, input }) => renameTag({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  delete: protectedProcedure
    .input(z.object({ name: field.tagName }))
    .mutation(({ ctx, input }) => deleteTag({ deps: ctx.deps, ownerId: ctx.auth.user.id, name: input.name })),
});

const version = z.number({ error: "Send the version you read." }).int().min(1, { error: "Send the version you read." });

const revision = z
  .number({ error: "Name the revision by its number." })
  .int({ error: "Name the revision by its number." })
  .min(1, { error: "Name the revision by its number." });

// A note's history: the states its edits replaced, newest first; a restore is an edit like any
// other (it needs the version read, and keeps the state it replaces).
const revisionsRouter = router({
  list: protectedProcedure
    .input(z.object({ id: field.recordId, cursor: field.cursor }))
    .query(({ ctx, input }) => listRevisions({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  get: protectedProcedure
    .input(z.object({ id: field.recordId, revision }))
    .query(({ ctx, input }) => getRevision({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  restore: protectedProcedure
    .input(z.object({ id: field.recordId, revision, version }))
    .mutation(({ ctx, input }) => restoreRevision({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),
});

export const notesRouter = router({
  list: protectedProcedure
    .input(
      z
        .object({
          cursor: field.cursor,
          limit: field.pageLimit.optional(),
          sort: z.enum(["updated", "created", "title"], { error: "Sort by updated, created or title." }).optional(),
          tag: field.tagName.optional(),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listNotes({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  get: protectedProcedure
    .input(byId)
    .query(({ ctx, input }) => getNote({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  create: protectedProcedure
    .input(
      z.object({
        title: field.noteTitle,
        description: field.noteDescription.default(""),
        tags: field.tagList.optional(),
        pinned: z.boolean({ error: "Send pinned as true or false." }).optional(),
      }),
    )
    .mutation(({ ctx, input }) => createNote({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  update: protectedProcedure
    .input(
      z.object({
        id: field.recordId,
        title: field.noteTitle.optional(),
        description: field.noteDescription.optional(),
        tags: field.tagList.optional(),
        pinned: z.boolean({ error: "Send pinned as true or false." }).optional(),
        // Needed for an edit of the title, text or tags; a pin alone may leave it out.
        version: version.optional(),
      }),
    )
    .mutation(({ ctx, input }) => updateNote({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  delete: protectedProcedure
    .input(byId)
    .mutation(({ ctx, input }) => trashNote({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  restore: protectedProcedure
    .input(byId)
    .mutation(({ ctx, input }) => restoreNote({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  search: protectedProcedure
    .input(
      z.object({
        // Whatever is typed is searched for; very long input is cut rather than refused.
        q: z.string({ error: "Type something to search for." }).transform((q) => q.slice(0, 500)),
        cursor: field.cursor,
        limit: field.pageLimit.optional(),
      }),
    )
    .query(({ ctx, input }) => searchNotes({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  bulk: protectedProcedure
    .input(
      z.object({
        ids: field.noteIds,
        action: z.enum(BULK_ACTIONS, { error: `The action is one of ${BULK_ACTIONS.join(", ")}.` }),
        tag: field.tagName.optional(),
      }),
    )
    .mutation(({ ctx, input }) => bulkNotes({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  tags: tagsRouter,

  revisions: revisionsRouter,

  trash: trashRouter,
});
