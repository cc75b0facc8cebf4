import {
  attachFile,
  getFile,
  listFiles,
  purgeFileTrash,
  renameFile,
  restoreFile,
  storageUsage,
  trashFile,
} from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: field.recordId });
const page = { cursor: field.cursor, limit: field.pageLimit.optional(), q: field.searchText.optional() };

const trashRouter = router({
  list: protectedProcedure
    .input(z.object(page).optional())
    .query(({ ctx, input }) => listFiles({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input, trash: true })),

  purge: protectedProcedure
    .input(z.object({ id: field.recordId.optional() }).optional())
    .mutation(({ ctx, input }) => purgeFileTrash({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input?.id })),
});

export const filesRouter = router({
  list: protectedProcedure
    .input(z.object({ ...page, noteId: field.recordId.optional() }).optional())
    .query(({ ctx, input }) => listFiles({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  get: protectedProcedure
    .input(byId)
    .query(({ ctx, input }) => getFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  rename: protectedProcedure
    .input(
      z.object({
        id: field.recordId,
        name: field.fileName,
      }),
    )
    .mutation(({ ctx, input }) => renameFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  /** Adds a file to one of the caller's notes, or with `noteId: null` takes it out of its note. */
  attach: protectedProcedure
    .input(z.object({ id: field.recordId, noteId: field.recordId.nullable() }))
    .mutation(({ ctx, input }) => attachFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, ...input })),

  /** Moves the file to the trash (files.restore brings it back; files.trash.purge removes it for good). */
  delete: protectedProcedure
    .input(byId)
    .mutation(({ ctx, input }) => trashFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  restore: protectedProcedure
    .input(byId)
    .mutation(({ ctx, input }) => restoreFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id })),

  trash: trashRouter,

  usage: protectedProcedure.query(({ ctx }) => storageUsage({ deps: ctx.deps, ownerId: ctx.auth.user.id })),
});
