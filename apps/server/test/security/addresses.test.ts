// Email addresses and usernames as an outside penetration test tried them (issue 11): an address
// field that holds a list, a group or a display name must never reach the mailer as more than one
// mailbox, and a username that looks like another one must not become a second account.
import { createAdmin, usernameKey } from "@notebox/core";
import { createMigrator, newId } from "@notebox/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newAccount, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** Every row of the account tables, so a refusal can prove it wrote nothing. */
async function snapshot(): Promise<string> {
  const { User, Session, EmailCode, PasswordResetToken } = t.models;
  const rows = await Promise.all(
    [User, Session, EmailCode, PasswordResetToken].map((model) =>
      (model as typeof User).findAll({ order: [["id", "ASC"]], raw: true }),
    ),
  );
  return JSON.stringify(rows);
}

let serial = 0;
/** A tag of digits only: digits go with every script, so a look-alike name can share it. */
const digits = () => `${Date.now() % 1_000_000}${serial++}`;

/** Each one would let a mail library read a name, a group, a comment or more than one mailbox. */
const NOT_ONE_ADDRESS = [
  "victim@example.test,attacker@evil.test",
  "victim@example.test, attacker@evil.test",
  "victim@example.test attacker@evil.test",
  "victim@example.test;attacker@evil.test",
  "victim@example.test;",
  "group:attacker@evil.test;",
  "a:b@example.test;",
  "Victim <attacker@evil.test>",
  "<attacker@evil.test>",
  '"attacker@evil.test"@example.test',
  '"victim"@example.test',
  "victim(attacker@evil.test)@example.test",
  "victim@example.test(comment)",
  "victim@[127.0.0.1]",
  "victim..x@example.test",
  ".victim@example.test",
  "victim.@example.test",
  "victim@example..test",
  "victim@example.test.",
];

describe("email addresses", () => {
  it("refuses every address that is not exactly one mailbox with 400 naming the field, writes nothing and mails nothing", async () => {
    const before = await snapshot();
    const mailsBefore = t.smtp.messages.length;
    for (const email of NOT_ONE_ADDRESS) {
      const res = await t.client().mutation("auth.register", { ...newAccount(), email });
      expect(res.status, email).toBe(400);
      expect(res.error?.data.code, email).toBe("BAD_REQUEST");
      expect(res.error?.data.fieldErrors?.email?.[0], email).toMatch(/one email address/);
      expect(Object.keys(res.error?.data.fieldErrors ?? {}), email).toEqual(["email"]);
    }
    expect(await snapshot()).toBe(before);

    // A good sign-up afterwards: its mail comes after any the refused ones could have caused.
    const good = newAccount();
    expect((await t.client().mutation("auth.register", good)).status).toBe(200);
    await t.smtp.waitFor(good.email, /code/i);
    expect(t.smtp.messages.slice(mailsBefore).map((m) => m.to)).toEqual([good.email]);
  });

  it("refuses them in every procedure that takes an address", async () => {
    const before = await snapshot();
    for (const email of [
      "victim@example.test,attacker@evil.test",
      "Victim <attacker@evil.test>",
      "g:attacker@evil.test;",
    ]) {
      for (const [procedure, input] of [
        ["auth.resendCode", { email }],
        ["auth.requestPasswordReset", { email }],
        ["auth.verifyEmail", { email, code: "123456" }],
        ["auth.login", { email, password: "correct horse battery" }],
      ] as const) {
        const res = await t.client().mutation(procedure, input);
        expect(res.status, `${procedure} ${email}`).toBe(400);
        expect(res.error?.data.fieldErrors?.email?.[0], `${procedure} ${email}`).toBeTruthy();
      }
    }
    expect(await snapshot()).toBe(before);
  });

  it("mails exactly one recipient, the address signed up with, even one full of RFC 5322 atext", async () => {
    const account = { ...newAccount(), email: `o'brien+notes/${digits()}@example.test` };
    const mailsBefore = t.smtp.messages.length;
    expect((await t.client().mutation("auth.register", account)).status).toBe(200);
    const mail = await t.smtp.waitFor(account.email, /code/i);
    expect(mail.to).toBe(account.email);
    // The test server records one message per envelope recipient.
    expect(t.smtp.messages.slice(mailsBefore)).toEqual([mail]);
  });

  it("create-admin applies the same rule", async () => {
    const before = await snapshot();
    for (const email of ["boss@example.test,attacker@evil.test", "Boss <boss@example.test>", "boss@localhost"]) {
      await expect(
        createAdmin({
          deps: t.server.runtime.deps,
          email,
          username: `boss_${digits()}`,
          password: "a long admin passphrase",
        }),
        email,
      ).rejects.toMatchObject({
        code: "BAD_REQUEST",
        fieldErrors: { email: [expect.stringMatching(/one email address/)] },
      });
    }
    expect(await snapshot()).toBe(before);
  });
});

