// Hostile and malformed input against every auth procedure and the admin user list: each case is
// refused with a 4xx that names the field, never a 500 or a stack trace, and nothing is written.
import { hashToken } from "@notebox/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../support/client";
import { codeFrom, resetLinkFrom } from "../support/smtp";
import { createUser, newAccount, signIn, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
/** Signed in as an ordinary user, for auth.changePassword. */
let changer: { client: TestClient; password: string };
/** Signed in, with a second session of the same user as the revoke target. */
let revoker: { client: TestClient; otherSessionId: string };
let admin: TestClient;
let existing: { email: string; password: string };

beforeAll(async () => {
  t = await startTestServer();
  const a = await createUser(t);
  changer = { client: await signIn(t, a.account), password: a.account.password };
  const b = await createUser(t);
  const second = await signIn(t, b.account);
  revoker = { client: await signIn(t, b.account), otherSessionId: hashToken(second.sessionToken!) };
  const c = await createUser(t, { role: "admin" });
  admin = await signIn(t, c.account);
  existing = (await createUser(t)).account;
});
afterAll(() => t.close());

// ---------------------------------------------------------------------------------------------
// helpers

/** Every row of every table, so a case can prove it wrote nothing at all. */
async function snapshot(): Promise<string> {
  const { User, Session, EmailCode, PasswordResetToken } = t.models;
  const rows = await Promise.all([
    User.findAll({ order: [["id", "ASC"]], raw: true }),
    Session.findAll({ order: [["id", "ASC"]], raw: true }),
    EmailCode.findAll({ order: [["id", "ASC"]], raw: true }),
    PasswordResetToken.findAll({ order: [["id", "ASC"]], raw: true }),
  ]);
  return JSON.stringify(rows);
}

/** A reply must not reveal how the server is built: no stack frames, source paths or driver errors. */
function expectNoInternals(text: string) {
  expect(text).not.toMatch(/(?:\n|\\n)\s*at\s/); // a stack frame line
  expect(text).not.toMatch(/\w\.(?:ts|js|mjs|cjs):\d+/); // file:line
  expect(text).not.toMatch(/\/src\/|node_modules|file:\/\//);
  expect(text).not.toMatch(/Sequelize|SQLITE_|ER_[A-Z_]+|sqlMessage|"stack"/);
}

interface Reply {
  status: number;
  text: string;
  body: {
    error?: { data?: { fieldErrors?: Record<string, string[]> | null; httpStatus?: number } };
    result?: { data: unknown };
  } | null;
}

type Procedure = {
  path: string;
  type: "mutation" | "query";
  client: () => TestClient;
  /** A valid input: each case breaks exactly one thing in it. */
  base: () => Record<string, unknown>;
  fields: Field[];
};

type Kind =
  | "email"
  | "username"
  | "newPassword"
  | "existingPassword"
  | "code"
  | "token"
  | "sessionId"
  | "search"
  | "cursor"
  | "limit";

interface Field {
  name: string;
  kind: Kind;
  optional?: boolean;
  nullable?: boolean;
  /** For existing passwords, which are only bounded: what a well-formed but wrong one gets. */
  wrongValue?: Expected;
}

interface Expected {
  status: number | number[];
  /** The field `error.data.fieldErrors` must name. */
  field?: string;
}

interface Case {
  name: string;
  proc: Procedure;
  /** Raw request body (mutation) or raw `input` parameter (query); undefined sends none. Built at run time. */
  raw: () => string | undefined;
  expected: Expected;
}

async function send(proc: Procedure, raw: string | undefined): Promise<Reply> {
  const url = `/api/v1/trpc/${proc.path}`;
  const res =
    proc.type === "mutation"
      ? await proc.client().fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: raw ?? "",
        })
      : await proc.client().fetch(raw === undefined ? url : `${url}?input=${encodeURIComponent(raw)}`);
  const text = await res.text();
  let body: Reply["body"] = null;
  try {
    body = JSON.parse(text) as Reply["body"];
  } catch {
    body = null;
  }
  return { status: res.status, text, body };
}

