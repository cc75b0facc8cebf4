import { defineConfig } from "vitest/config";

// The hooks render in jsdom; the real Notebox server runs in the main vitest process (global setup,
// plain Node), and the tests reach it over HTTP on a loopback port like any front end would.
export default defineConfig({
  test: {
    environment: "jsdom",
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
