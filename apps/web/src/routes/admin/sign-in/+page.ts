import { redirect } from "@sveltejs/kit";
import { resolve } from "$app/paths";
import { isAdminPath } from "$lib/admin.svelte";
import { safeNext, session } from "$lib/session.svelte";
import type { PageLoad } from "./$types";

// An administrator who is already signed in goes straight on.
export const load: PageLoad = async ({ parent, url }) => {
  await parent();
  if (session.isAdmin) {
    const next = safeNext(url.searchParams.get("next"));
    redirect(307, next && isAdminPath(next) ? next : resolve("/admin"));
  }
};
