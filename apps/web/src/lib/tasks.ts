// Task list items ("- [ ] buy milk") in a note's Markdown, found in the source so that ticking the
// n-th checkbox of the rendered note changes the n-th task of the text and nothing else.

/** A list item's task box at the start of a line, after any blockquote markers and indentation. */
const TASK = /^((?:[ \t]*>)*[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+\[)([ xX])(\] )/;

/** Where each task's box is in `text`: the offset of the character between the brackets. */
export function taskOffsets(text: string): number[] {
  const offsets: number[] = [];
  let fence: string | null = null;
  let offset = 0;
  for (const line of text.split("\n")) {
    const content = line.replace(/^(?:[ \t]*>)*/, "");
    const opening = /^[ \t]{0,3}(`{3,}|~{3,})/.exec(content);
    if (fence) {
      if (
        opening &&
        opening[1]![0] === fence[0] &&
        opening[1]!.length >= fence.length &&
        !/\S/.test(content.slice(opening[0].length))
      )
        fence = null;
    } else if (opening) {
      fence = opening[1]!;
    } else {
      const task = TASK.exec(line);
      if (task) offsets.push(offset + task[1]!.length);
    }
    offset += line.length + 1;
  }
  return offsets;
}

/** `text` with its `index`-th task ticked (or unticked), or null when there is no such task. */
export function setTask(text: string, index: number, done: boolean): string | null {
  const at = taskOffsets(text)[index];
  if (at === undefined) return null;
  return text.slice(0, at) + (done ? "x" : " ") + text.slice(at + 1);
}