async function check(c: Case) {
  const before = await snapshot();
  const reply = await send(c.proc, c.raw());
  const allowed = Array.isArray(c.expected.status) ? c.expected.status : [c.expected.status];
  expect(allowed, `${c.proc.path} ${c.name}: got ${reply.status} ${reply.text.slice(0, 300)}`).toContain(reply.status);
  if (reply.status >= 400 && reply.status !== 431) {
    expect(reply.body?.error, "a JSON error body").toBeTruthy();
  }
  if (c.expected.field && reply.status === 400) {
    const messages = reply.body?.error?.data?.fieldErrors?.[c.expected.field];
    expect(messages, `fieldErrors naming ${c.expected.field}: ${reply.text.slice(0, 300)}`).toEqual(
      expect.arrayContaining([expect.any(String)]),
    );
  }
  expectNoInternals(reply.text);
  expect(await snapshot(), "the database is unchanged").toBe(before);
}

// ---------------------------------------------------------------------------------------------
// the procedures

const procedures: Procedure[] = [
  {
    path: "auth.register",
    type: "mutation",
    client: () => t.client(),
    base: () => newAccount(),
    fields: [
      { name: "username", kind: "username" },
      { name: "email", kind: "email" },
      { name: "password", kind: "newPassword" },
    ],
  },
  {
    path: "auth.verifyEmail",
    type: "mutation",
    client: () => t.client(),
    // An address with no pending code, so even an accepted case could not consume one.
    base: () => ({ email: newAccount().email, code: "123456" }),
    fields: [
      { name: "email", kind: "email" },
      { name: "code", kind: "code" },
    ],
  },
  {
    path: "auth.resendCode",
    type: "mutation",
    client: () => t.client(),
    base: () => ({ email: newAccount().email }),
    fields: [{ name: "email", kind: "email" }],
  },
  {
    path: "auth.login",
    type: "mutation",
    client: () => t.client(),
    base: () => ({ email: existing.email, password: existing.password }),
    fields: [
      { name: "email", kind: "email" },
      { name: "password", kind: "existingPassword", wrongValue: { status: 401 } },
    ],
  },
  {
    path: "auth.requestPasswordReset",
    type: "mutation",
    client: () => t.client(),
    base: () => ({ email: newAccount().email }),
    fields: [{ name: "email", kind: "email" }],
  },
  {
    path: "auth.resetPassword",
    type: "mutation",
    client: () => t.client(),
    base: () => ({ token: "a".repeat(32), password: "a perfectly fine passphrase" }),
    fields: [
      { name: "token", kind: "token" },
      { name: "password", kind: "newPassword" },
    ],
  },
  {
    path: "auth.changePassword",
    type: "mutation",
    client: () => changer.client,
    base: () => ({ currentPassword: changer.password, newPassword: "another perfectly fine passphrase" }),
    fields: [
      { name: "currentPassword", kind: "existingPassword", wrongValue: { status: 400, field: "currentPassword" } },
      { name: "newPassword", kind: "newPassword" },
    ],
  },
  {
    path: "auth.sessions.revoke",
    type: "mutation",
    client: () => revoker.client,
    base: () => ({ id: revoker.otherSessionId }),
    fields: [{ name: "id", kind: "sessionId" }],
  },
  {
    path: "admin.users.list",
    type: "query",
    client: () => admin,
    base: () => ({ q: "user", limit: 10 }),
    fields: [
      { name: "q", kind: "search", optional: true },
      { name: "cursor", kind: "cursor", optional: true, nullable: true },
      { name: "limit", kind: "limit", optional: true },
    ],
  },
];

const MB = 1_000_000;
/** A string of exactly 1 MB shaped like the field, so only its length is wrong. */
function huge(kind: Kind): string {
  switch (kind) {
    case "email":
      return `${"a".repeat(MB - "@example.test".length)}@example.test`;
    case "code":
      return "1".repeat(MB);
    default:
      return "a".repeat(MB);
  }
}

