// Who is signed in, asked of the server once at start and updated by the pages that sign in or
// out; plus the route guards built on it.
import { goto } from "$app/navigation";
import { resolve } from "$app/paths";
import type { ResolvedPathname } from "$app/types";
import { redirect } from "@sveltejs/kit";
import { takeBoot } from "./boot";
import { HANDLES_UNAUTHORIZED, toProblem, trpc, whenSessionRefused, type ApiProblem, type User } from "./trpc";

class Session {
  user = $state<User | null>(null);
  /** True once the server has answered (or failed to): guards wait for this. */
  loaded = $state(false);
  /** Set when the server could not be asked at all, so the layout can offer a retry. */
  error = $state<string | null>(null);

  #pending: Promise<void> | null = null;

  /** Asks the server the first time it is called; later calls share that answer. */
  load(): Promise<void> {
    this.#pending ??= this.refresh();
    return this.#pending;
  }

  async refresh(): Promise<void> {
    try {
      // The first answer may already be in the page the server sent.
      const inPage = takeBoot("me");
      this.user = inPage ?? (await trpc.auth.me.query());
      this.error = null;
    } catch (error) {
      this.user = null;
      this.error = toProblem(error).message;
    } finally {
      this.loaded = true;
    }
  }

  /** After sign-in or sign-up; an answer without `mustChangePassword` is an account that need not. */
  signedIn(
    user: Omit<User, "mustChangePassword" | "twoFactorEnabled" | "hasPassword" | "secondFactorSetupRequired"> & {
      mustChangePassword?: boolean;
      twoFactorEnabled?: boolean;
      hasPassword?: boolean;
      secondFactorSetupRequired?: boolean;
    },
  ): void {
    this.user = {
      ...user,
      mustChangePassword: user.mustChangePassword ?? false,
      twoFactorEnabled: user.twoFactorEnabled ?? false,
      hasPassword: user.hasPassword ?? true,
      secondFactorSetupRequired: user.secondFactorSetupRequired ?? false,
    };
    this.error = null;
  }

  signedOut(): void {
    this.user = null;
  }

  get isAdmin(): boolean {
    return this.user?.role === "admin";
  }

  /**
   * A request of a signed-in page was refused as signed out: the session ended elsewhere (revoked,
   * expired, password changed on another device). Sends the visitor to sign in (in the admin area,
   * its own sign-in) and back to where they are, search and all. Only the first refusal acts:
   * afterwards nobody is signed in here, and the calls still on their way change nothing.
   */
  expired(): void {
    if (!this.user) return;
    this.user = null;
    // Not page.url: shallow routing (a search kept in the address) leaves that behind.
    const here = new URL(location.href);
    void goto(isAdminPath(here.pathname) ? adminSignInUrl(here) : signInUrl(here), { replaceState: true });
  }
}

export const session = new Session();

// The tRPC link (and the plain routes' callers) report here every refused session.
whenSessionRefused(() => session.expired());

/** Where to send a signed-out visitor so that signing in brings them back to `url`. */
export function signInUrl(url: URL) {
  return resolve(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`);
}

/** Where to send a signed-out visitor of the admin area so that signing in brings them back. */
export function adminSignInUrl(url: URL) {
  return resolve(`/admin/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`);
}

/** Whether a path (already resolved, as `safeNext` returns it) belongs to the admin area. */
export function isAdminPath(path: string): boolean {
  const admin = resolve("/admin");
  return path === admin || path.startsWith(`${admin}/`) || path.startsWith(`${admin}?`);
}

/**
 * Only same-site paths are followed after sign-in: "/notes" yes, "//evil.example" or
 * "https://evil.example" or "/\evil.example" no.
 */
export function safeNext(value: string | null): ResolvedPathname | null {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.includes("\\")) return null;
  // eslint-disable-next-line no-control-regex -- control characters have no place in a path we navigate to
  if (/[\u0000-\u001f\u007f]/.test(value)) return null;
  // It came from a location of this app, so the base path (if any) is already in it.
  return value as ResolvedPathname;
}

/** For the load function of a page only signed-in people may see. */
export function requireSignedIn(url: URL): void {
  if (!session.user) redirect(307, signInUrl(url));
}

/**
 * For the load function of a page about one of the signed-in person's things (a note, a file):
 * `get` makes its call with the options given. A session that ended sends them to sign in, by the
 * load's own redirect (the call tells the tRPC link so, as the page being left is not the one to
 * return to); any other failure comes back as data, so the page can say itself that the thing
 * does not exist or could not be opened.
 */
export async function loadOwn<T>(
  url: URL,
  get: (options: typeof HANDLES_UNAUTHORIZED) => Promise<T>,
): Promise<{ value: T; problem: null } | { value: null; problem: ApiProblem }> {
  requireSignedIn(url);
  try {
    return { value: await get(HANDLES_UNAUTHORIZED), problem: null };
  } catch (error) {
    const problem = toProblem(error);
    if (problem.code === "UNAUTHORIZED") {
      session.signedOut();
      redirect(307, signInUrl(url));
    }
    return { value: null, problem };
  }
}

/** The page where an account that must choose a new password goes first, then back to `url`. */
export function newPasswordUrl(url: URL) {
  return resolve(`/account/new-password?next=${encodeURIComponent(url.pathname + url.search)}`);
}

/**
 * For the layout's load, on every navigation: an account that must choose a new password (one
 * brought over from the original system) sees nothing else until it has, as the server refuses
 * everything else. Following a reset link stays possible.
 */
export function requireCurrentPassword(url: URL): void {
  const pathname = url.pathname; // read every time, so the layout's load runs again on each navigation
  if (!session.user?.mustChangePassword) return;
  if (pathname === resolve("/account/new-password") || pathname === resolve("/reset-password")) return;
  redirect(307, newPasswordUrl(url));
}

/**
 * For the layout's load: an account the administrator requires two-factor sign-in of, before it
 * has set it up, is kept on the account page (where the set-up is) as the server refuses the rest.
 */
export function requireSecondFactorSetup(url: URL): void {
  const pathname = url.pathname;
  if (!session.user?.secondFactorSetupRequired || pathname === resolve("/account")) return;
  redirect(307, `${resolve("/account")}?setup=two-factor`);
}

/** For the load function of sign-in and sign-up: someone already signed in goes home. */
export function requireSignedOut(): void {
  if (session.user) redirect(307, resolve("/"));
}

/** The server route that starts single sign-on and comes back to `next` (a full page load, not a page of the app). */
export function ssoStartHref(next: string): string {
  return `/api/v1/auth/oidc/start?next=${encodeURIComponent(next)}`;
}
