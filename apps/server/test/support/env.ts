// Test-side view of the environment (the app itself reads it only through @notebox/config).
// eslint-disable-next-line no-restricted-properties -- tests choose their services from the environment
const env = process.env;

export const testDb = (env.TEST_DB ?? "sqlite") as "sqlite" | "mysql";
export const testMysqlUrl = env.TEST_MYSQL_URL;
export const testRedisUrl = env.TEST_REDIS_URL;
export const chromiumPath = env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** LibreOffice, whose Calc opens the .xlsx export in test/notes/export.test.ts. */
export const sofficePath = env.SOFFICE_PATH ?? "/usr/bin/soffice";
export const isCi = env.CI === "true" || env.CI === "1";

/**
 * A test that needs what this machine lacks (a service, a mount) skips on a developer's machine
 * and fails in CI, where everything it needs must be there: a skipped fault test proves nothing.
 */
export function missing(ctx: { skip(note?: string): void }, what: string): void {
  if (isCi) throw new Error(`${what}: CI must be able to run this test`);
  ctx.skip(what);
}
