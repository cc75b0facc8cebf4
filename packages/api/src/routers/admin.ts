import { adminStats, listUsers } from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { adminProcedure, router } from "../trpc";

const usersRouter = router({
  list: adminProcedure
    .input(
      z.object({
        q: field.searchText.optional(),
        cursor: z.string().max(512).nullish(),
        limit: z.number().int().min(1).max(100).optional(),
      }),
    )
    .query(({ ctx, input }) => listUsers({ deps: ctx.deps, ...input })),
});

export const adminRouter = router({
  users: usersRouter,
  stats: adminProcedure.query(({ ctx }) => adminStats({ deps: ctx.deps })),
});