describe("usernames", () => {
  it("stores a fullwidth name in its NFKC form", async () => {
    const tag = digits();
    const account = {
      ...newAccount(),
      username: `ｓｃｏｐｅ＿${tag.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)))}`,
    };
    expect((await t.client().mutation("auth.register", account)).status).toBe(200);
    const user = await t.models.User.findOne({ where: { email: account.email } });
    expect(user?.username).toBe(`scope_${tag}`);
    expect(user?.usernameKey).toBe(usernameKey(`scope_${tag}`));
  });

  it("refuses a name that looks like a taken one with 409 'This username is taken' and writes nothing", async () => {
    const tag = digits();
    const first = { ...newAccount(), username: `scope_${tag}` };
    expect((await t.client().mutation("auth.register", first)).status).toBe(200);
    const before = await snapshot();
    // All Cyrillic (ѕ с о р е), which the mixed-script rule cannot catch; upper case; fullwidth.
    for (const username of [
      `\u0455\u0441\u043e\u0440\u0435_${tag}`,
      `SCOPE_${tag}`,
      `ｓｃｏｐｅ_${tag}`,
      ` scope_${tag} `,
    ]) {
      const res = await t.client().mutation("auth.register", { ...newAccount(), username });
      expect(res.status, username).toBe(409);
      expect(res.error?.data.fieldErrors?.username?.[0], username).toMatch(/This username is taken/);
    }
    expect(await snapshot()).toBe(before);
  });

  it("refuses `аdmin` (a Cyrillic а among Latin letters) next to `admin`, and any name mixing scripts, with 400 naming them", async () => {
    const tag = digits();
    expect((await t.client().mutation("auth.register", { ...newAccount(), username: `admin_${tag}` })).status).toBe(
      200,
    );
    const before = await snapshot();
    for (const [username, scripts] of [
      [`\u0430dmin_${tag}`, /Cyrillic and Latin/],
      [`p\u0430ypal_${tag}`, /Latin and Cyrillic/],
      [`admin\u03bf_${tag}`, /Latin and Greek/],
    ] as const) {
      const res = await t.client().mutation("auth.register", { ...newAccount(), username });
      expect(res.status, username).toBe(400);
      expect(res.error?.data.fieldErrors?.username?.[0], username).toMatch(scripts);
      expect(res.error?.data.fieldErrors?.username?.[0], username).toMatch(/one script/);
    }
    expect(await snapshot()).toBe(before);
  });

  it("takes names written in one script, digits and _ . - included", async () => {
    for (const username of [`иван_${digits()}`, `山田たろう.${digits()}`, `Ελένη-${digits()}`]) {
      const account = { ...newAccount(), username };
      expect((await t.client().mutation("auth.register", account)).status, username).toBe(200);
      expect((await t.models.User.findOne({ where: { email: account.email } }))?.username).toBe(username);
    }
  });

  it("create-admin applies the same rules: mixed scripts 400, a look-alike of a taken name 409, stored NFKC", async () => {
    const tag = digits();
    const password = "a long admin passphrase";
    const email = () => newAccount("boss").email;
    const created = await createAdmin({
      deps: t.server.runtime.deps,
      email: email(),
      username: `ｃｈｉｅｆ_${tag}`,
      password,
    });
    expect(created.user.username).toBe(`chief_${tag}`);
    const before = await snapshot();
    await expect(
      createAdmin({ deps: t.server.runtime.deps, email: email(), username: `\u0441hief_${tag}`, password }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      fieldErrors: { username: [expect.stringMatching(/mixes Cyrillic and Latin/)] },
    });
    await expect(
      createAdmin({ deps: t.server.runtime.deps, email: email(), username: `CHIEF_${tag}`, password }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      fieldErrors: { username: [expect.stringMatching(/taken/)] },
    });
    expect(await snapshot()).toBe(before);
  });
});

