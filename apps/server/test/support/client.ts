// A plain-JSON tRPC client over HTTP with a cookie jar, the way any non-TypeScript service or
// browser would talk to Notebox: GET for queries, POST for mutations.
import { SESSION_COOKIE } from "@notebox/api";

export interface CallResult<T = unknown> {
  status: number;
  headers: Headers;
  /** `result.data` on success. */
  data: T;
  /** tRPC error body on failure. */
  error: {
    message: string;
    code: number;
    data: {
      code: string;
      httpStatus: number;
      fieldErrors: Record<string, string[]> | null;
      reason: string | null;
      retryAfterSeconds: number | null;
    };
  } | null;
  setCookies: string[];
}

export class TestClient {
  cookies = new Map<string, string>();

  constructor(
    readonly baseUrl: string,
    /** Sent as Origin on non-GET requests, as a browser on the app's own pages would. */
    public origin: string | null = baseUrl,
    public extraHeaders: Record<string, string> = {},
  ) {}

  get sessionToken(): string | undefined {
    return this.cookies.get(SESSION_COOKIE);
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async fetch(pathname: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size && !headers.has("cookie")) headers.set("cookie", this.cookieHeader());
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD" && this.origin && !headers.has("origin"))
      headers.set("origin", this.origin);
    for (const [k, v] of Object.entries(this.extraHeaders)) if (!headers.has(k)) headers.set(k, v);
    const res = await fetch(new URL(pathname, this.baseUrl), { ...init, headers, redirect: "manual" });
    for (const raw of res.headers.getSetCookie()) {
      const [pair] = raw.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === "" || /max-age=0/i.test(raw)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async query<T = unknown>(procedure: string, input?: unknown): Promise<CallResult<T>> {
    const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.toResult<T>(await this.fetch(`/api/v1/trpc/${procedure}${qs}`));
  }

  async mutation<T = unknown>(procedure: string, input?: unknown): Promise<CallResult<T>> {
    const res = await this.fetch(`/api/v1/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: input === undefined ? undefined : JSON.stringify(input),
    });
    return this.toResult<T>(res);
  }

  /** Sends a raw body, for malformed-input tests. */
  async rawMutation(procedure: string, body: string): Promise<CallResult> {
    const res = await this.fetch(`/api/v1/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    return this.toResult(res);
  }

  private async toResult<T>(res: Response): Promise<CallResult<T>> {
    const text = await res.text();
    let body: unknown = null;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`non-JSON answer ${res.status}: ${text.slice(0, 200)}`);
    }
    const b = body as { result?: { data: T }; error?: CallResult["error"] };
    return {
      status: res.status,
      headers: res.headers,
      data: b.result?.data as T,
      error: b.error ?? null,
      setCookies: res.headers.getSetCookie(),
    };
  }
}
