import {
  changePassword,
  createApiKey,
  issueToken,
  listApiKeys,
  revokeApiKey,
  invalidateSession,
  invalidateUserSessions,
  listSessions,
  acceptInvite,
  disableTotp,
  getSettings,
  inviteInfo,
  enableTotp,
  login,
  loginSecondFactor,
  regenerateRecoveryCodes,
  register,
  setupTotp,
  twoFactorStatus,
  requestPasswordReset,
  resendCode,
  resetPassword,
  revokeSession,
  toPublicUser,
  verifyEmail,
} from "@notebox/core";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import * as field from "../schemas";
import {
  credentialProcedure,
  passwordChangeProcedure,
  protectedProcedure,
  publicProcedure,
  router,
  secondFactorSetupProcedure,
} from "../trpc";

// Open to an account that must still set a new password: ending sessions is part of securing it.
const sessionsRouter = router({
  list: passwordChangeProcedure.query(async ({ ctx }) => ({
    items: await listSessions({ deps: ctx.deps, userId: ctx.auth.user.id, currentSessionId: ctx.auth.sessionId }),
    nextCursor: null,
  })),

  revoke: passwordChangeProcedure.input(z.object({ id: field.sessionId })).mutation(async ({ ctx, input }) => {
    await revokeSession({ deps: ctx.deps, userId: ctx.auth.user.id, sessionId: input.id });
    if (input.id === ctx.auth.sessionId) ctx.clearSessionCookie();
    return { status: "revoked" as const };
  }),

  revokeOthers: passwordChangeProcedure.mutation(async ({ ctx }) => {
    const revoked = await invalidateUserSessions({
      deps: ctx.deps,
      userId: ctx.auth.user.id,
      exceptSessionId: ctx.auth.sessionId ?? undefined,
    });
    return { revoked };
  }),
});

/** Key management needs the person at their browser: a JWT or a key cannot mint more keys. */
const sessionProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.auth.kind !== "session") {
    throw new TRPCError({ code: "FORBIDDEN", message: "Manage API keys from the web app." });
  }
  return next();
});

const apiKeysRouter = router({
  list: sessionProcedure.query(async ({ ctx }) => ({
    items: await listApiKeys({ deps: ctx.deps, userId: ctx.auth.user.id }),
    nextCursor: null,
  })),

  create: sessionProcedure
    .input(
      z.object({
        name: z
          .string({ error: "Name the key after the service that will use it." })
          .trim()
          .min(1, { error: "Name the key after the service that will use it." })
          .max(100, { error: "Keep the name to 100 characters." }),
        expiresAt: z.iso.datetime({ error: "Give the expiry as an ISO date-time." }).nullish(),
      }),
    )
    .mutation(({ ctx, input }) =>
      createApiKey({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        name: input.name,
        expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
        meta: ctx.meta,
      }),
    ),

  revoke: sessionProcedure.input(z.object({ id: field.recordId })).mutation(async ({ ctx, input }) => {
    await revokeApiKey({ deps: ctx.deps, userId: ctx.auth.user.id, id: input.id, meta: ctx.meta });
    return { status: "revoked" as const };
  }),
});

// Two-factor sign-in: changing it needs a code from the app (and to turn it off, the password too).
const totpRouter = router({
  status: secondFactorSetupProcedure.query(({ ctx }) => twoFactorStatus({ deps: ctx.deps, userId: ctx.auth.user.id })),

  setup: secondFactorSetupProcedure.mutation(({ ctx }) => setupTotp({ deps: ctx.deps, userId: ctx.auth.user.id })),

  enable: secondFactorSetupProcedure
    .input(z.object({ code: field.totpCode }))
    .mutation(({ ctx, input }) =>
      enableTotp({ deps: ctx.deps, userId: ctx.auth.user.id, code: input.code, meta: ctx.meta }),
    ),

  disable: secondFactorSetupProcedure
    .input(z.object({ password: field.existingPassword, code: field.totpCode }))
    .mutation(({ ctx, input }) => disableTotp({ deps: ctx.deps, userId: ctx.auth.user.id, ...input, meta: ctx.meta })),

  regenerateRecoveryCodes: secondFactorSetupProcedure
    .input(z.object({ code: field.totpCode }))
    .mutation(({ ctx, input }) =>
      regenerateRecoveryCodes({ deps: ctx.deps, userId: ctx.auth.user.id, code: input.code, meta: ctx.meta }),
    ),
});

