// Single sign-on in the browser against a real OpenID provider (support/oidc.ts: oidc-provider on a
// loopback port, with its own login and consent pages): a new person signed up and in, an existing
// account linked after its password, an unverified email and a cancel refused with their message,
// the two-factor step opened at once, unlinking from the account page, and password sign-in turned
// off for members on the admin settings page.
import { randomBytes } from "node:crypto";
import type { Locator, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "@notebox/api";
import { startOidcProvider, type OidcProvider } from "../support/oidc";
import { createUser, freePort, newAccount, signIn, type TestServerOptions } from "../support/server";
import { totp } from "../support/totp";
import { browserAvailable, cookieNamed, mainNav, useBrowserSuite, waitForPath } from "./browser";

const CONTINUE = "Continue with Test SSO";
const CALLBACK = "/api/v1/auth/oidc/callback";
const formError = (page: Page) => page.locator("[data-form-error]");
const ssoCard = (page: Page) => page.getByRole("region", { name: "Single sign-on", exact: true });

describe.skipIf(!browserAvailable)("single sign-on, in the browser", () => {
  // The provider must know Notebox's redirect URI before either starts: the port is chosen first,
  // and the server options filled in before useBrowserSuite's own beforeAll starts the server.
  const options: TestServerOptions = { env: {} };
  let op: OidcProvider;
  beforeAll(async () => {
    const port = await freePort();
    op = await startOidcProvider({ redirectUris: [`http://localhost:${port}${CALLBACK}`] });
    Object.assign(options.env!, op.env, { PORT: String(port) });
  });
  const suite = useBrowserSuite(options);
  afterAll(async () => {
    expect(op?.serverErrors ?? []).toEqual([]);
    await op?.close();
  });

  /** A person with an account at the provider (login = their subject identifier). */
  function person({
    email,
    verified = true,
    username,
  }: { email?: string; verified?: boolean; username?: string } = {}) {
    const sub = `sub-${randomBytes(6).toString("hex")}`;
    const address = email ?? newAccount("sso").email;
    op.setAccount(sub, {
      email: address,
      email_verified: verified,
      ...(username ? { preferred_username: username } : {}),
    });
    return { sub, email: address };
  }

  /**
   * Clicks `start` (on "Continue with Test SSO" or "Link Test SSO") and plays the person at the
   * provider: signs in as `sub` and consents (or cancels/denies), until the browser is back on
   * Notebox. A context signed in at the provider before may see none of its pages.
   */
  async function throughProvider(page: Page, start: Locator, sub: string, deny?: "login" | "consent"): Promise<void> {
    const notebox = new URL(suite.server.url).origin;
    let back = false;
    const onRequest = (request: Request) => {
      if (request.isNavigationRequest() && request.url().startsWith(`${notebox}${CALLBACK}`)) back = true;
    };
    page.on("request", onRequest);
    try {
      const landed = page.waitForEvent("framenavigated", {
        predicate: (frame) => frame === page.mainFrame() && back && new URL(frame.url()).origin === notebox,
        timeout: 20_000,
      });
      landed.catch(() => {}); // awaited below; this only keeps a timeout after a failure quiet
      await start.click();
      let previous = "";
      for (let step = 0; step < 5; step++) {
        const providerPage = page.waitForURL(
          (url) => url.origin === op.issuer && url.pathname.startsWith("/interaction/") && url.href !== previous,
        );
        providerPage.catch(() => {});
        const where = await Promise.race([
          landed.then(() => "back" as const),
          providerPage.then(() => "provider" as const),
        ]);
        if (where === "back") {
          await page.waitForLoadState();
          return;
        }
        previous = page.url();
        const title = await page.title();
        if (title === "Sign-in") {
          if (deny === "login") {
            await page.getByRole("link", { name: "Cancel" }).click();
            continue;
          }
          await page.locator('input[name="login"]').fill(sub);
          await page.locator('input[name="password"]').fill("any password");
          await page.getByRole("button", { name: "Sign-in" }).click();
        } else if (title === "Authorize") {
          if (deny === "consent") await page.getByRole("link", { name: "Deny" }).click();
          else await page.getByRole("button", { name: "Continue" }).click();
        } else {
          throw new Error(`unexpected page at the provider: ${title}: ${await page.locator("body").innerText()}`);
        }
      }
      throw new Error("too many steps at the provider");
    } finally {
      page.off("request", onRequest);
    }
  }

  /** From the sign-in page (open on `page`): "Continue with Test SSO" and the provider. */
  function continueWithSso(page: Page, sub: string, deny?: "login" | "consent"): Promise<void> {
    return throughProvider(page, page.getByRole("link", { name: CONTINUE }), sub, deny);
  }

  async function expectHome(page: Page, username: string): Promise<void> {
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${username}` }).waitFor();
    await mainNav(page).getByRole("link", { name: "Account" }).waitFor();
  }

  it("signs a new person up and in, and shows the linked identity on the account page", async () => {
    const username = `jane_${randomBytes(3).toString("hex")}`;
    const { sub, email } = person({ username });
    const { page, context } = await suite.device();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto("/sign-in");
    const button = page.getByRole("link", { name: CONTINUE });
    await button.waitFor();
    expect(await button.getAttribute("href")).toBe(`/api/v1/auth/oidc/start?next=${encodeURIComponent("/")}`);
    await page.screenshot({ path: "/tmp/sso-sign-in.png", fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: "/tmp/sso-sign-in-mobile.png", fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });

    await continueWithSso(page, sub);
    await expectHome(page, username);
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeDefined();
    const row = await suite.server.models.User.findOne({ where: { email } });
    expect(row).toMatchObject({ username, role: "user" });
    expect(row!.emailVerifiedAt).not.toBeNull();

    await mainNav(page).getByRole("link", { name: "Account" }).click();
    await waitForPath(page, "/account");
    const card = ssoCard(page);
    await card.getByText(`Linked to your Test SSO account ${email} since`).waitFor();
    await card.getByRole("button", { name: "Unlink Test SSO" }).waitFor();
    await card.scrollIntoViewIfNeeded();
    await card.screenshot({ path: "/tmp/sso-account-card.png" });
    await page.screenshot({ path: "/tmp/sso-account.png", fullPage: true });
  });

  it("links an existing account after its password, then signs it straight in", async () => {
    const { user, account } = await createUser(suite.server);
    const { sub } = person({ email: account.email });

    const first = await suite.device();
    await first.page.goto("/sign-in");
    await continueWithSso(first.page, sub);
    await first.page.waitForURL((url) => url.pathname === "/sign-in" && url.searchParams.get("sso") === "link");
    await first.page
      .getByRole("status")
      .filter({ hasText: "Your single sign-on address already has a Notebox account" })
      .waitFor();
    expect(await cookieNamed(first.context, SESSION_COOKIE)).toBeUndefined();
    expect(await suite.server.models.SsoIdentity.count({ where: { userId: user.id } })).toBe(0);

    await first.page.getByLabel("Email").fill(account.email);
    await first.page.getByLabel("Password", { exact: true }).fill(account.password);
    await first.page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expectHome(first.page, account.username);
    expect(await suite.server.models.SsoIdentity.count({ where: { userId: user.id } })).toBe(1);
    await first.page.goto("/account");
    await ssoCard(first.page).getByText(`Linked to your Test SSO account ${account.email} since`).waitFor();

    // A fresh browser, sent to sign in from a page that needs it: single sign-on alone, back there.
    const second = await suite.device();
    await second.page.goto("/files");
    await second.page.waitForURL((url) => url.pathname === "/sign-in" && url.searchParams.get("next") === "/files");
    await continueWithSso(second.page, sub);
    await waitForPath(second.page, "/files");
    await mainNav(second.page).getByRole("link", { name: "Account" }).waitFor();
    await second.page.goto("/");
    await expectHome(second.page, account.username);
  });

  it("refuses an email the provider has not verified, with its message", async () => {
    const { sub, email } = person({ verified: false });
    const { page, context } = await suite.device();
    await page.goto("/sign-in");
    await continueWithSso(page, sub);
    await page.waitForURL((url) => url.pathname === "/sign-in" && url.searchParams.get("sso_error") !== null);
    expect(new URL(page.url()).searchParams.get("sso_error")).toBe("sso_email_unverified");
    await formError(page).getByText("has not verified your email address").waitFor();
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    expect(await suite.server.models.User.count({ where: { email } })).toBe(0);
    // The sign-in form is still there to use.
    await page.getByRole("link", { name: CONTINUE }).waitFor();
    await page.getByLabel("Email").waitFor();
  });

  it("says the sign-in was cancelled when the person cancels or denies at the provider", async () => {
    for (const deny of ["login", "consent"] as const) {
      const { sub, email } = person();
      const { page, context } = await suite.device();
      await page.goto("/sign-in");
      await continueWithSso(page, sub, deny);
      await page.waitForURL((url) => url.pathname === "/sign-in" && url.searchParams.get("sso_error") !== null);
      expect(new URL(page.url()).searchParams.get("sso_error"), deny).toBe("sso_cancelled");
      await formError(page).getByText("Single sign-on was cancelled at the provider.").waitFor();
      expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
      expect(await suite.server.models.User.count({ where: { email } })).toBe(0);
    }
  });

  it("opens the two-factor step at once for an account with two-factor sign-in on", async () => {
    // A new person through single sign-on, who then turns two-factor sign-in on through the API.
    const username = `totp_${randomBytes(3).toString("hex")}`;
    const { sub, email } = person({ username });
    const setup = await suite.device();
    await setup.page.goto("/sign-in");
    await continueWithSso(setup.page, sub);
    await expectHome(setup.page, username);
    const api = suite.server.client();
    api.cookies.set(SESSION_COOKIE, (await cookieNamed(setup.context, SESSION_COOKIE))!.value);
    const { secret } = (await api.mutation<{ secret: string }>("auth.totp.setup")).data;
    expect((await api.mutation("auth.totp.enable", { code: totp(secret, -1) })).status).toBe(200);

    const { page, context } = await suite.device();
    await page.goto("/sign-in");
    await continueWithSso(page, sub);
    await page.getByRole("heading", { name: "Two-factor sign-in" }).waitFor();
    // The challenge left the address bar.
    await page.waitForURL((url) => url.pathname === "/sign-in" && url.hash === "");
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    await page.getByLabel("Code from your authenticator app").fill("000000");
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByText("That code is not right").waitFor();
    await page.getByLabel("Code from your authenticator app").fill(totp(secret));
    await page.getByRole("button", { name: "Verify" }).click();
    await expectHome(page, username);
    expect(new URL(page.url()).hash).toBe("");
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeDefined();
    const row = await suite.server.models.User.findOne({ where: { email } });
    expect(row!.totpEnabledAt).not.toBeNull();
  });

  it("links from the account page and unlinks there, with the password once the session is old", async () => {
    const { user, account } = await createUser(suite.server);
    const { page } = await suite.device();
    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expectHome(page, account.username);

    // Linked from the account page, to a provider account with another address.
    const { sub, email } = person({ email: `elsewhere.${randomBytes(4).toString("hex")}@provider.example` });
    await page.goto("/account");
    await ssoCard(page).getByText("Sign in with your Test SSO account instead").waitFor();
    await throughProvider(page, ssoCard(page).getByRole("link", { name: "Link Test SSO" }), sub);
    await waitForPath(page, "/account");
    await ssoCard(page).getByText(`Linked to your Test SSO account ${email} since`).waitFor();

    // The link made a new session just now: unlinking asks for nothing more.
    await ssoCard(page).getByRole("button", { name: "Unlink Test SSO" }).click();
    await ssoCard(page).getByRole("status").filter({ hasText: "Unlinked." }).waitFor();
    await ssoCard(page).getByRole("link", { name: "Link Test SSO" }).waitFor();
    expect(await page.getByLabel("Your password").count()).toBe(0);
    expect(await suite.server.models.SsoIdentity.count({ where: { userId: user.id } })).toBe(0);

    // Linked again; then the session is 11 minutes old (and the account's tokens older still).
    await throughProvider(page, ssoCard(page).getByRole("link", { name: "Link Test SSO" }), sub);
    await waitForPath(page, "/account");
    await ssoCard(page).getByRole("button", { name: "Unlink Test SSO" }).waitFor();
    const signedInAt = new Date(Date.now() - 11 * 60 * 1000);
    await suite.server.models.User.update(
      { tokensValidAfter: new Date(signedInAt.getTime() - 60_000) },
      { where: { id: user.id } },
    );
    await suite.server.models.Session.update({ createdAt: signedInAt }, { where: { userId: user.id } });

    await ssoCard(page).getByRole("button", { name: "Unlink Test SSO" }).click();
    const proof = page.getByRole("form", { name: "Confirm unlinking" });
    await proof.getByText("you signed in more than 10 minutes ago").waitFor();
    await proof.getByLabel("Your password").fill(`${account.password}!`);
    await proof.getByRole("button", { name: "Unlink", exact: true }).click();
    await proof.getByText("That is not your current password.").waitFor();
    expect(await suite.server.models.SsoIdentity.count({ where: { userId: user.id } })).toBe(1);
    await proof.getByLabel("Your password").fill(account.password);
    await proof.getByRole("button", { name: "Unlink", exact: true }).click();
    await ssoCard(page).getByRole("link", { name: "Link Test SSO" }).waitFor();
    await proof.waitFor({ state: "detached" });
    expect(await suite.server.models.SsoIdentity.count({ where: { userId: user.id } })).toBe(0);
  });

  it("turns members' password sign-in off on the admin settings page", async () => {
    const { page } = await suite.signedIn({ role: "admin" });
    const { account: adminAccount } = await createUser(suite.server, { role: "admin" });
    const restore = await signIn(suite.server, adminAccount);
    const member = await createUser(suite.server);
    try {
      await page.goto("/admin/settings");
      const fieldset = page.getByRole("group", { name: "Single sign-on with Test SSO" });
      const passwords = fieldset.getByLabel("Members may also sign in with a password");
      await passwords.waitFor();
      expect(await passwords.isChecked()).toBe(true);
      expect(await fieldset.getByLabel(/Link a first single sign-on/).isChecked()).toBe(false);
      await passwords.uncheck();
      await page.getByRole("button", { name: "Save settings" }).click();
      await page.getByText("Saved.").waitFor();
      await page.reload();
      await passwords.waitFor();
      expect(await passwords.isChecked()).toBe(false);

      const { page: visitor, context } = await suite.device();
      await visitor.goto("/sign-in");
      await visitor.getByLabel("Email").fill(member.account.email);
      await visitor.getByLabel("Password", { exact: true }).fill(member.account.password);
      await visitor.getByRole("button", { name: "Sign in", exact: true }).click();
      await formError(visitor).getByText("Password sign-in is off here").waitFor();
      expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
      expect(new URL(visitor.url()).pathname).toBe("/sign-in");
      await visitor.getByRole("link", { name: CONTINUE }).waitFor();
      await visitor.setViewportSize({ width: 390, height: 844 });
      await visitor.screenshot({ path: "/tmp/sso-sign-in-mobile-refused.png", fullPage: true });
    } finally {
      expect((await restore.mutation("admin.settings.update", { passwordSignIn: true })).status).toBe(200);
    }
  });
});
