import {
  adminStats,
  AUDIT_ACTIONS,
  deleteUser,
  getUserDetail,
  listAudit,
  listUsers,
  setUserDisabled,
  setUserRole,
} from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { adminProcedure, router } from "../trpc";

const usersRouter = router({
  list: adminProcedure
    .input(
      z.object({
        q: field.searchText.optional(),
        cursor: field.cursor,
        limit: field.pageLimit.optional(),
        sort: z.enum(["created", "email"], { error: "Sort by created or email." }).optional(),
      }),
    )
    .query(({ ctx, input }) => listUsers({ deps: ctx.deps, ...input })),

  get: adminProcedure
    .input(z.object({ id: field.recordId }))
    .query(({ ctx, input }) => getUserDetail({ deps: ctx.deps, id: input.id })),

  setRole: adminProcedure
    .input(z.object({ id: field.recordId, role: z.enum(["user", "admin"], { error: "The role is user or admin." }) }))
    .mutation(({ ctx, input }) =>
      setUserRole({ deps: ctx.deps, actorId: ctx.auth.user.id, id: input.id, role: input.role, meta: ctx.meta }),
    ),

  setDisabled: adminProcedure
    .input(z.object({ id: field.recordId, disabled: z.boolean({ error: "Say true or false." }) }))
    .mutation(({ ctx, input }) =>
      setUserDisabled({
        deps: ctx.deps,
        actorId: ctx.auth.user.id,
        id: input.id,
        disabled: input.disabled,
        meta: ctx.meta,
      }),
    ),

  delete: adminProcedure
    .input(z.object({ id: field.recordId }))
    .mutation(({ ctx, input }) =>
      deleteUser({ deps: ctx.deps, actorId: ctx.auth.user.id, id: input.id, meta: ctx.meta }),
    ),
});

const auditRouter = router({
  list: adminProcedure
    .input(
      z
        .object({
          cursor: field.cursor,
          limit: field.pageLimit.optional(),
          action: z.enum(AUDIT_ACTIONS, { error: "Unknown action." }).optional(),
          userId: field.recordId.optional(),
        })
        .optional(),
    )
    .query(({ ctx, input }) => listAudit({ deps: ctx.deps, ...input })),
});

export const adminRouter = router({
  users: usersRouter,
  stats: adminProcedure.query(({ ctx }) => adminStats({ deps: ctx.deps })),
  audit: auditRouter,
});