/** The field's value with `inner` in the middle (not at the ends, which are trimmed). */
function containing(kind: Kind, inner: string): string {
  switch (kind) {
    case "email":
      return `name${inner}x@example.test`;
    case "username":
      return `name${inner}x`;
    case "newPassword":
    case "existingPassword":
      return `correct horse${inner}battery`;
    case "code":
      return `123${inner}456`;
    case "token":
      return `${"a".repeat(16)}${inner}${"a".repeat(15)}`;
    case "sessionId":
      return `${"a".repeat(32)}${inner}${"a".repeat(31)}`;
    case "search":
    case "cursor":
    case "limit":
      return `abc${inner}def`;
  }
}

const CONTROL = [
  ["NUL", "\u0000"],
  ["CR LF", "\r\n"],
  ["ESC", "\u001b"],
] as const;

const WRONG_TYPES: [string, unknown][] = [
  ["a number", 42],
  ["an array", ["x"]],
  ["an object", { value: "x" }],
  ["null", null],
  ["a boolean", true],
];
const WRONG_LIMITS: [string, unknown][] = [
  ["a numeric string", "10"],
  ["a fraction", 1.5],
  ["zero", 0],
  ["above the maximum", 101],
  ["negative", -1],
  ["an array", [10]],
  ["an object", { value: 10 }],
  ["null", null],
  ["a boolean", true],
];

function casesFor(proc: Procedure): Case[] {
  const cases: Case[] = [];
  const input = (patch: Record<string, unknown>, drop?: string) => () => {
    const value: Record<string, unknown> = { ...proc.base(), ...patch };
    if (drop) delete value[drop];
    return JSON.stringify(value);
  };
  const literal = (raw: string | undefined) => () => raw;
  const isQuery = proc.type === "query";

  // the whole body
  cases.push(
    { name: "malformed JSON", proc, raw: literal('{"email": "a@example.test",'), expected: { status: 400 } },
    { name: "an empty body", proc, raw: literal(isQuery ? "" : undefined), expected: { status: 400, field: "_form" } },
    { name: "a JSON array", proc, raw: () => JSON.stringify([proc.base()]), expected: { status: 400, field: "_form" } },
    { name: "JSON null", proc, raw: literal("null"), expected: { status: 400, field: "_form" } },
    { name: "a JSON string", proc, raw: literal('"hello"'), expected: { status: 400, field: "_form" } },
    { name: "a JSON number", proc, raw: literal("42"), expected: { status: 400, field: "_form" } },
  );
  if (isQuery)
    cases.push({ name: "no input at all", proc, raw: literal(undefined), expected: { status: 400, field: "_form" } });

  for (const f of proc.fields) {
    const invalid: Expected = { status: 400, field: f.name };
    if (!f.optional) cases.push({ name: `${f.name} missing`, proc, raw: input({}, f.name), expected: invalid });

    for (const [label, value] of f.kind === "limit" ? WRONG_LIMITS : WRONG_TYPES) {
      if (value === null && f.nullable) continue;
      cases.push({ name: `${f.name} as ${label}`, proc, raw: input({ [f.name]: value }), expected: invalid });
    }
    if (f.kind === "limit") continue;

    // A 1 MB query string cannot even reach the router: Node answers 431 for the oversized URL.
    cases.push({
      name: `${f.name} of 1 MB`,
      proc,
      raw: input({ [f.name]: huge(f.kind) }),
      expected: isQuery ? { status: 431 } : invalid,
    });

    for (const [label, ch] of CONTROL) {
      const c: Case = {
        name: `${f.name} with ${label}`,
        proc,
        raw: input({ [f.name]: containing(f.kind, ch) }),
        expected: invalid,
      };
      // NUL is refused before any schema for every field; other control characters in a password being
      // checked are just a wrong password.
      if (f.kind === "existingPassword") c.expected = label === "NUL" ? invalid : f.wrongValue!;
      if (f.kind === "search") c.expected = { status: [200, 400], field: f.name };
      cases.push(c);
    }

    // Emoji are fine in passwords (see below) and refused everywhere else.
    if (f.kind !== "newPassword" && f.kind !== "existingPassword") {
      const c: Case = {
        name: `${f.name} with an emoji`,
        proc,
        raw: input({ [f.name]: containing(f.kind, "😀") }),
        expected: invalid,
      };
      if (f.kind === "search") c.expected = { status: [200, 400], field: f.name };
      cases.push(c);
      if (f.kind === "email") {
        cases.push({
          name: "email with an emoji domain",
          proc,
          raw: input({ email: "name@exa😀mple.test" }),
          expected: invalid,
        });
      }
    }
  }
  return cases;
}

