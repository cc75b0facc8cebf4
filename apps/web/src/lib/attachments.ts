// Files inside notes: a file pasted or dropped into a note's text (or chosen with Attach) uploads
// as a normal Notebox file, into the note, and the text gets a reference to it: an image for the
// types the server shows inline, a link drawn as a download chip for anything else.
import { contentUrl, previewKind, type FileRecord } from "./files";

export { attachmentId } from "./files";
import { uploads } from "./uploads.svelte";

/** A name as Markdown link text: brackets and backslashes escaped, line breaks flattened. */
function linkText(name: string): string {
  return name.replace(/[\r\n]+/g, " ").replace(/([\\[\]])/g, "\\$1");
}

/** The Markdown that shows the file in the note. */
export function referenceTo(file: Pick<FileRecord, "id" | "name" | "contentType">): string {
  return previewKind(file.contentType) === "image"
    ? `![${linkText(file.name)}](${contentUrl(file.id, true)})`
    : `[${linkText(file.name)}](${contentUrl(file.id)})`;
}

/** What the editor must offer for files to go into it. */
export interface AttachTarget {
  insert(text: string): void;
  replace(search: string, replacement: string): boolean;
}

let placeholders = 0;

/**
 * Uploads the files into the note (`noteId`; null for a note not saved yet), each shown in the
 * text as "Uploading…" where it was put until its reference replaces it. Resolves with the files
 * stored and a sentence for each one that was not.
 */
export async function attachFiles(
  editor: AttachTarget,
  files: File[],
  noteId: string | null,
): Promise<{ stored: FileRecord[]; failures: string[] }> {
  const started = uploads.add(files, { noteId });
  const marks = started.map((upload) => `![Uploading ${linkText(upload.name)}…](#upload-${++placeholders})`);
  editor.insert(marks.map((mark) => `${mark}\n`).join(""));
  const stored: FileRecord[] = [];
  const failures: string[] = [];
  await Promise.all(
    started.map(async (upload, i) => {
      await upload.finished;
      const mark = marks[i]!;
      const file = upload.status === "done" ? upload.result : null;
      if (file) {
        stored.push(file);
        editor.replace(mark, referenceTo(file));
      } else {
        if (!editor.replace(`${mark}\n`, "")) editor.replace(mark, "");
        if (upload.status !== "cancelled")
          failures.push(`Could not attach ${upload.name}: ${upload.error ?? "the upload failed."}`);
      }
    }),
  );
  return { stored, failures };
}