describe("upgrading a database whose username keys predate look-alike checks", () => {
  it("rekeys every account and pending sign-up; of two that now collide the older keeps the name's key, and neither is lost", async () => {
    const { sequelize, models } = t.server.runtime.deps.db;
    const migrator = createMigrator(sequelize);
    const tag = digits();
    // A pending sign-up, whose attempt carries the key it will give the account.
    const pending = { ...newAccount(), username: `pending_${tag}` };
    expect((await t.client().mutation("auth.register", pending)).status).toBe(200);

    await migrator.down({ to: "2026-12-02T01-00-username-keys" });
    // Made in this order, so each id sorts before the next.
    const ids = {
      older: newId(),
      newer: newId(),
      alone: newId(),
      newerWithSmallerId: newId(),
      olderWithLargerId: newId(),
    };
    try {
      const oldKey = (name: string) => name.normalize("NFKC").toLowerCase();
      const row = (id: string, username: string, createdAt: Date) => ({
        id,
        username,
        username_key: oldKey(username),
        email: `${username.toLowerCase()}.${id.slice(-8)}@example.test`,
        password_hash: "x",
        role: "user",
        email_verified_at: createdAt,
        tokens_valid_after: createdAt,
        password_changed_at: createdAt,
        must_change_password: false,
        created_at: createdAt,
        updated_at: createdAt,
      });
      // Pairs distinct under the old rule and one name under the new (Cyrillic ѕсоре and scope;
      // rnoon and moon). In the second pair the smaller id is the newer account: the migration
      // must go by creation time, not by id.
      await sequelize
        .getQueryInterface()
        .bulkInsert("users", [
          row(ids.older, `scope_${tag}`, new Date("2026-01-01T00:00:00Z")),
          row(ids.newer, `\u0455\u0441\u043e\u0440\u0435_${tag}`, new Date("2026-02-01T00:00:00Z")),
          row(ids.alone, `alone_${tag}`, new Date("2026-01-01T00:00:00Z")),
          row(ids.newerWithSmallerId, `rnoon_${tag}`, new Date("2026-03-01T00:00:00Z")),
          row(ids.olderWithLargerId, `moon_${tag}`, new Date("2025-12-01T00:00:00Z")),
        ]);
    } finally {
      await migrator.up();
    }

    const users = await models.User.findAll({ where: { id: Object.values(ids) } });
    const key = (id: string) => users.find((u) => u.id === id)?.usernameKey;
    expect(users).toHaveLength(5);
    expect(key(ids.older)).toBe(usernameKey(`scope_${tag}`));
    expect(key(ids.newer)).toBe(`${usernameKey(`scope_${tag}`)}#${ids.newer}`);
    expect(key(ids.alone)).toBe(usernameKey(`alone_${tag}`));
    expect(key(ids.olderWithLargerId)).toBe(usernameKey(`moon_${tag}`));
    expect(key(ids.newerWithSmallerId)).toBe(`${usernameKey(`moon_${tag}`)}#${ids.newerWithSmallerId}`);
    // Names and addresses as they were.
    expect(users.find((u) => u.id === ids.newer)?.username).toBe(`\u0455\u0441\u043e\u0440\u0435_${tag}`);

    // Every account has the new key or a set-aside one; so has every pending attempt.
    for (const user of await models.User.findAll()) {
      expect([usernameKey(user.username), `${usernameKey(user.username)}#${user.id}`], user.username).toContain(
        user.usernameKey,
      );
    }
    const attempts = await models.EmailCode.findAll({ where: { email: pending.email } });
    expect(attempts.length).toBeGreaterThan(0);
    for (const attempt of attempts) expect(attempt.usernameKey).toBe(usernameKey(attempt.username!));

    // The name stays taken for sign-ups, in either form.
    for (const username of [`scope_${tag}`, `\u0455\u0441\u043e\u0440\u0435_${tag}`, `moon_${tag}`, `rnoon_${tag}`]) {
      const res = await t.client().mutation("auth.register", { ...newAccount(), username });
      expect(res.status, username).toBe(409);
    }
  });
});
