// Debian's Chromium driven by playwright-core. Without a browser the e2e project skips locally
// but fails in CI, where .ci/run installs it.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
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
