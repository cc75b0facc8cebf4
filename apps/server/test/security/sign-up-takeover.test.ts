// A pending sign-up cannot be taken over: registering again for an address that has not confirmed
// its code changes nothing until a code is typed, and the code that is typed confirms the
// credentials of the sign-up it was mailed for. The attack, in both orders.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFrom } from "../support/smtp";
import { newAccount, startTestServer, type TestServer } from "../support/server";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** The owner of the mailbox and a stranger who knows the address, each with their own choices. */
function actors() {
  const owner = newAccount("owner");
  const intruder = { ...newAccount("intruder"), email: owner.email };
  return { owner, intruder };
}

async function register(account: { username: string; email: string; password: string }) {
  const res = await t.client().mutation("auth.register", account);
  expect(res.status).toBe(200);
  return t.smtp.waitFor(account.email, /code/i);
}

const signInStatus = async (email: string, password: string) =>
  (await t.client().mutation("auth.login", { email, password })).status;

describe("a second sign-up for a pending address", () => {
  it("owner first: the intruder's sign-up changes nothing, the owner's own code confirms the owner's password", async () => {
    const { owner, intruder } = actors();
    const ownersMail = await register(owner);
    const pendingBefore = await t.models.User.findOne({ where: { email: owner.email }, raw: true });

    const intrudersMail = await register(intruder);
    // Nothing about the pending account changed silently.
    expect(await t.models.User.findOne({ where: { email: owner.email }, raw: true })).toEqual(pendingBefore);
    // The owner is told that another sign-up was started, and under which name.
    expect(intrudersMail.subject).toMatch(/new sign-up/i);
    expect(intrudersMail.text).toContain(intruder.username);
    expect(intrudersMail.text).toMatch(/do not enter this code/i);

    const verified = await t.client().mutation<{ user: { username: string } }>("auth.verifyEmail", {
      email: owner.email,
      code: codeFrom(ownersMail),
    });
    expect(verified.status).toBe(200);
    expect(verified.data.user.username).toBe(owner.username);
    expect(await signInStatus(owner.email, intruder.password)).toBe(401);
    expect(await signInStatus(owner.email, owner.password)).toBe(200);
    // Every other code of the address died with the confirmation.
    const late = await t.client().mutation("auth.verifyEmail", { email: owner.email, code: codeFrom(intrudersMail) });
    expect(late.status).toBe(400);
    expect(await signInStatus(owner.email, intruder.password)).toBe(401);
  });

  it("intruder first: the owner's newer sign-up gets its own code, which confirms the owner's password", async () => {
    const { owner, intruder } = actors();
    const intrudersMail = await register(intruder);
    const ownersMail = await register(owner);
    expect(ownersMail.subject).toMatch(/new sign-up/i);

    const verified = await t.client().mutation<{ user: { username: string } }>("auth.verifyEmail", {
      email: owner.email,
      code: codeFrom(ownersMail),
    });
    expect(verified.status).toBe(200);
    expect(verified.data.user.username).toBe(owner.username);
    expect(await signInStatus(owner.email, intruder.password)).toBe(401);
    expect(await signInStatus(owner.email, owner.password)).toBe(200);
    expect(
      (await t.client().mutation("auth.verifyEmail", { email: owner.email, code: codeFrom(intrudersMail) })).status,
    ).toBe(400);
  });

  it("a resend renews only the newest sign-up's code; the owner's earlier code still works", async () => {
    const { owner, intruder } = actors();
    const ownersMail = await register(owner);
    const intrudersMail = await register(intruder);
    expect((await t.client().mutation("auth.resendCode", { email: owner.email })).status).toBe(200);
    const resent = await t.smtp.waitFor(owner.email, /code/i);
    expect(resent.text).toContain(intruder.username);
    // The intruder's first code was replaced by the resend.
    expect(
      (await t.client().mutation("auth.verifyEmail", { email: owner.email, code: codeFrom(intrudersMail) })).status,
    ).toBe(400);
    const verified = await t.client().mutation("auth.verifyEmail", { email: owner.email, code: codeFrom(ownersMail) });
    expect(verified.status).toBe(200);
    expect(await signInStatus(owner.email, owner.password)).toBe(200);
    expect(await signInStatus(owner.email, intruder.password)).toBe(401);
  });

  it("counts a wrong code against every pending sign-up of the address", async () => {
    const { owner, intruder } = actors();
    const ownersMail = await register(owner);
    await register(intruder);
    const right = codeFrom(ownersMail);
    const wrong = right === "000000" ? "000001" : "000000";
    for (let i = 0; i < 5; i++) {
      const res = await t.client().mutation("auth.verifyEmail", { email: owner.email, code: wrong });
      expect(res.status).toBe(400);
    }
    expect((await t.client().mutation("auth.verifyEmail", { email: owner.email, code: right })).status).toBe(400);
    const row = await t.models.User.findOne({ where: { email: owner.email } });
    expect(row!.emailVerifiedAt).toBeNull();
  });
});
