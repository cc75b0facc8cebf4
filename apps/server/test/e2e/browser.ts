// Debian's Chromium driven by playwright-core, and the setup every end-to-end file shares. Without
// a browser the e2e project skips locally but fails in CI, where .ci/run installs it.
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Cookie, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { Role } from "@notebox/db";
import { chromiumPath, isCi } from "../support/env";
import { createUser, startTestServer, type TestServer, type TestServerOptions } from "../support/server";

export const browserAvailable = existsSync(chromiumPath);

if (!browserAvailable && isCi) {
  throw new Error(
    `Chromium not found at ${chromiumPath}: CI must run the end-to-end tests (apt-get install chromium).`,
  );
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

export interface Device {
  context: BrowserContext;
  page: Page;
}

export interface DeviceOptions {
  userAgent?: string;
  /** Where this device reports CSP violations and page errors instead of the suite's own list. */
  problems?: PageProblems;
}

export interface BrowserSuite {
  /** The server under test: started before the first test of the block, closed after the last. */
  readonly server: TestServer;
  /** A new device: its own cookie jar and one page, closed when the test ends. */
  device: (options?: DeviceOptions) => Promise<Device>;
  /** A new account, signed in on a new device through the sign-in page. */
  signedIn: (options?: { role?: Role }) => Promise<Device & Awaited<ReturnType<typeof createUser>>>;
}

/**
 * One test server and one Chromium for the describe block this is called in. Every test opens
 * fresh devices, which are closed when it ends, and fails if any of them reported a CSP violation
 * or an uncaught error.
 */
export function useBrowserSuite(options: TestServerOptions = {}): BrowserSuite {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  const problems = noProblems();
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // Both start at once; whichever did start is closed again by afterAll when the other failed.
    const [started, launched] = await Promise.allSettled([startTestServer(options), launchBrowser()]);
    if (started.status === "fulfilled") server = started.value;
    if (launched.status === "fulfilled") browser = launched.value;
    if (started.status === "rejected") throw started.reason;
    if (launched.status === "rejected") throw launched.reason;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    const seen = { csp: problems.csp.splice(0), errors: problems.errors.splice(0) };
    expect(seen).toEqual({ csp: [], errors: [] });
  });

  function running<T>(value: T | undefined): T {
    if (value === undefined) throw new Error("The server and browser are only there inside tests and hooks.");
    return value;
  }

  const suite: BrowserSuite = {
    get server() {
      return running(server);
    },
    async device({ userAgent, problems: own } = {}) {
      const opened = await openPage(running(browser), {
        baseURL: running(server).url,
        userAgent,
        problems: own ?? problems,
      });
      contexts.push(opened.context);
      return opened;
    },
    async signedIn({ role } = {}) {
      const created = await createUser(running(server), { role });
      const opened = await suite.device();
      await signInThroughUi(opened.page, created.account);
      return { ...opened, ...created };
    },
  };
  return suite;
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

/** Creates an API key in the "API keys" section of /account (open on `page`) and returns the key it shows once. */
export async function createApiKeyThroughUi(page: Page, name: string): Promise<string> {
  const section = page.getByRole("region", { name: "API keys", exact: true });
  await section.getByLabel("Key name").fill(name);
  await section.getByRole("button", { name: "Create key" }).click();
  const shown = section.getByLabel("Your new API key");
  await shown.waitFor();
  return shown.inputValue();
}

/** Signs in on /sign-in as a person would and waits for the home page. */
export async function signInThroughUi(page: Page, account: { email: string; password: string }): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password", { exact: true }).fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await waitForPath(page, "/");
  await page.getByRole("heading", { level: 1, name: /^Hello, / }).waitFor();
}
