// Debian's Chromium driven by playwright-core. Without a browser the e2e project skips locally
// but fails in CI, where .ci/run installs it.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from "playwright-core";
import { chromiumPath, isCi } from "../support/env";

export const browserAvailable = existsSync(chromiumPath);

if (!browserAvailable && isCi) {
  throw new Error(`Chromium not found at ${chromiumPath}: CI must run the end-to-end tests (apt-get install chromium).`);
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
      "--no-first-run",
    ],
  });
}

/** What a page reported that no test should ever see. */
export interface PageProblems {
  /** Console messages about Content Security Policy violations. */
  csp: string[];
  /** Uncaught exceptions and unhandled rejections in the page. */
  errors: string[];
}

export const noProblems = (): PageProblems => ({ csp: [], errors: [] });

/** Gathers CSP violations and uncaught errors from every page of `context` into `problems`. */
export function watchProblems(context: BrowserContext, problems: PageProblems): void {
  context.on("console", (message) => {
    const text = message.text();
    if (text.includes("Content Security Policy")) problems.csp.push(`${message.page()?.url() ?? "?"}: ${text}`);
  });
  context.on("weberror", (error) => problems.errors.push(`${error.page()?.url() ?? "?"}: ${String(error.error())}`));
}

export interface OpenOptions {
  /** Where relative page.goto() paths point: the test server's URL. */
  baseURL: string;
  userAgent?: string;
  problems?: PageProblems;
}

/**
 * A fresh context (its own cookies: one "device") with one page. Actions give up after 10 s so a
 * missing element fails the test with Playwright's message rather than the test's timeout.
 */
export async function openPage(browser: Browser, { baseURL, userAgent, problems }: OpenOptions) {
  const context = await browser.newContext({ baseURL, ...(userAgent ? { userAgent } : {}) });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  if (problems) watchProblems(context, problems);
  const page = await context.newPage();
  return { context, page };
}

/** Waits until the page's address (client-side navigations included) has this path. */
export function waitForPath(page: Page, pathname: string | RegExp): Promise<void> {
  return page.waitForURL((url) =>
    typeof pathname === "string" ? url.pathname === pathname : pathname.test(url.pathname),
  );
}

export async function cookieNamed(context: BrowserContext, name: string): Promise<Cookie | undefined> {
  return (await context.cookies()).find((cookie) => cookie.name === name);
}

// ---- Notebox's own screens ----

/** The header navigation, once the app knows who is signed in. */
export const mainNav = (page: Page) => page.getByRole("navigation", { name: "Main" });

/** Signs in on /sign-in as a person would and waits for the home page. */
export async function signInThroughUi(page: Page, account: { email: string; password: string }): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password", { exact: true }).fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitForPath(page, "/");
  await page.getByRole("heading", { level: 1, name: /^Hello, / }).waitFor();
}
