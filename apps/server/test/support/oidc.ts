// A real OpenID provider for the "Sign in with <provider>" tests: the certified `oidc-provider`
// library on a free loopback port, with one confidential client (code flow, PKCE S256 required),
// its own freshly generated signing key, the library's in-memory adapter, and a mutable map of
// test accounts. The login and consent pages are minimal ones of our own (the library's
// devInteractions can't tell an unknown login from a known one); everything else — authorization
// codes, tokens, ID token signatures, userinfo — is the library's.
//
// `signInAtProvider` plays the person at the provider with plain fetch and a small cookie jar.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { freePort } from "./server";

// --- The small surface of oidc-provider used here (the package ships no types). ---

interface InteractionDetails {
  uid: string;
  prompt: {
    name: string;
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}

interface ProviderGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): ProviderGrant;
    find(id: string): Promise<ProviderGrant | undefined>;
  };
  on(event: "server_error", listener: (ctx: unknown, error: Error) => void): unknown;
}

type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
type AdapterFactory = (model: string) => unknown;

interface OidcProviderLibrary {
  Provider: ProviderConstructor;
  createMemoryAdapter: (clockTolerance?: number) => AdapterFactory;
}

let library: Promise<OidcProviderLibrary> | undefined;

/** Imports oidc-provider once, without its "unsupported runtime" notice on Node 20. */
function loadLibrary(): Promise<OidcProviderLibrary> {
  library ??= (async () => {
    // Specifiers in variables: the package has no type declarations to resolve.
    const main = "oidc-provider";
    const memory = "oidc-provider/lib/adapters/memory_adapter.js";
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (typeof args[0] === "string" && args[0].includes("oidc-provider WARNING: Unsupported runtime")) return;
      warn(...args);
    };
    try {
      const providerModule = (await import(main)) as { default: ProviderConstructor };
      const memoryModule = (await import(memory)) as {
        createMemoryAdapter: OidcProviderLibrary["createMemoryAdapter"];
      };
      return { Provider: providerModule.default, createMemoryAdapter: memoryModule.createMemoryAdapter };
    } finally {
      console.warn = warn;
    }
  })();
  return library;
}

// --- The provider. ---

export interface OidcTestAccount {
  email: string;
  email_verified: boolean;
  name?: string;
  preferred_username?: string;
}

export interface OidcProviderOptions {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
  /**
   * Put the scope claims (email, name, …) in the ID token too. Off by default, as the library
   * does it (conformIdTokenClaims): with the code flow they then come only from userinfo.
   */
  claimsInIdToken?: boolean;
  /** Label for OIDC_NAME in `env`. */
  name?: string;
}

export interface OidcProvider {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_NAME, for startTestServer({ env }). */
  env: Record<string, string>;
  /** Adds or replaces the account whose subject identifier (and login at the provider) is `sub`. */
  setAccount(sub: string, account: OidcTestAccount): void;
  removeAccount(sub: string): void;
  accounts: Map<string, OidcTestAccount>;
  /** Errors the provider reported as server_error (a test may assert this stays empty). */
  serverErrors: Error[];
  close(): Promise<void>;
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function page(res: ServerResponse, status: number, title: string, body: string): void {
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(html),
  });
  res.end(html);
}

function loginPage(res: ServerResponse, uid: string, error?: string): void {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  page(
    res,
    error ? 401 : 200,
    "Sign-in",
    `${error ? `<p class="error">${escapeHtml(error)}</p>` : ""}` +
      `<form autocomplete="off" action="${base}" method="post">` +
      `<input type="hidden" name="prompt" value="login"/>` +
      `<input required type="text" name="login"/><input required type="password" name="password"/>` +
      `<button type="submit">Sign-in</button></form>` +
      `<a href="${base}/abort">Cancel</a>`,
  );
}

