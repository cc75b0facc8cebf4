// Passkeys in the browser, made and used by Chromium's virtual authenticator (CDP WebAuthn): one
// added and renamed on the account page, then used on the sign-in page (also by an account with
// two-factor sign-in on, which is not asked for a code), removed with a fresh session and with the
// password once the session is old, and refused when the device does not verify its user.
import { describe, expect, it } from "vitest";
import type { CDPSession, Page } from "playwright-core";
import { SESSION_COOKIE } from "@notebox/api";
import { signIn } from "../support/server";
import { totp } from "../support/totp";
import { browserAvailable, cookieNamed, mainNav, useBrowserSuite, waitForPath, type Device } from "./browser";

/** A platform authenticator with a discoverable-credential store that verifies its user (a fingerprint). */
interface VirtualAuthenticator {
  cdp: CDPSession;
  authenticatorId: string;
  credentials: () => Promise<
    { credentialId: string; isResidentCredential: boolean; rpId?: string; userHandle?: string; signCount: number }[]
  >;
  setUserVerified: (verified: boolean) => Promise<void>;
}

async function addVirtualAuthenticator({ context, page }: Device): Promise<VirtualAuthenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
    setUserVerified: async (isUserVerified) => {
      await cdp.send("WebAuthn.setUserVerified", { authenticatorId, isUserVerified });
    },
  };
}

const passkeysCard = (page: Page) => page.getByRole("region", { name: "Passkeys", exact: true });
const passkeyRow = (page: Page, name: string) =>
  passkeysCard(page)
    .getByRole("listitem")
    .filter({ has: page.getByText(name, { exact: true }) });
/** The sign-in form's passkey button. */
const PASSKEY_SIGN_IN = "Use a passkey";
const formError = (page: Page) => page.locator("[data-form-error]");

/** Adds a passkey named `name` from the account page (open on `page`) and waits for it in the list. */
async function addPasskeyThroughUi(page: Page, name: string): Promise<void> {
  const card = passkeysCard(page);
  await card.getByLabel("Name (optional)").fill(name);
  await card.getByRole("button", { name: "Add a passkey" }).click();
  await card
    .getByRole("status")
    .filter({ hasText: `Added the passkey “${name}”` })
    .waitFor();
  await passkeyRow(page, name).waitFor();
}

/** Signs out from the header, as a person would, and waits until the app shows it. */
async function signOutThroughUi({ context, page }: Device): Promise<void> {
  await mainNav(page).getByRole("button", { name: "Sign out", exact: true }).click();
  await mainNav(page).getByRole("link", { name: "Sign in" }).waitFor();
  expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
}

