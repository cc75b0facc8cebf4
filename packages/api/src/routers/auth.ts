import {
  AppError,
  changePassword,
  completePendingSsoLink,
  createApiKey,
  deletePasskey,
  listPasskeys,
  loginWithPasskey,
  passkeyLoginOptions,
  passkeyRegistrationOptions,
  registerPasskey,
  renamePasskey,
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
  resetLinkInfo,
  resetPassword,
  revokeSession,
  toPublicUser,
  verifyEmail,
  ssoIdentity,
  unlinkSso,
  type SignedIn,
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
  type Context,
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

/** Refuses a JWT or an API key: what makes or signs in with credentials needs the person at their browser. */
function requireWebSession(auth: { kind: string }, message: string) {
  if (auth.kind !== "session") throw new TRPCError({ code: "FORBIDDEN", message });
}

/** A JWT or a key cannot mint more keys. */
const sessionProcedure = protectedProcedure.use(({ ctx, next }) => {
  requireWebSession(ctx.auth, "Manage API keys from the web app.");
  return next();
});

/** Passkeys and single sign-on are managed in a browser; open while a required two-factor set-up is pending (a passkey counts). */
const signInMethodProcedure = secondFactorSetupProcedure.use(({ ctx, next }) => {
  requireWebSession(ctx.auth, "Manage how you sign in from the web app.");
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

/**
 * What a sign-in answers: the account, and whether something must be done before anything else.
 * A single sign-on identity waiting for this account's owner to sign in is linked now.
 */
async function signedInAnswer(ctx: Context, result: SignedIn) {
  let ssoLinked = false;
  if (ctx.ssoLinkCookie) {
    ctx.clearSsoLinkCookie();
    try {
      ssoLinked = await completePendingSsoLink(ctx.deps, ctx.ssoLinkCookie, result.user.id, ctx.meta);
    } catch (error) {
      // Linked to another identity meanwhile: the sign-in itself stands, without the link.
      if (!(error instanceof AppError)) throw error;
    }
  }
  ctx.setSessionCookie(result.token);
  ctx.setDeviceCookie(result.deviceToken);
  const { mustChangePassword, twoFactorEnabled, hasPassword, secondFactorSetupRequired } = result;
  return {
    status: result.status,
    user: { ...result.user, mustChangePassword, twoFactorEnabled, hasPassword, secondFactorSetupRequired },
    ssoLinked,
  };
}

// Passkeys: managed from the web app (a WebAuthn ceremony needs the browser); the sign-in pair is
// public. Removing one needs a fresh proof: this session signed in within 10 minutes, or the
// password or an app code given with the request.
const passkeysRouter = router({
  registerOptions: signInMethodProcedure.mutation(({ ctx }) =>
    passkeyRegistrationOptions({ deps: ctx.deps, userId: ctx.auth.user.id }),
  ),

  register: signInMethodProcedure
    .input(z.object({ response: field.passkeyRegistration, name: field.passkeyName.optional() }))
    .mutation(async ({ ctx, input }) => ({
      passkey: await registerPasskey({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        response: input.response,
        name: input.name,
        meta: ctx.meta,
      }),
    })),

  list: signInMethodProcedure.query(async ({ ctx }) => ({
    items: await listPasskeys({ deps: ctx.deps, userId: ctx.auth.user.id }),
    nextCursor: null,
  })),

  rename: signInMethodProcedure
    .input(z.object({ id: field.recordId, name: field.passkeyName }))
    .mutation(async ({ ctx, input }) => ({
      passkey: await renamePasskey({ deps: ctx.deps, userId: ctx.auth.user.id, ...input }),
    })),

  delete: signInMethodProcedure
    .input(
      z.object({ id: field.recordId, password: field.existingPassword.optional(), code: field.totpCode.optional() }),
    )
    .mutation(({ ctx, input }) =>
      deletePasskey({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        id: input.id,
        proof: { sessionId: ctx.auth.sessionId ?? null, password: input.password, code: input.code },
        meta: ctx.meta,
      }),
    ),

  loginOptions: publicProcedure.mutation(({ ctx }) => passkeyLoginOptions({ deps: ctx.deps, meta: ctx.meta })),

  login: publicProcedure.input(z.object({ response: field.passkeyAssertion })).mutation(async ({ ctx, input }) => {
    const { userHandle, ...assertion } = input.response.response;
    const result = await loginWithPasskey({
      deps: ctx.deps,
      response: { ...input.response, response: { ...assertion, userHandle: userHandle ?? undefined } },
      meta: ctx.meta,
      previousSessionId: ctx.auth?.sessionId,
      deviceToken: ctx.deviceToken,
    });
    return await signedInAnswer(ctx, result);
  }),
});

// The account's single sign-on identity (linked by signing in with the provider, see the
// /api/v1/auth/oidc routes); unlinking it needs a fresh proof like removing a passkey.
const ssoRouter = router({
  identity: protectedProcedure.query(({ ctx }) => ssoIdentity({ deps: ctx.deps, userId: ctx.auth.user.id })),

  unlink: signInMethodProcedure
    .input(z.object({ password: field.existingPassword.optional(), code: field.totpCode.optional() }))
    .mutation(({ ctx, input }) =>
      unlinkSso({
        deps: ctx.deps,
        userId: ctx.auth.user.id,
        proof: { sessionId: ctx.auth.sessionId ?? null, ...input },
        meta: ctx.meta,
      }),
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
      return await signedInAnswer(ctx, result);
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
      return await signedInAnswer(ctx, result);
    }),

  totp: totpRouter,

  passkeys: passkeysRouter,

  sso: ssoRouter,

  /**
   * Who may sign up here: the sign-up page says so before anyone types. `mailDelivery` "log": no
   * mail server, so the verify page says the code is in the server's log.
   */
  signUpPolicy: publicProcedure.query(async ({ ctx }) => {
    const { signUp, allowedDomains, passwordSignIn, sso, mailDelivery } = await getSettings({ deps: ctx.deps });
    return { signUp, allowedDomains, passwordSignIn, sso, mailDelivery };
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
          hasPassword: Boolean(ctx.auth.user.hasPassword),
          secondFactorSetupRequired:
            ctx.authentication.outcome === "signedIn" && Boolean(ctx.authentication.secondFactorSetupRequired),
        }
      : null,
  ),

  requestPasswordReset: publicProcedure
    .input(z.object({ email: field.email }))
    .mutation(({ ctx, input }) => requestPasswordReset({ deps: ctx.deps, email: input.email, meta: ctx.meta })),

  /**
   * Whether a reset link still works, so the page can say it does not before anyone types. A
   * mutation only so the token travels in a request body, never in a URL a proxy might log.
   */
  resetLinkInfo: publicProcedure
    .input(z.object({ token: field.token }))
    .mutation(({ ctx, input }) => resetLinkInfo({ deps: ctx.deps, token: input.token })),

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
