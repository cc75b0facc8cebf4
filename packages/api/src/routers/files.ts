import { deleteFile, getFile, listFiles, renameFile, storageUsage } from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { protectedProcedure, router } from "../trpc";

const byId = z.object({ id: field.recordId });

export const filesRouter = router({
  list: protectedProcedure
    .input(
      z.object({ cursor: field.cursor, limit: field.pageLimit.optional(), q: field.searchText.optional() }).optional(),
    )
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

  delete: protectedProcedure.input(byId).mutation(async ({ ctx, input }) => {
    await deleteFile({ deps: ctx.deps, ownerId: ctx.auth.user.id, id: input.id });
    return { status: "deleted" as const };
  }),

  usage: protectedProcedure.query(({ ctx }) => storageUsage({ deps: ctx.deps, ownerId: ctx.auth.user.id })),
});
