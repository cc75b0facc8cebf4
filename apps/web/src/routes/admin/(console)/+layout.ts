import { redirect } from "@sveltejs/kit";
import { adminSignInUrl } from "$lib/admin.svelte";
import { session } from "$lib/session.svelte";
import type { LayoutLoad } from "./$types";

// Signed out: the admin sign-in, then back here. Signed in without being an administrator: the
// layout shows a refusal and none of the pages below it (so none of their requests) run.
export const load: LayoutLoad = async ({ parent, url }) => {
  await parent();
  if (!session.user) redirect(307, adminSignInUrl(url));
};
