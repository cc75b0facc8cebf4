import { requireCurrentPassword, requireSecondFactorSetup, session } from "$lib/session.svelte";
import type { LayoutLoad } from "./$types";

// A single-page app: apps/server serves the same index.html for every route.
export const ssr = false;
export const prerender = false;

// Every page needs to know who is signed in before it decides what to show or where to send
// the visitor; the session asks the server once and remembers.
export const load: LayoutLoad = async ({ url }) => {
  await session.load();
  requireCurrentPassword(url);
  requireSecondFactorSetup(url);
};
