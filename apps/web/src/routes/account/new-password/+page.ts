import { resolve } from "$app/paths";
import { redirect } from "@sveltejs/kit";
import { requireSignedIn, safeNext, session } from "$lib/session.svelte";
import type { PageLoad } from "./$types";

export const load: PageLoad = async ({ parent, url }) => {
  await parent();
  requireSignedIn(url);
  // Nothing to do here for an account whose password is already its own.
  if (!session.user?.mustChangePassword) redirect(307, safeNext(url.searchParams.get("next")) ?? resolve("/"));
};
