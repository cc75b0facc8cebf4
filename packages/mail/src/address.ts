// The one rule for an email address Notebox takes: the sign-up form, create-admin and the import
// check it through core, and the mailer checks it again before it sends.

/** RFC 5321: a forward path holds at most 254 characters, a local part at most 64. */
export const EMAIL_MAX = 254;
const LOCAL_MAX = 64;

// RFC 5322 atext, with letters (and their marks) and digits of any script for internationalised
// addresses (RFC 6531). Nothing here separates, names or comments an address: no comma,
// semicolon, colon, quote, angle bracket, parenthesis, backslash, space or control character.
const ATEXT = "[\\p{L}\\p{M}\\p{Nd}!#$%&'*+\\-/=?^_`{|}~]";
// A host name label: letters, marks and digits, with hyphens inside; at most 63 characters.
const LABEL = String.raw`[\p{L}\p{M}\p{Nd}](?:[\p{L}\p{M}\p{Nd}\-]{0,61}[\p{L}\p{M}\p{Nd}])?`;

/**
 * One address and nothing else: a dot-atom local part (no leading, trailing or double dot), `@`,
 * and a domain of at least two dot-separated labels. Not a display name, a group, a list, a
 * quoted local part or a domain literal, so a mail library cannot read more than one mailbox out
 * of it.
 */
const ADDRESS = new RegExp(String.raw`^(${ATEXT}+(?:\.${ATEXT}+)*)@${LABEL}(?:\.${LABEL})+$`, "u");

export function isEmailAddress(text: string): boolean {
  if (text.length > EMAIL_MAX) return false;
  const match = ADDRESS.exec(text);
  return match !== null && match[1]!.length <= LOCAL_MAX;
}
