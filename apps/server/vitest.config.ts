import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

// The integration suite runs once per database: SQLite always, MariaDB/MySQL (with Redis for the
// shared stores) when TEST_MYSQL_URL is set. End-to-end tests in Chromium run in their own project.
// eslint-disable-next-line no-restricted-properties -- test configuration, not the app
const env = process.env;
const integration = ["test/**/*.test.ts"];
const e2e = ["test/e2e/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "sqlite", include: integration, exclude: e2e, env: { TEST_DB: "sqlite" } } },
      ...(env.TEST_MYSQL_URL
        ? [
            {
              extends: true,
              test: { name: "mysql", include: integration, exclude: e2e, env: { TEST_DB: "mysql" } },
            } satisfies TestProjectInlineConfiguration,
          ]
        : []),
      { extends: true, test: { name: "e2e", include: e2e, env: { TEST_DB: "sqlite" } } },
    ],
  },
});