const allCases = procedures.flatMap(casesFor);

describe.each(procedures.map((p) => [p.path, p] as const))("%s refuses bad input", (_path, proc) => {
  const cases = allCases.filter((c) => c.proc === proc);
  it.for(cases.map((c) => [c.name, c] as const))(
    "refuses %s with a 4xx, no internals, and writes nothing",
    async ([, c]) => {
      await check(c);
    },
  );
});

describe("the case table and the body limit", () => {
  it("has a case for every field of every procedure under test", () => {
    // Guards against the table silently shrinking: 9 procedures, 17 fields.
    expect(procedures).toHaveLength(9);
    expect(procedures.flatMap((p) => p.fields)).toHaveLength(17);
    expect(allCases.length).toBeGreaterThan(150);
  });

  it("refuses a mutation body over the 4 MB tRPC limit with 413 and creates no user", async () => {
    const account = newAccount();
    const before = await t.models.User.count();
    const reply = await send(procedures[0]!, JSON.stringify({ ...account, password: "a".repeat(4 * 1024 * 1024) }));
    expect(reply.status).toBe(413);
    expect(reply.body?.error).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expectNoInternals(reply.text);
    expect(await t.models.User.count()).toBe(before);
    expect(await t.models.User.count({ where: { email: account.email } })).toBe(0);
  });
});

describe("emoji in passwords", () => {
  it("accepts an emoji passphrase at sign-up, and it signs in", async () => {
    const client = t.client();
    const account = { ...newAccount(), password: "🌙 moon river 🚣 wider than a mile" };
    const reg = await client.mutation("auth.register", account);
    expect(reg.status, JSON.stringify(reg.error)).toBe(200);
    const code = codeFrom(await t.smtp.waitFor(account.email, /code/i));
    expect((await client.mutation("auth.verifyEmail", { email: account.email, code })).status).toBe(200);
    const again = await signIn(t, account, t.client());
    expect(again.sessionToken).toMatch(/^[a-z2-7]{32}$/);
    const wrong = await t
      .client()
      .mutation("auth.login", { email: account.email, password: "🌙 moon river 🚣 wider than a mil" });
    expect(wrong.status).toBe(401);
  });

  it("accepts an emoji passphrase as a new password", async () => {
    const { account } = await createUser(t);
    const client = await signIn(t, account);
    const newPassword = "🔥🐉 dragons breathe fire 🐉🔥";
    const res = await client.mutation("auth.changePassword", { currentPassword: account.password, newPassword });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    await signIn(t, { email: account.email, password: newPassword }, t.client());
    expect((await t.client().mutation("auth.login", account)).status).toBe(401);
  });

  it("accepts an emoji passphrase through a reset link", async () => {
    const { account } = await createUser(t);
    expect((await t.client().mutation("auth.requestPasswordReset", { email: account.email })).status).toBe(200);
    const link = resetLinkFrom(await t.smtp.waitFor(account.email, /reset/i));
    const token = new URL(link).hash.replace("#token=", "");
    const password = "🌵 cactus in the desert 🏜️";
    const res = await t.client().mutation("auth.resetPassword", { token, password });
    expect(res.status, JSON.stringify(res.error)).toBe(200);
    await signIn(t, { email: account.email, password }, t.client());
  });

  // Emoji are two UTF-16 code units each: the limits must count characters, not code units.
  it("counts an emoji as one character against the 8..128 limits", async () => {
    const at128 = { ...newAccount(), password: `moon ${"🌙".repeat(123)}` };
    expect([...at128.password]).toHaveLength(128);
    expect(at128.password.length).toBeGreaterThan(128);
    const ok = await t.client().mutation("auth.register", at128);
    expect(ok.status, JSON.stringify(ok.error)).toBe(200);

    const at129 = { ...newAccount(), password: `${at128.password}🌙` };
    const tooLong = await t.client().mutation("auth.register", at129);
    expect(tooLong.status).toBe(400);
    expect(tooLong.error?.data.fieldErrors?.password?.[0]).toMatch(/at most 128/);
    expect(await t.models.User.count({ where: { email: at129.email } })).toBe(0);

    const fourEmoji = { ...newAccount(), password: "🌙🌙🌙🌙" };
    const tooShort = await t.client().mutation("auth.register", fourEmoji);
    expect(tooShort.status).toBe(400);
    expect(tooShort.error?.data.fieldErrors?.password?.[0]).toMatch(/at least 8/);
    expect(await t.models.User.count({ where: { email: fourEmoji.email } })).toBe(0);
  });
});

