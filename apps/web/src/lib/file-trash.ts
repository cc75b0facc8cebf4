// Deleting a file moves it to the trash, said by a toast with Undo, the same on the Files page and
// the file's own page (a note's trash works the same way).
import type { FileRecord } from "./files";
import { toasts } from "./toast.svelte";
import { trpc } from "./trpc";

/** Moves the file to the trash; Undo brings it back and then calls `onundo` with it. */
export async function moveFileToTrash(file: FileRecord, onundo: (file: FileRecord) => Promise<void> | void) {
  await trpc.files.delete.mutate({ id: file.id });
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