describe.skipIf(!browserAvailable)("passkeys, in the browser", () => {
  const suite = useBrowserSuite();

  it("adds a passkey on the account page, renames it, and signs in with it", async () => {
    const device = await suite.signedIn();
    const { page, context, user, account } = device;
    const authenticator = await addVirtualAuthenticator(device);
    await page.goto("/account");
    await passkeysCard(page).getByText("No passkeys yet.").waitFor();

    await addPasskeyThroughUi(page, "Laptop");
    const row = passkeyRow(page, "Laptop");
    await row.getByText(/^Added /).waitFor();
    await row.getByText("Not used yet").waitFor();
    // The device holds a discoverable credential for this site and account; the server keeps its key.
    const held = await authenticator.credentials();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ isResidentCredential: true, rpId: "localhost" });
    expect(Buffer.from(held[0]!.userHandle!, "base64").toString("utf8")).toBe(user.id);
    const stored = await suite.server.models.Passkey.findAll({ where: { userId: user.id } });
    expect(stored.map((p) => p.name)).toEqual(["Laptop"]);
    expect(Buffer.from(stored[0]!.credentialId, "base64url")).toEqual(Buffer.from(held[0]!.credentialId, "base64"));

    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: "/tmp/passkeys-account.png", fullPage: true });

    // Renamed in place.
    await row.getByRole("button", { name: "Rename" }).click();
    const renameForm = page.getByRole("form", { name: "Rename Laptop" });
    await renameForm.getByLabel("New name").fill("Work laptop");
    await renameForm.getByRole("button", { name: "Save name" }).click();
    await passkeyRow(page, "Work laptop").waitFor();
    await renameForm.waitFor({ state: "detached" });
    expect(await passkeyRow(page, "Laptop").count()).toBe(0);
    expect((await suite.server.models.Passkey.findByPk(stored[0]!.id))!.name).toBe("Work laptop");
    await page.reload();
    await passkeyRow(page, "Work laptop").waitFor();

    // Signed out, then back in with the passkey alone: no email, no password.
    await signOutThroughUi(device);
    await page.goto("/sign-in");
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeDefined();
    expect((await authenticator.credentials())[0]!.signCount).toBeGreaterThan(0);

    await page.goto("/account");
    await passkeyRow(page, "Work laptop")
      .getByText(/^Last used /)
      .waitFor();
    expect(await passkeyRow(page, "Work laptop").getByText("Not used yet").count()).toBe(0);
    expect((await suite.server.models.Passkey.findByPk(stored[0]!.id))!.lastUsedAt).not.toBeNull();
  });

  it("signs an account with two-factor sign-in on in with its passkey, without asking for a code", async () => {
    const device = await suite.signedIn();
    const { page, user, account } = device;
    // Two-factor sign-in turned on through the API (another session of the same account).
    const api = await signIn(suite.server, account);
    const { secret } = (await api.mutation<{ secret: string }>("auth.totp.setup")).data;
    expect((await api.mutation("auth.totp.enable", { code: totp(secret) })).status).toBe(200);
    expect((await suite.server.models.User.findByPk(user.id))!.totpEnabledAt).not.toBeNull();

    await addVirtualAuthenticator(device);
    await page.goto("/account");
    await addPasskeyThroughUi(page, "Laptop");
    await signOutThroughUi(device);

    // The password alone is not enough here...
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();

    // ...but the passkey is: two factors in one.
    await page.goto("/sign-in");
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
    expect(await page.getByRole("heading", { name: "Two-factor sign-in" }).count()).toBe(0);
    expect(await page.getByLabel("Code from your authenticator app").count()).toBe(0);
  });

  it("removes a passkey after the confirm dialog, and the device's copy no longer signs in", async () => {
    const device = await suite.signedIn();
    const { page, context, user } = device;
    await addVirtualAuthenticator(device);
    await page.goto("/account");
    await addPasskeyThroughUi(page, "Laptop");

    await passkeyRow(page, "Laptop").getByRole("button", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog", { name: "Remove this passkey?" });
    await dialog.getByText("“Laptop” will no longer sign in").waitFor();
    await dialog.getByRole("button", { name: "Remove passkey" }).click();
    await passkeysCard(page).getByRole("status").filter({ hasText: "Removed the passkey “Laptop”" }).waitFor();
    await passkeysCard(page).getByText("No passkeys yet.").waitFor();
    expect(await passkeyRow(page, "Laptop").count()).toBe(0);
    expect(await page.getByLabel("Your password").count()).toBe(0);
    expect(await suite.server.models.Passkey.count({ where: { userId: user.id } })).toBe(0);

    // The authenticator still holds it, but the server refuses it.
    await signOutThroughUi(device);
    await page.goto("/sign-in");
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).click();
    await formError(page).getByText("This passkey is not registered here.").waitFor();
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
  });

  it("asks for the password before removing a passkey when the session signed in long ago", async () => {
    const device = await suite.signedIn();
    const { page, user, account } = device;
    await addVirtualAuthenticator(device);
    await page.goto("/account");
    await addPasskeyThroughUi(page, "Laptop");
    // This session signed in 11 minutes ago (and the account's tokens were valid from before then:
    // a session older than tokensValidAfter is dead, not stale).
    const signedInAt = new Date(Date.now() - 11 * 60 * 1000);
    await suite.server.models.User.update(
      { tokensValidAfter: new Date(signedInAt.getTime() - 60_000) },
      { where: { id: user.id } },
    );
    const [aged] = await suite.server.models.Session.update({ createdAt: signedInAt }, { where: { userId: user.id } });
    expect(aged).toBe(1);

    await passkeyRow(page, "Laptop").getByRole("button", { name: "Remove" }).click();
    await page
      .getByRole("dialog", { name: "Remove this passkey?" })
      .getByRole("button", { name: "Remove passkey" })
      .click();
    const proof = page.getByRole("form", { name: "Confirm removing Laptop" });
    await proof.getByText("you signed in more than 10 minutes ago").waitFor();
    expect(await suite.server.models.Passkey.count({ where: { userId: user.id } })).toBe(1);

    await proof.getByLabel("Your password").fill("not my password at all");
    await proof.getByRole("button", { name: "Remove passkey" }).click();
    await proof.getByText("That is not your current password.").waitFor();
    expect(await suite.server.models.Passkey.count({ where: { userId: user.id } })).toBe(1);
    await passkeyRow(page, "Laptop").waitFor();

    await proof.getByLabel("Your password").fill(account.password);
    await proof.getByRole("button", { name: "Remove passkey" }).click();
    await passkeysCard(page).getByRole("status").filter({ hasText: "Removed the passkey “Laptop”" }).waitFor();
    await proof.waitFor({ state: "detached" });
    await passkeysCard(page).getByText("No passkeys yet.").waitFor();
    expect(await suite.server.models.Passkey.count({ where: { userId: user.id } })).toBe(0);
  });

  it("refuses a passkey sign-in when the device did not verify its user", async () => {
    const device = await suite.signedIn();
    const { page, context, account } = device;
    const authenticator = await addVirtualAuthenticator(device);
    await page.goto("/account");
    await addPasskeyThroughUi(page, "Laptop");
    await signOutThroughUi(device);

    await authenticator.setUserVerified(false);
    await page.goto("/sign-in");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).click();
    await formError(page).waitFor();
    // Chromium itself refuses (NotAllowedError) when the authenticator cannot verify the user the
    // server requires, so the server never sees an assertion.
    expect((await formError(page).textContent())?.trim()).toBe(
      "The passkey prompt was closed or timed out. Try again when you are ready.",
    );
    await page.screenshot({ path: "/tmp/passkeys-sign-in.png", fullPage: true });
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).and(page.locator(":enabled")).waitFor();
    expect(new URL(page.url()).pathname).toBe("/sign-in");
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    expect(await mainNav(page).getByRole("link", { name: "Account" }).count()).toBe(0);

    // The same passkey works once the device verifies its user again.
    await authenticator.setUserVerified(true);
    await page.getByRole("button", { name: PASSKEY_SIGN_IN }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
  });
});
