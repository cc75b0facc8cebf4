import { requireSignedIn } from "$lib/session.svelte";
import type { PageLoad } from "./$types";

export const load: PageLoad = async ({ parent, url }) => {
  await parent();
  requireSignedIn(url);
};
