// Deleting a file moves it to the trash, said by a toast with Undo, the same on the Files page and
// the file's own page (a note's trash works the same way).
import type { FileRecord } from "./files";
import { toasts } from "./toast.svelte";
import { trpc } from "./trpc";

/**
 * Moves the file to the trash, runs `then` (leaving the page, say: before the toast, so the
 * navigation does not take the keyboard focus from its Undo), and offers Undo, which brings the
 * file back and calls `onundo` with it.
 */
export async function moveFileToTrash(
  file: FileRecord,
  { then, onundo }: { then?: () => Promise<void> | void; onundo: (file: FileRecord) => Promise<void> | void },
) {
  await trpc.files.delete.mutate({ id: file.id });
  await then?.();
  toasts.show(`“${file.name}” moved to trash.`, {
    focusAction: true,
    action: {
      label: "Undo",
      run: async () => {
        await onundo(await trpc.files.restore.mutate({ id: file.id }));
      },
    },
  });
}
