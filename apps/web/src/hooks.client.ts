import type { HandleClientError } from "@sveltejs/kit";

// A mistyped address is an expected outcome that +error.svelte explains; only real failures
// belong in the console.
export const handleError: HandleClientError = ({ error, status, message }) => {
  if (status !== 404) console.error(error);
  return { message };
};
