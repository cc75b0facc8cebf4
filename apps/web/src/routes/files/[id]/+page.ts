import { loadOwn } from "$lib/session.svelte";
import { trpc } from "$lib/trpc";
import type { PageLoad } from "./$types";

// A file that cannot be read is shown by the page itself ("does not exist or was deleted"), not
// as an error page: the problem comes back as data.
export const load: PageLoad = async ({ parent, params, url }) => {
  await parent();
  const { value, problem } = await loadOwn(url, (options) => trpc.files.get.query({ id: params.id }, options));
  return { file: value, problem };
};
