import {
  adminStats,
  AUDIT_ACTIONS,
  createInvite,
  createUser,
  getSettings,
  listInvites,
  revokeInvite,
  setUserQuota,
  SIGN_UP_POLICIES,
  TWO_FACTOR_REQUIREMENTS,
  updateSettings,
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

const role = z.enum(["user", "admin"], { error: "The role is user or admin." });

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

  /** An account for someone, mailed a link to choose its password. */
  create: adminProcedure
    .input(z.object({ email: field.email, username: field.username, role: role.default("user") }))
    .mutation(({ ctx, input }) => createUser({ deps: ctx.deps, actorId: ctx.auth.user.id, ...input, meta: ctx.meta })),

  setRole: adminProcedure
    .input(z.object({ id: field.recordId, role }))
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

  /** The account's own file quota, or null to go back to the default. */
  setQuota: adminProcedure
    .input(z.object({ id: field.recordId, quotaBytes: field.quotaBytes.nullable() }))
    .mutation(({ ctx, input }) =>
      setUserQuota({ deps: ctx.deps, actorId: ctx.auth.user.id, ...input, meta: ctx.meta }),
    ),
});

const settingsRouter = router({
  get: adminProcedure.query(({ ctx }) => getSettings({ deps: ctx.deps })),

  update: adminProcedure
    .input(
      z.object({
        signUp: z.enum(SIGN_UP_POLICIES, { error: "Sign-up is open, invite or closed." }).optional(),
        allowedDomains: z
          .array(field.emailDomain, { error: "Send the domains as a list." })
          .max(100, { error: "Allow at most 100 domains." })
          .optional(),
        defaultQuotaBytes: field.quotaBytes.nullable().optional(),
        requireTwoFactor: z
          .enum(TWO_FACTOR_REQUIREMENTS, { error: "Require two-factor sign-in of off, admins or everyone." })
          .optional(),
        passwordSignIn: z.boolean({ error: "Password sign-in is on (true) or off (false)." }).optional(),
        ssoAutoLink: z.boolean({ error: "Automatic linking is on (true) or off (false)." }).optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      updateSettings({ deps: ctx.deps, actorId: ctx.auth.user.id, changes: input, meta: ctx.meta }),
    ),
});

const invitesRouter = router({
  create: adminProcedure
    .input(z.object({ email: field.email, role: role.default("user") }))
    .mutation(({ ctx, input }) =>
      createInvite({ deps: ctx.deps, actorId: ctx.auth.user.id, ...input, meta: ctx.meta }),
    ),

  list: adminProcedure.query(({ ctx }) => listInvites({ deps: ctx.deps })),

  revoke: adminProcedure
    .input(z.object({ id: field.recordId }))
    .mutation(({ ctx, input }) =>
      revokeInvite({ deps: ctx.deps, actorId: ctx.auth.user.id, id: input.id, meta: ctx.meta }),
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
  settings: settingsRouter,
  invites: invitesRouter,
  stats: adminProcedure.query(({ ctx }) => adminStats({ deps: ctx.deps })),
  audit: auditRouter,
});
