import {
  changePassword,
  invalidateSession,
  invalidateUserSessions,
  listSessions,
  login,
  register,
  requestPasswordReset,
  resendCode,
  resetPassword,
  revokeSession,
  toPublicUser,
  verifyEmail,
} from "@notebox/core";
import { z } from "zod";
import * as field from "../schemas";
import { protectedProcedure, publicProcedure, router } from "../trpc";

const sessionsRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => ({
    items: await listSessions({ deps: ctx.deps, userId: ctx.auth.user.id, currentSessionId: ctx.auth.sessionId }),
    nextCursor: null,
  })),

  revoke: protectedProcedure.input(z.object({ id: field.sessionId })).mutation(async ({ ctx, input }) => {
    await revokeSession({ deps: ctx.deps, userId: ctx.auth.user.id, sessionId: input.id });
    if (input.id === ctx.auth.sessionId) ctx.clearSessionCookie();
    return { status: "revoked" as const };
  }),

  revokeOthers: protectedProcedure.mutation(async ({ ctx }) => {
    const revoked = await invalidateUserSessions({
      deps: ctx.deps,
      userId: ctx.auth.user.id,
      exceptSessionId: ctx.auth.sessionId ?? undefined,
    });
    return { revoked };
  }),
});

export const authRouter = router({
  register: publicProcedure
    .input(z.object({ username: field.username, email: field.email, password: field.password }))
    .mutation(({ ctx, input }) => register({ deps: ctx.deps, ...input, meta: ctx.meta })),

  verifyEmail: publicProcedure
    .input(z.object({ email: field.email, code: field.code }))
    .mutation(async ({ ctx, input }) => {
      const { user, token } = await verifyEmail({ deps: ctx.deps, ...input, meta: ctx.meta });
      if (ctx.auth?.sessionId) await invalidateSession({ deps: ctx.deps, sessionId: ctx.auth.sessionId });
      ctx.setSessionCookie(token);
      return { user };
    }),

  resendCode: publicProcedure
    .input(z.object({ email: field.email }))
    .mutation(({ ctx, input }) => resendCode({ deps: ctx.deps, email: input.email, meta: ctx.meta })),

  login: publicProcedure
    .input(z.object({ email: field.email, password: field.existingPassword }))
    .mutation(async ({ ctx, input }) => {
      const { user, token } = await login({
        deps: ctx.deps,
        ...input,
        meta: ctx.meta,
        previousSessionId: ctx.auth?.sessionId,
      });
      ctx.setSessionCookie(token);
      return { user };
    }),

  logout: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.auth?.sessionId) await invalidateSession({ deps: ctx.deps, sessionId: ctx.auth.sessionId });
    ctx.clearSessionCookie();
    return { status: "signed_out" as const };
  }),

  me: publicProcedure.query(({ ctx }) => (ctx.auth ? toPublicUser(ctx.auth.user) : null)),

  requestPasswordReset: publicProcedure
    .input(z.object({ email: field.email }))
    .mutation(({ ctx, input }) => requestPasswordReset({ deps: ctx.deps, email: input.email, meta: ctx.meta })),

  resetPassword: publicProcedure
    .input(z.object({ token: field.token, password: field.password }))
    .mutation(async ({ ctx, input }) => {
      const result = await resetPassword({ deps: ctx.deps, ...input, meta: ctx.meta });
      if (ctx.auth) ctx.clearSessionCookie();
      return result;
    }),

  changePassword: protectedProcedure
    .input(z.object({ currentPassword: field.existingPassword, newPassword: field.password }))
    .mutation(async ({ ctx, input }) => {
      const { token } = await changePassword({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        ...input,
        meta: ctx.meta,
      });
      ctx.setSessionCookie(token);
      return { status: "password_changed" as const };
    }),

  sessions: sessionsRouter,
});
