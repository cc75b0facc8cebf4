// Note text is Markdown written by its owner: rendered with marked (HTML in it mostly shown as
// text), then cleaned by DOMPurify before it reaches the page, so no script, event handler or
// style in a note ever takes effect.
import DOMPurify from "dompurify";
import { Marked, type Tokens } from "marked";
import { attachmentId } from "./files";

/** Tags a note may write as HTML, and only bare (no attributes, so no handlers and no styles). */
const BARE_TAG =
  /^<\/?(?:b|i|u|s|em|strong|small|mark|ins|del|sub|sup|kbd|code|pre|br|hr|p|div|span|blockquote|details|summary|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|th|td)\s*\/?>$/i;

/**
 * HTML typed into a note: bare tags from the short list above stay markup, anything else is
 * shown as the text it is. No attribute ever reaches the browser's parser, so an event handler
 * is not even seen (parsing one would already be reported as a CSP violation).
 */
function rawHtml(text: string): string {
  return text.replace(/<\/?[a-z][a-z0-9]*\s*\/?>|[<>]/gi, (match) => {
    if (BARE_TAG.test(match)) return match;
    return match.replace(/</g, "&lt;").replace(/>/g, "&gt;");
  });
}

const marked = new Marked({
  gfm: true,
  // Notes are typed like messages: a line break in the text is a line break on the page.
  breaks: true,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag) {
      return rawHtml(token.text);
    },
  },
});

const purify = DOMPurify(window);

// Links open in a new tab without handing that tab a reference to Notebox or the address of the
// note; links within the note (#section) stay where they are.
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName !== "A" || !node.hasAttribute("href")) return;
  if (node.getAttribute("href")?.startsWith("#")) return;
  node.setAttribute("target", "_blank");
  node.setAttribute("rel", "noopener noreferrer nofollow");
});

const SANITIZE = {
  FORBID_TAGS: ["style", "form"],
  FORBID_ATTR: ["style"],
  // Ids and names in a note cannot shadow the page's own (DOM clobbering).
  SANITIZE_NAMED_PROPS: true,
};

/** Images the content security policy lets the page load: this server's, data: and blob: URLs. */
function loadable(src: string): boolean {
  try {
    const url = new URL(src, window.location.href);
    return url.origin === window.location.origin || url.protocol === "data:" || url.protocol === "blob:";
  } catch {
    return false;
  }
}

/**
 * Heading levels that follow the page's: wherever a note is shown, the page's h1 (the note's
 * title, or "Edit note") is the one above it, so its top headings are h2 and each deeper one only
 * one level below the heading it belongs to, however many # it was written with; never past h6.
 * Screen readers list headings by level, and a skipped level (h1, then h4) reads as a gap.
 */
function nestHeadings(fragment: DocumentFragment) {
  // The written depths of the headings that enclose the current one.
  const open: number[] = [];
  for (const heading of fragment.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const depth = Number(heading.tagName[1]);
    while ((open.at(-1) ?? 0) >= depth) open.pop();
    const level = Math.min(2 + open.length, 6);
    open.push(depth);
    if (level === depth) continue;
    const replacement = document.createElement(`h${level}`);
    for (const attribute of heading.attributes) replacement.setAttribute(attribute.name, attribute.value);
    replacement.append(...heading.childNodes);
    heading.replaceWith(replacement);
  }
}

/**
 * The note's text as a sanitized DOM fragment, ready to insert. Images from other sites, which
 * the content security policy would block anyway, become links to them instead.
 */
export function renderMarkdown(text: string): DocumentFragment {
  const html = marked.parse(text, { async: false });
  const fragment = purify.sanitize(html, { ...SANITIZE, RETURN_DOM_FRAGMENT: true });
  for (const image of fragment.querySelectorAll("img")) {
    const src = image.getAttribute("src");
    if (src && loadable(src)) continue;
    const link = document.createElement("a");
    link.textContent = image.getAttribute("alt") || "Image";
    if (src) {
      link.href = src;
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
    }
    image.replaceWith(link);
  }
  // A link to one of the person's files (a file inside the note) is a download chip.
  for (const link of fragment.querySelectorAll<HTMLAnchorElement>("a[href]")) {
    const href = link.getAttribute("href") ?? "";
    if (attachmentId(href) === null || href.includes("disposition=inline")) continue;
    link.classList.add("file-chip");
    link.setAttribute("download", link.textContent?.trim() || "file");
    link.removeAttribute("target");
  }
  nestHeadings(fragment);
  // A task's box is named by its item's text, so a screen reader says which task it ticks.
  for (const box of fragment.querySelectorAll('input[type="checkbox"]')) {
    box.setAttribute("aria-label", box.closest("li")?.textContent?.trim() || "Task");
  }
  // Each block takes the direction of its own text: an Arabic paragraph or list item reads right
  // to left inside an English note, and the other way round.
  for (const block of fragment.querySelectorAll(DIRECTIONAL)) block.setAttribute("dir", "auto");
  // A list or quote follows its first words too, so its bullets and bar change sides with it. Not
  // by dir="auto", which would skip the text of its items (they have a dir of their own).
  for (const container of fragment.querySelectorAll("ul, ol, blockquote")) {
    const direction = firstStrongDirection(container.textContent ?? "");
    if (direction) container.setAttribute("dir", direction);
  }
  return fragment;
}

/** The blocks whose direction follows their first strong character. */
const DIRECTIONAL = "p, li, h1, h2, h3, h4, h5, h6, td, th, dt, dd, summary";

/** The direction of the first letter of `text` from a right-to-left or left-to-right script. */
function firstStrongDirection(text: string): "rtl" | "ltr" | null {
  const match = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|\p{L}/u.exec(text);
  if (!match) return null;
  return /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]/.test(match[0]) ? "rtl" : "ltr";
}

/** An attachment that shows `text` as rendered Markdown inside its element. */
export function markdown(text: string) {
  return (element: HTMLElement) => {
    element.replaceChildren(renderMarkdown(text));
  };
}
