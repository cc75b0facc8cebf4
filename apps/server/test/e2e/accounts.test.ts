// Accounts through the real web app in Chromium: sign-up with the emailed code, sign-in and out,
// password reset from the emailed link, password change, sessions, cookie and CSP in the browser,
// and who sees the admin page. One server and one browser; every test opens fresh contexts.
import { describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { SESSION_COOKIE } from "@notebox/api";
import { createUser, newAccount } from "../support/server";
import { codeFrom, resetLinkFrom } from "../support/smtp";
import {
  browserAvailable,
  cookieNamed,
  createApiKeyThroughUi,
  mainNav,
  noProblems,
  signInThroughUi,
  useBrowserSuite,
  waitForPath,
} from "./browser";

const LAPTOP_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const PHONE_UA =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const TABLET_UA =
  "Mozilla/5.0 (Linux; Android 14; Pixel Tablet) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/** Like Playwright's own waits: keep looking for up to 10 s (vitest's default is 1 s). */
const poll = { timeout: 10_000, interval: 100 };

describe.skipIf(!browserAvailable)("accounts in the browser", () => {
  const suite = useBrowserSuite();
  const { device } = suite;

  const formError = (page: Page) => page.locator("[data-form-error]");
  const fieldError = (page: Page, field: string) => page.locator(`[data-field-error="${field}"]`);

  /** Signed out as the app shows it: the nav offers "Sign in" and no "Account". */
  async function expectSignedOutNav(page: Page) {
    await mainNav(page).getByRole("link", { name: "Sign in" }).waitFor();
    expect(await mainNav(page).getByRole("link", { name: "Account" }).count()).toBe(0);
  }

  /** Opens /account afresh (a full page load) and expects to be sent to sign in. */
  async function expectSentToSignIn(page: Page) {
    await page.goto("/account");
    await waitForPath(page, "/sign-in");
    expect(new URL(page.url()).searchParams.get("next")).toBe("/account");
    await expectSignedOutNav(page);
  }

  it("signs up with the emailed code, after refusing a wrong one", async () => {
    const { context, page } = await device();
    const account = newAccount("e2e");

    await page.goto("/");
    await mainNav(page).getByRole("link", { name: "Sign up" }).click();
    await waitForPath(page, "/sign-up");
    await page.getByLabel("Username").fill(account.username);
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Create account" }).click();

    await waitForPath(page, "/verify");
    expect(new URL(page.url()).searchParams.get("email")).toBe(account.email);
    expect(await page.getByLabel("Email").inputValue()).toBe(account.email);
    const code = codeFrom(await suite.server.smtp.waitFor(account.email, /code/i));

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    const codeInput = page.getByLabel("Code");
    await codeInput.fill(wrong);
    await page.getByRole("button", { name: "Verify" }).click();
    await fieldError(page, "code").waitFor();
    expect(await fieldError(page, "code").textContent()).toMatch(/code/i);
    expect(await codeInput.getAttribute("aria-invalid")).toBe("true");
    // The error is tied to the input for screen readers.
    const errorId = await fieldError(page, "code").getAttribute("id");
    expect(await codeInput.getAttribute("aria-describedby")).toContain(errorId);
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    expect(page.url()).toContain("/verify");

    await codeInput.fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
    await mainNav(page).getByRole("link", { name: "Account" }).waitFor();

    // A full reload asks the server (auth.me) afresh: the session is real, not just page state.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
    expect(await page.getByRole("main").textContent()).toContain(account.email);
    expect(await mainNav(page).getByRole("link", { name: "Account" }).isVisible()).toBe(true);
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeDefined();
  });

  it("refuses a wrong password without a cookie, signs in, and signs out from the nav", async () => {
    const { account } = await createUser(suite.server);
    const { context, page } = await device();

    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill("not the password at all");
    await page.getByRole("button", { name: "Sign in" }).click();
    await formError(page).waitFor();
    expect((await formError(page).textContent())?.trim()).toBeTruthy();
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    expect(new URL(page.url()).pathname).toBe("/sign-in");

    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeDefined();

    await mainNav(page).getByRole("button", { name: "Sign out", exact: true }).click();
    await expectSignedOutNav(page);
    await waitForPath(page, "/");
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
    await page.reload();
    await expectSignedOutNav(page);

    // And back in, from the nav's own link.
    await mainNav(page).getByRole("link", { name: "Sign in" }).click();
    await waitForPath(page, "/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitForPath(page, "/");
    await mainNav(page).getByRole("link", { name: "Account" }).waitFor();
  });

  it("resets a forgotten password from the emailed link", async () => {
    const { account } = await createUser(suite.server);
    const { page } = await device();
    const status = page.getByRole("status");

    async function requestLink(email: string) {
      await page.getByLabel("Email").fill(email);
      await page.getByRole("button", { name: "Send reset link" }).click();
      await status.waitFor();
      return (await status.textContent())?.trim();
    }

    await page.goto("/sign-in");
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await waitForPath(page, "/forgot-password");
    const forUnknown = await requestLink(newAccount("nobody").email);
    expect(forUnknown).toMatch(/If an account exists for that address, we sent a link/);
    await page.getByRole("button", { name: "try again" }).click();
    const forOwner = await requestLink(account.email);
    expect(forOwner).toBe(forUnknown);

    const link = resetLinkFrom(await suite.server.smtp.waitFor(account.email, /reset/i));
    expect(link.startsWith(`${suite.server.url}/reset-password#token=`)).toBe(true);
    await page.goto(link);
    // The token leaves the address bar (and history) as soon as the page has read it.
    await page.waitForURL((url) => url.pathname === "/reset-password" && url.hash === "");
    const newPassword = `${account.password} renewed`;
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByLabel("Confirm new password").fill(newPassword);
    await page.getByRole("button", { name: "Set new password" }).click();
    await status.filter({ hasText: "Your password has been changed" }).waitFor();

    await page.goto("/sign-in");
    await page.getByLabel("Email").fill(account.email);
    await page.getByLabel("Password", { exact: true }).fill(account.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await formError(page).waitFor();
    await page.getByLabel("Password", { exact: true }).fill(newPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await waitForPath(page, "/");
    await page.getByRole("heading", { level: 1, name: `Hello, ${account.username}` }).waitFor();
  });

  it("changes the password on /account and signs the other device out", async () => {
    const { account } = await createUser(suite.server);
    const other = await device({ userAgent: PHONE_UA });
    await signInThroughUi(other.page, account);
    const { page } = await device({ userAgent: LAPTOP_UA });
    await signInThroughUi(page, account);

    await mainNav(page).getByRole("link", { name: "Account" }).click();
    await waitForPath(page, "/account");
    const current = page.getByLabel("Current password");
    const next = page.getByLabel("New password", { exact: true });
    const newPassword = `${account.password} changed`;

    await current.fill("not my current password");
    await next.fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await fieldError(page, "currentPassword").waitFor();
    expect(await fieldError(page, "currentPassword").textContent()).toMatch(/current password/i);
    expect(await current.getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByRole("status").filter({ hasText: "Password changed" }).count()).toBe(0);

    await current.fill(account.password);
    await next.fill(newPassword);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.getByRole("status").filter({ hasText: "Password changed" }).waitFor();
    expect(await fieldError(page, "currentPassword").count()).toBe(0);

    // This device stays signed in; the other one is out on its next navigation.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/account");
    await expectSentToSignIn(other.page);

    // There, the old password no longer works and the new one leads back to /account.
    await other.page.getByLabel("Email").fill(account.email);
    await other.page.getByLabel("Password", { exact: true }).fill(account.password);
    await other.page.getByRole("button", { name: "Sign in" }).click();
    await formError(other.page).waitFor();
    await other.page.getByLabel("Password", { exact: true }).fill(newPassword);
    await other.page.getByRole("button", { name: "Sign in" }).click();
    await waitForPath(other.page, "/account");
    await other.page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
  });

  it("says which API keys a password change will revoke, and lists the ones it revoked", async () => {
    const { account, user } = await createUser(suite.server);
    const { page } = await device();
    await signInThroughUi(page, account);
    await page.goto("/account");
    const key = await createApiKeyThroughUi(page, "Backup script");

    // Before: the password form names the key it is about to revoke.
    const passwordCard = page.getByRole("region", { name: "Change password" });
    const warning = passwordCard.locator("[data-keys-to-revoke]");
    await warning.filter({ hasText: "“Backup script”" }).waitFor();
    expect(await warning.textContent()).toContain(`${key.slice(0, 12)}…`);
    expect(await warning.textContent()).toMatch(/also revokes your API key/);

    await passwordCard.getByLabel("Current password").fill(account.password);
    await passwordCard.getByLabel("New password", { exact: true }).fill(`${account.password} changed`);
    await passwordCard.getByRole("button", { name: "Change password" }).click();

    // After: the answer lists what went, the warning and the key are gone, and the server agrees.
    const done = passwordCard.getByRole("status").filter({ hasText: "Password changed" });
    await done.waitFor();
    expect(await done.textContent()).toMatch(/This API key was revoked/);
    expect(await done.textContent()).toContain("“Backup script”");
    expect(await done.textContent()).toContain(`${key.slice(0, 12)}…`);
    await expect.poll(() => warning.count(), poll).toBe(0);
    const keysSection = page.getByRole("region", { name: "API keys", exact: true });
    await keysSection.getByText("You have no API keys.").waitFor();
    expect(await keysSection.getByLabel("Your new API key").count()).toBe(0);
    const exchange = await suite.server
      .client({ origin: null, headers: { authorization: `Bearer ${key}` } })
      .mutation("auth.issueToken");
    expect(exchange.status).toBe(401);
    const rows = await suite.server.models.ApiKey.findAll({ where: { userId: user.id } });
    expect(rows.map((row) => row.revokedAt === null)).toEqual([false]);
  });

  it("lists sessions, revokes one, and signs out everywhere else", async () => {
    const { account } = await createUser(suite.server);
    const laptop = await device({ userAgent: LAPTOP_UA });
    const phone = await device({ userAgent: PHONE_UA });
    await signInThroughUi(laptop.page, account);
    await signInThroughUi(phone.page, account);

    const { page } = laptop;
    await page.goto("/account");
    const sessions = page.getByRole("region", { name: "Where you are signed in" });
    const rows = sessions.getByRole("listitem");
    await expect.poll(() => rows.count(), poll).toBe(2);
    const thisDevice = rows.filter({ hasText: "This device" });
    expect(await thisDevice.count()).toBe(1);
    expect(await thisDevice.textContent()).toContain("Firefox on Linux");
    expect(await thisDevice.getByRole("button", { name: "Revoke" }).count()).toBe(0);
    const phoneRow = rows.filter({ hasText: "Safari on iPhone" });
    expect(await phoneRow.textContent()).not.toContain("This device");

    await phoneRow.getByRole("button", { name: "Revoke" }).click();
    await sessions.getByRole("status").filter({ hasText: "Signed out Safari on iPhone" }).waitFor();
    await expect.poll(() => rows.count(), poll).toBe(1);
    await sessions.getByText("Only this device is signed in.").waitFor();

    await phone.page.reload();
    await expectSignedOutNav(phone.page);
    await expectSentToSignIn(phone.page);

    // Two devices more, then all but this one go at once.
    const tablet = await device({ userAgent: TABLET_UA });
    await signInThroughUi(phone.page, account);
    await signInThroughUi(tablet.page, account);
    await page.reload();
    await expect.poll(() => rows.count(), poll).toBe(3);
    await sessions.getByRole("button", { name: "Sign out everywhere else" }).click();
    await sessions.getByRole("status").filter({ hasText: "Signed out 2 other sessions." }).waitFor();
    await sessions.getByText("Only this device is signed in.").waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain("This device");

    await expectSentToSignIn(phone.page);
    await expectSentToSignIn(tablet.page);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Account" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/account");
  });

  it("keeps the session cookie out of scripts' reach and breaks no CSP rule", async () => {
    const { account } = await createUser(suite.server);
    const { context, page } = await device();
    const response = await page.goto("/sign-in");
    const csp = (await response?.allHeaders())?.["content-security-policy"] ?? "";
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);

    await signInThroughUi(page, account);
    const cookie = await cookieNamed(context, SESSION_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", secure: false });
    expect(cookie?.value).toMatch(/^[a-z2-7]{32}$/);
    // Page scripts are strings here: this project compiles without the DOM library.
    const scriptCookies = await page.evaluate<string>("document.cookie");
    expect(scriptCookies).not.toContain(SESSION_COOKIE);
    expect(scriptCookies).not.toContain(cookie!.value);

    // Walk the signed-in pages; afterEach then finds no CSP report from any of them (nor from
    // any other test's pages).
    await page.goto("/account");
    await page.getByRole("region", { name: "Where you are signed in" }).getByRole("listitem").first().waitFor();
    await page.goto("/admin");
    await page.getByText("You need to be an administrator").waitFor();
    await page.goto("/account");
    await page.getByRole("main").getByRole("button", { name: "Sign out", exact: true }).click();
    await waitForPath(page, "/");
    await expectSignedOutNav(page);
    expect(await cookieNamed(context, SESSION_COOKIE)).toBeUndefined();
  });

  it("would notice a CSP violation: an injected inline script is blocked and reported", async () => {
    // The control for the check above: the same watcher, on a page where a violation is forced.
    const own = noProblems();
    const { page } = await device({ problems: own });
    await page.goto("/");
    await mainNav(page).getByRole("link", { name: "Sign in" }).waitFor();
    await page.evaluate(`{
      const script = document.createElement("script");
      script.textContent = "window.__inlineRan = true";
      document.head.append(script);
    }`);
    await expect.poll(() => own.csp.length, poll).toBeGreaterThan(0);
    expect(own.csp[0]).toMatch(/inline script/);
    expect(await page.evaluate<boolean>("window.__inlineRan === true")).toBe(false);
  });

  it("shows the admin page to admins only", async () => {
    const plain = await createUser(suite.server);
    const { page } = await device();
    const adminCalls: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/api/v1/trpc/admin.")) adminCalls.push(request.url());
    });
    await signInThroughUi(page, plain.account);
    await mainNav(page).getByRole("link", { name: "Account" }).waitFor();
    expect(await mainNav(page).getByRole("link", { name: "Admin" }).count()).toBe(0);
    expect(await page.getByRole("main").getByRole("link", { name: /Admin/ }).count()).toBe(0);

    await page.goto("/admin");
    await page.getByText("You need to be an administrator to see this page.").waitFor();
    expect(await page.getByRole("table").count()).toBe(0);
    expect(adminCalls).toEqual([]);

    const admin = await createUser(suite.server, { role: "admin" });
    const adminDevice = await device();
    await signInThroughUi(adminDevice.page, admin.account);
    const adminLink = mainNav(adminDevice.page).getByRole("link", { name: "Admin" });
    await adminLink.waitFor();
    await adminLink.click();
    await waitForPath(adminDevice.page, "/admin");
    await adminDevice.page.locator('[data-stat="users"]').waitFor();
    await adminDevice.page.goto("/admin/users");
    const plainRow = adminDevice.page.locator("[data-user-row]").filter({ hasText: plain.account.email });
    await plainRow.waitFor();
    expect(await plainRow.textContent()).toContain(plain.account.username);
    expect(await adminDevice.page.locator("[data-user-row]").filter({ hasText: admin.account.email }).count()).toBe(1);
  });
});