describe("mass assignment", () => {
  it("ignores role, emailVerified, id and ownerId sent to auth.register", async () => {
    const client = t.client();
    const account = newAccount();
    const chosenId = "01900000-0000-7000-8000-000000000001";
    const res = await client.mutation("auth.register", {
      ...account,
      role: "admin",
      emailVerified: true,
      emailVerifiedAt: new Date().toISOString(),
      id: chosenId,
      ownerId: chosenId,
      disabledAt: null,
      tokensValidAfter: "2000-01-01T00:00:00.000Z",
    });
    // Unknown fields are dropped by the schema: the sign-up goes through as an ordinary one.
    expect(res.status).toBe(200);
    const user = await t.models.User.findOne({ where: { email: account.email } });
    expect(user).not.toBeNull();
    expect(user!.role).toBe("user");
    expect(user!.emailVerifiedAt).toBeNull();
    expect(user!.id).not.toBe(chosenId);
    expect(await t.models.User.count({ where: { id: chosenId } })).toBe(0);
    expect(user!.tokensValidAfter.getFullYear()).toBeGreaterThan(2000);

    // Not verified means it cannot sign in, and verifying does not make it an admin.
    const login = await t.client().mutation("auth.login", { email: account.email, password: account.password });
    expect(login.status).toBe(403);
    const code = codeFrom(await t.smtp.waitFor(account.email, /code/i));
    const verified = await client.mutation<{ user: { id: string; role: string } }>("auth.verifyEmail", {
      email: account.email,
      code,
    });
    expect(verified.data.user.role).toBe("user");
    expect(verified.data.user.id).toBe(user!.id);
    expect((await client.query("admin.stats")).status).toBe(403);
  });

  it("ignores a userId sent to auth.changePassword: only the caller's password changes", async () => {
    const victim = (await createUser(t)).user;
    const { account, user: me } = await createUser(t);
    const client = await signIn(t, account);
    const victimHash = (await t.models.User.findByPk(victim.id))!.passwordHash;
    const myHash = (await t.models.User.findByPk(me.id))!.passwordHash;
    const res = await client.mutation("auth.changePassword", {
      currentPassword: account.password,
      newPassword: "a brand new passphrase here",
      userId: victim.id,
      id: victim.id,
    });
    expect(res.status).toBe(200);
    expect((await t.models.User.findByPk(victim.id))!.passwordHash).toBe(victimHash);
    expect((await t.models.User.findByPk(me.id))!.passwordHash).not.toBe(myHash);
  });

  it("ignores internal argument names (deps, meta) sent as input", async () => {
    const account = newAccount();
    const res = await t.client().mutation("auth.register", { ...account, deps: {}, meta: { ip: "10.0.0.1" } });
    expect(res.status).toBe(200);
    expect(await t.models.User.count({ where: { email: account.email } })).toBe(1);
  });
});