function consentPage(res: ServerResponse, uid: string, details: InteractionDetails["prompt"]["details"]): void {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  const asked = [...(details.missingOIDCScope ?? []), ...(details.missingOIDCClaims ?? [])];
  page(
    res,
    200,
    "Authorize",
    `<ul>${asked.map((s) => `<li>${escapeHtml(s)}</li>`).join("")}</ul>` +
      `<form autocomplete="off" action="${base}" method="post">` +
      `<input type="hidden" name="prompt" value="consent"/><button type="submit">Continue</button></form>` +
      `<a href="${base}/abort">Deny</a>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProvider> {
  const { Provider, createMemoryAdapter } = await loadLibrary();
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = options.clientId ?? "notebox-test";
  const clientSecret = options.clientSecret ?? randomBytes(24).toString("base64url");
  const accounts = new Map<string, OidcTestAccount>();
  const serverErrors: Error[] = [];

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: "jwk" }),
    kid: randomBytes(8).toString("hex"),
    alg: "RS256",
    use: "sig",
  };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    adapter: createMemoryAdapter(0),
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username"],
    },
    conformIdTokenClaims: !options.claimsInIdToken,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, ...account }) };
    },
    renderError: (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = "html";
      ctx.body = `<!DOCTYPE html><html><body><pre id="error">${escapeHtml(JSON.stringify(out))}</pre></body></html>`;
    },
  });
  provider.on("server_error", (_ctx, error) => serverErrors.push(error));

  async function interaction(req: IncomingMessage, res: ServerResponse, abort: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (abort) {
      await provider.interactionFinished(
        req,
        res,
        { error: "access_denied", error_description: "End-User aborted interaction" },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const { prompt, uid } = details;
    if (req.method === "GET") {
      if (prompt.name === "login") return loginPage(res, uid);
      if (prompt.name === "consent") return consentPage(res, uid, prompt.details);
      return page(res, 501, "Not implemented", `prompt ${escapeHtml(prompt.name)} not implemented`);
    }
    if (req.method !== "POST") return page(res, 405, "Method not allowed", "");
    const form = await readForm(req);
    if (form.get("prompt") === "login" && prompt.name === "login") {
      const login = form.get("login") ?? "";
      if (!accounts.has(login)) return loginPage(res, uid, `Unknown login "${login}"`);
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    if (form.get("prompt") === "consent" && prompt.name === "consent") {
      const accountId = details.session?.accountId;
      if (!accountId) return page(res, 400, "No session", "no session");
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      if (!grant) return page(res, 400, "No grant", "grant not found");
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(" "));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(" "));
      }
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
      return;
    }
    return page(res, 400, "Bad request", "unexpected form submission");
  }

  const handle = provider.callback();
  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", issuer);
    const match = /^\/interaction\/([^/]+)(\/abort)?$/.exec(pathname);
    const done = match ? interaction(req, res, match[2] !== undefined) : handle(req, res);
    done.catch((error: unknown) => {
      serverErrors.push(error instanceof Error ? error : new Error(String(error)));
      if (!res.headersSent) page(res, 500, "Error", escapeHtml(String(error)));
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });

  return {
    issuer,
    clientId,
    clientSecret,
    env: {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: clientId,
      OIDC_CLIENT_SECRET: clientSecret,
      OIDC_NAME: options.name ?? "Test SSO",
    },
    setAccount: (sub, account) => void accounts.set(sub, account),
    removeAccount: (sub) => void accounts.delete(sub),
    accounts,
    serverErrors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// --- The person at the provider. ---

interface StoredCookie {
  name: string;
  value: string;
  path: string;
  expires?: number;
}

/** A cookie jar for one host: enough for the provider's path-scoped, signed cookies. */
export class ProviderCookieJar {
  private cookies: StoredCookie[] = [];

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const cookie: StoredCookie = {
        name: pair.slice(0, eq),
        value: pair.slice(eq + 1),
        path: url.pathname.replace(/\/[^/]*$/, "") || "/",
      };
      for (const attribute of attributes) {
        const [key = "", value = ""] = attribute.split("=", 2);
        const k = key.toLowerCase();
        if (k === "path" && value) cookie.path = value;
        else if (k === "expires") cookie.expires ??= Date.parse(value);
        else if (k === "max-age") cookie.expires = Date.now() + Number(value) * 1000;
      }
      this.cookies = this.cookies.filter((c) => c.name !== cookie.name || c.path !== cookie.path);
      if (cookie.expires === undefined || cookie.expires > Date.now()) this.cookies.push(cookie);
    }
  }

  header(url: URL): string {
    const now = Date.now();
    const matches = (path: string) =>
      url.pathname === path || url.pathname.startsWith(path.endsWith("/") ? path : `${path}/`);
    return this.cookies
      .filter((c) => (c.expires === undefined || c.expires > now) && matches(c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join("; ");
  }
}

export interface SignInAtProviderOptions {
  /** Any password will do; the provider checks only that the login is a known account. */
  password?: string;
  /**
   * Walk away instead: "login" presses Cancel on the login page, "consent" signs in and then
   * presses Deny on the consent page. Either way the provider redirects back with error=access_denied.
   */
  deny?: "login" | "consent";
  /** Keep the provider session between sign-ins; the next one then skips the login (and consent, once given). */
  jar?: ProviderCookieJar;
}

const decodeHtml = (value: string) =>
  value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

function formOf(html: string): { action: string; fields: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1];
    if (name && /\btype="hidden"/i.test(input[0])) fields.set(decodeHtml(name), decodeHtml(value ?? ""));
  }
  return { action: decodeHtml(form[1]!), fields };
}

const abortLinkOf = (html: string) => /<a\b[^>]*\bhref="([^"]*\/abort)"/i.exec(html)?.[1];
const textOf = (html: string) =>
  decodeHtml(html.replace(/<[^>]+>/g, " "))
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 300);

/**
 * Follows `authorizationUrl` at the provider as the person with login `login` (their `sub`),
 * signs in, consents (or denies, with `deny`), and returns the URL the provider finally
 * redirects to on the client's redirect_uri: `?code=…&state=…&iss=…`, or `?error=…&state=…&iss=…`.
 * Throws when the provider refuses the login (unknown account) or shows an error page.
 */
export async function signInAtProvider(
  authorizationUrl: string,
  login: string,
  options: SignInAtProviderOptions = {},
): Promise<string> {
  const jar = options.jar ?? new ProviderCookieJar();
  const start = new URL(authorizationUrl);
  const redirectUri = start.searchParams.get("redirect_uri");
  const isCallback = (url: URL) =>
    redirectUri !== null ? `${url.origin}${url.pathname}` === redirectUri.split("?")[0] : url.origin !== start.origin;

  let url = start;
  let init: { method: "GET" | "POST"; body?: URLSearchParams } = { method: "GET" };
  let loginsTried = 0;
  for (let step = 0; step < 20; step++) {
    const cookie = jar.header(url);
    const res = await fetch(url, {
      method: init.method,
      redirect: "manual",
      headers: cookie ? { cookie } : {},
      ...(init.body ? { body: init.body } : {}),
    });
    jar.store(url, res.headers.getSetCookie());
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      const next = new URL(location, url);
      if (isCallback(next)) return next.href;
      url = next;
      init = { method: "GET" };
      continue;
    }
    const html = await res.text();
    const form = formOf(html);
    const prompt = form?.fields.get("prompt");
    if (form && prompt === "login") {
      if (loginsTried > 0) throw new Error(`the provider refused the login "${login}": ${res.status} ${textOf(html)}`);
      const abort = abortLinkOf(html);
      if (options.deny === "login") {
        if (!abort) throw new Error("the login page has no way to cancel");
        url = new URL(abort, url);
        init = { method: "GET" };
        continue;
      }
      loginsTried++;
      form.fields.set("login", login);
      form.fields.set("password", options.password ?? "any password");
      url = new URL(form.action, url);
      init = { method: "POST", body: form.fields };
      continue;
    }
    if (form && prompt === "consent") {
      const abort = abortLinkOf(html);
      if (options.deny === "consent") {
        if (!abort) throw new Error("the consent page has no way to deny");
        url = new URL(abort, url);
        init = { method: "GET" };
      } else {
        url = new URL(form.action, url);
        init = { method: "POST", body: form.fields };
      }
      continue;
    }
    throw new Error(`unexpected answer from the provider at ${url.pathname}: ${res.status} ${textOf(html)}`);
  }
  throw new Error("too many steps at the provider");
}
