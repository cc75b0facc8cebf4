// Starts the real Notebox server (apps/server's test harness, SQLite) once for this package's
// tests, with accounts for them: one seen by a service holding a JWT issued for its API key, one
// whose API key the test exchanges itself, and one signed in with a browser session cookie.
import type { TestProject } from "vitest/node";
import { createKey, createNote, signedIn, tokenFromKey } from "@notebox/server/test/support/admin";
import { startTestServer } from "@notebox/server/test/support/server";

export interface NoteboxFixture {
  url: string;
  /** A JWT for an account that already holds one note, titled `seededTitle`. */
  token: string;
  seededTitle: string;
  /** An API key (nbk_…) of another account, with no notes. */
  apiKey: string;
  /** A signed-in browser session of a third account: its Cookie header and the app's Origin. */
  session: { cookie: string; origin: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    notebox: NoteboxFixture;
  }
}

export default async function setup(project: TestProject) {
  const t = await startTestServer();
  try {
    const withToken = await signedIn(t);
    const seededTitle = "Written before the page opened";
    await createNote(withToken.client, seededTitle);
    const token = await tokenFromKey(t, (await createKey(withToken.client, "intranet page")).key);
    const withKey = await signedIn(t);
    const { key: apiKey } = await createKey(withKey.client, "intranet page");
    const browser = await signedIn(t);
    const session = {
      cookie: browser.client.cookieHeader(),
      origin: new URL(t.server.runtime.deps.config.publicUrl).origin,
    };
    project.provide("notebox", { url: t.url, token, seededTitle, apiKey, session });
  } catch (error) {
    await t.close();
    throw error;
  }
  return () => t.close();
}