export const authRouter = router({
  register: publicProcedure
    .input(z.object({ username: field.username, email: field.email, password: field.password }))
    .mutation(({ ctx, input }) => register({ deps: ctx.deps, ...input, meta: ctx.meta })),

  verifyEmail: publicProcedure
    .input(z.object({ email: field.email, code: field.code }))
    .mutation(async ({ ctx, input }) => {
      const { user, token, deviceToken } = await verifyEmail({ deps: ctx.deps, ...input, meta: ctx.meta });
      if (ctx.auth?.sessionId) await invalidateSession({ deps: ctx.deps, sessionId: ctx.auth.sessionId });
      ctx.setSessionCookie(token);
      ctx.setDeviceCookie(deviceToken);
      return { user };
    }),

  resendCode: publicProcedure
    .input(z.object({ email: field.email }))
    .mutation(({ ctx, input }) => resendCode({ deps: ctx.deps, email: input.email, meta: ctx.meta })),

  login: publicProcedure
    .input(z.object({ email: field.email, password: field.existingPassword }))
    .mutation(async ({ ctx, input }) => {
      const result = await login({
        deps: ctx.deps,
        ...input,
        meta: ctx.meta,
        previousSessionId: ctx.auth?.sessionId,
        deviceToken: ctx.deviceToken,
      });
      if (result.status === "second_factor_required") return { status: result.status, challenge: result.challenge };
      ctx.setSessionCookie(result.token);
      ctx.setDeviceCookie(result.deviceToken);
      const { mustChangePassword, twoFactorEnabled, secondFactorSetupRequired } = result;
      return {
        status: result.status,
        user: { ...result.user, mustChangePassword, twoFactorEnabled, secondFactorSetupRequired },
      };
    }),

  /** The second step of a sign-in with two-factor on: the challenge auth.login gave and one code. */
  loginSecondFactor: publicProcedure
    .input(
      z
        .object({
          challenge: field.challenge,
          code: field.totpCode.optional(),
          recoveryCode: field.recoveryCode.optional(),
        })
        .refine((v) => (v.code === undefined) !== (v.recoveryCode === undefined), {
          error: "Enter the code from your app, or one recovery code.",
          path: ["code"],
        }),
    )
    .mutation(async ({ ctx, input }) => {
      const result = await loginSecondFactor({
        deps: ctx.deps,
        ...input,
        meta: ctx.meta,
        previousSessionId: ctx.auth?.sessionId,
        deviceToken: ctx.deviceToken,
      });
      ctx.setSessionCookie(result.token);
      ctx.setDeviceCookie(result.deviceToken);
      const { mustChangePassword, twoFactorEnabled, secondFactorSetupRequired } = result;
      return {
        status: result.status,
        user: { ...result.user, mustChangePassword, twoFactorEnabled, secondFactorSetupRequired },
      };
    }),

  totp: totpRouter,

  /** Who may sign up here: the sign-up page says so before anyone types. */
  signUpPolicy: publicProcedure.query(async ({ ctx }) => {
    const { signUp, allowedDomains } = await getSettings({ deps: ctx.deps });
    return { signUp, allowedDomains };
  }),

  inviteInfo: publicProcedure
    .input(z.object({ token: field.inviteToken }))
    .query(({ ctx, input }) => inviteInfo({ deps: ctx.deps, token: input.token })),

  /** Accepts an invitation: the account is created (verified, as the link was mailed) and signed in. */
  acceptInvite: publicProcedure
    .input(z.object({ token: field.inviteToken, username: field.username, password: field.password }))
    .mutation(async ({ ctx, input }) => {
      const { user, token, deviceToken } = await acceptInvite({ deps: ctx.deps, ...input, meta: ctx.meta });
      if (ctx.auth?.sessionId) await invalidateSession({ deps: ctx.deps, sessionId: ctx.auth.sessionId });
      ctx.setSessionCookie(token);
      ctx.setDeviceCookie(deviceToken);
      return { user };
    }),

  logout: publicProcedure.mutation(async ({ ctx }) => {
    if (ctx.auth?.sessionId) await invalidateSession({ deps: ctx.deps, sessionId: ctx.auth.sessionId });
    ctx.clearSessionCookie();
    return { status: "signed_out" as const };
  }),

  /** `mustChangePassword`: every other call is refused until auth.changePassword succeeds. */
  me: publicProcedure.query(({ ctx }) =>
    ctx.auth
      ? {
          ...toPublicUser(ctx.auth.user),
          mustChangePassword: Boolean(ctx.auth.user.mustChangePassword),
          twoFactorEnabled: ctx.auth.user.totpEnabledAt !== null,
          secondFactorSetupRequired:
            ctx.authentication.outcome === "signedIn" && Boolean(ctx.authentication.secondFactorSetupRequired),
        }
      : null,
  ),

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

  changePassword: passwordChangeProcedure
    .input(z.object({ currentPassword: field.existingPassword, newPassword: field.password }))
    .mutation(async ({ ctx, input }) => {
      const { token, revokedApiKeys } = await changePassword({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        ...input,
        meta: ctx.meta,
        callerKey: ctx.auth.sessionId ?? `user:${ctx.auth.user.id}`,
      });
      ctx.setSessionCookie(token);
      return { status: "password_changed" as const, revokedApiKeys };
    }),

  sessions: sessionsRouter,

  apiKeys: apiKeysRouter,

  /** A 15-minute JWT for `Authorization: Bearer`, from the browser session or an API key. */
  issueToken: credentialProcedure.mutation(({ ctx }) => {
    const { auth } = ctx;
    if (auth.kind === "jwt") {
      throw new TRPCError({ code: "UNAUTHORIZED", message: "Use your session or an API key to get a new token." });
    }
    return issueToken({
      deps: ctx.deps,
      user: auth.user,
      source: auth.kind === "session" ? { sessionId: auth.sessionId } : { apiKeyId: auth.apiKeyId },
    });
  }),
});
