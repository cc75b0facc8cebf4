import { redirect } from "@sveltejs/kit";
import { requireSignedIn, session, signInUrl } from "$lib/session.svelte";
import { toProblem, trpc } from "$lib/trpc";
import type { PageLoad } from "./$types";

// A file that cannot be read is shown by the page itself ("does not exist or was deleted"), not
// as an error page: the problem comes back as data.
export const load: PageLoad = async ({ parent, params, url }) => {
  await parent();
  requireSignedIn(url);
  try {
    return { file: await trpc.files.get.query({ id: params.id }), problem: null };
  } catch (error) {
    const problem = toProblem(error);
    if (problem.code === "UNAUTHORIZED") {
      session.signedOut();
      redirect(307, signInUrl(url));
    }
    return { file: null, problem };
  }
};
