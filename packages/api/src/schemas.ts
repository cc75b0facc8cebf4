// Input fields shared by routers. Messages are written for the person filling the form.
import { checkUsername, EMAIL_MAX, isEmailAddress, PASSKEY_NAME_MAX, PASSWORD_MAX, PASSWORD_MIN } from "@notebox/core";
import {
  BULK_NOTES_MAX,
  FILE_NAME_INPUT_MAX,
  NOTE_TEXT_MAX_BYTES,
  NOTE_TITLE_MAX,
  TAG_NAME_MAX,
  TAGS_PER_NOTE_MAX,
  utf8Bytes,
} from "./limits";
import { z } from "zod";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const email = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, { error: "Enter your email address.", abort: true })
  .max(EMAIL_MAX, { error: "This email address is too long.", abort: true })
  .refine(isEmailAddress, {
    error: "Enter one email address, like name@example.com, with no name, quotes or brackets.",
  });

/** Free text a person types to filter a list: bounded, no control characters. */
export const searchText = z
  .string()
  .max(200, { error: "Search for at most 200 characters." })
  .refine((v) => !CONTROL.test(v), { error: "Remove control characters from the search." });

/** The name as it is stored (NFKC): core's checkUsername is the rule. */
export const username = z.string({ error: "Choose a username." }).transform((input, ctx) => {
  const { username, problem } = checkUsername(input);
  if (problem !== null) {
    ctx.issues.push({ code: "custom", message: problem, input });
    return z.NEVER;
  }
  return username;
});

export const password = z
  .string({ error: "Enter a password." })
  .min(PASSWORD_MIN, { error: `Use at least ${PASSWORD_MIN} characters.` })
  .max(PASSWORD_MAX, { error: `Use at most ${PASSWORD_MAX} characters.` })
  .refine((p) => !CONTROL.test(p), { error: "Passwords cannot contain control characters." });

/** A password being checked rather than chosen: only bounded, so old passwords still work. */
export const existingPassword = z
  .string({ error: "Enter your password." })
  .min(1, { error: "Enter your password." })
  .max(1024, { error: "This password is too long." });

export const code = z
  .string({ error: "Enter the 6-digit code." })
  .trim()
  .regex(/^\d{6}$/, { error: "Enter the 6-digit code from the email." });

/** A code from an authenticator app (TOTP): six digits, spaces allowed as apps show them. */
export const totpCode = z
  .string({ error: "Enter the 6-digit code from your authenticator app." })
  .transform((v) => v.replace(/\s/g, ""))
  .pipe(z.string().regex(/^\d{6}$/, { error: "Enter the 6-digit code from your authenticator app." }));

/** One of the recovery codes shown when two-factor sign-in was turned on. */
export const recoveryCode = z
  .string({ error: "Enter one of your recovery codes." })
  .trim()
  .min(1, { error: "Enter one of your recovery codes." })
  .max(64, { error: "That is not a recovery code." });

/** The opaque challenge auth.login gave for the second step of a sign-in. */
export const challenge = z
  .string({ error: "Sign in again with your password." })
  .regex(/^[A-Za-z0-9_-]{20,100}$/, { error: "This sign-in has expired. Sign in again with your password." });

/** The token of an emailed link (generateToken: 32 lower-case base32 letters). */
const linkToken = (missing: string, invalid: string) =>
  z.string({ error: missing }).regex(/^[a-z2-7]{32}$/, { error: invalid });

export const token = linkToken("This reset link is not valid.", "This reset link is not valid. Ask for a new one.");

export const inviteToken = linkToken(
  "This invitation link is not valid.",
  "This invitation link is not valid. Ask your administrator for a new one.",
);

export const sessionId = z.string().regex(/^[0-9a-f]{64}$/, { error: "No such session." });

// Tab, line feed and carriage return belong in text; other C0 controls do not.
// eslint-disable-next-line no-control-regex
const TEXT_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

export const noteTitle = z
  .string({ error: "Give the note a title." })
  .trim()
  .min(1, { error: "Give the note a title." })
  .max(NOTE_TITLE_MAX, { error: `Keep the title to ${NOTE_TITLE_MAX} characters.` })
  .refine((v) => !CONTROL.test(v), { error: "Titles cannot contain control characters." });

const NOTE_TEXT_TOO_BIG = `Keep the note under ${NOTE_TEXT_MAX_BYTES / 1024} KB.`;

export const noteDescription = z
  .string({ error: "The note text must be text." })
  .max(NOTE_TEXT_MAX_BYTES, { error: NOTE_TEXT_TOO_BIG })
  // Checked only when the length check passed, so one message is shown, not two.
  .refine((v) => v.length > NOTE_TEXT_MAX_BYTES || utf8Bytes(v) <= NOTE_TEXT_MAX_BYTES, { error: NOTE_TEXT_TOO_BIG })
  .refine((v) => !TEXT_CONTROL.test(v), { error: "The note text cannot contain control characters." });

/** Ids are opaque: anything that is not one of the caller's records is simply not found. */
export const recordId = z
  .string({ error: "Missing id." })
  .min(1, { error: "Missing id." })
  .max(64, { error: "No such record." });

export const cursor = z.string().max(512, { error: "This page link is not valid." }).nullish();

export const pageLimit = z
  .number()
  .int()
  .min(1, { error: "Ask for at least 1 item." })
  .max(100, { error: "Ask for at most 100 items." });

/** A file name as typed for a rename; core cleans it as an upload's (a longer one is shortened to
 * FILE_NAME_MAX_BYTES, keeping its extension). */
export const fileName = z
  .string({ error: "Give the file a name." })
  .trim()
  .min(1, { error: "Give the file a name." })
  .max(FILE_NAME_INPUT_MAX, { error: `Keep the name under ${FILE_NAME_INPUT_MAX.toLocaleString("en")} characters.` });

/** A tag's name: 1 to TAG_NAME_MAX characters once trimmed, one line, no control characters. */
export const tagName = z
  .string({ error: "Name the tag." })
  .trim()
  .min(1, { error: "Name the tag." })
  .refine((v) => [...v].length <= TAG_NAME_MAX, { error: `Keep each tag to ${TAG_NAME_MAX} characters.` })
  .refine((v) => !CONTROL.test(v), { error: "Tags cannot contain control characters." });

export const tagList = z
  .array(tagName, { error: "Send the tags as a list of names." })
  .max(TAGS_PER_NOTE_MAX, { error: `A note can have at most ${TAGS_PER_NOTE_MAX} tags.` });

/** The notes one bulk action names. */
export const noteIds = z
  .array(recordId, { error: "Send the notes as a list of ids." })
  .min(1, { error: "Select at least one note." })
  .max(BULK_NOTES_MAX, { error: `Act on at most ${BULK_NOTES_MAX} notes at once.` });

/** A file quota in bytes: a whole number from 0 to 1 PiB. */
export const quotaBytes = z
  .number({ error: "Give the quota in bytes." })
  .int({ error: "Give the quota in whole bytes." })
  .min(0, { error: "A quota cannot be negative." })
  .max(2 ** 50, { error: "Keep the quota under 1 PiB." });

/** An email domain like example.com, for the sign-up allow-list. */
export const emailDomain = z
  .string({ error: "Give the domain, like example.com." })
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/, {
    error: "Give the domain, like example.com.",
  });

const base64url = (max: number, message = "The passkey's answer is not valid. Try again.") =>
  z
    .string({ error: message })
    .max(max, { error: message })
    .regex(/^[A-Za-z0-9_-]*$/, { error: message });

/** What a browser's navigator.credentials call gives back, as @simplewebauthn/browser sends it. */
const passkeyCredential = <R extends z.ZodRawShape>(response: R) =>
  z.object(
    {
      id: base64url(1400),
      rawId: base64url(1400),
      type: z.literal("public-key", { error: "The passkey's answer is not valid. Try again." }),
      authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
      clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
      response: z.object(
        { clientDataJSON: base64url(4096), ...response },
        { error: "The passkey's answer is not valid. Try again." },
      ),
    },
    { error: "The passkey's answer is not valid. Try again." },
  );

/** A new passkey's attestation (navigator.credentials.create). */
export const passkeyRegistration = passkeyCredential({
  attestationObject: base64url(65536),
  authenticatorData: base64url(65536).optional(),
  transports: z.array(z.string().max(32)).max(10).optional(),
  publicKeyAlgorithm: z.number().int().optional(),
  publicKey: base64url(4096).optional(),
});

/** A passkey sign-in's assertion (navigator.credentials.get). */
export const passkeyAssertion = passkeyCredential({
  authenticatorData: base64url(65536),
  signature: base64url(4096),
  userHandle: base64url(512).nullish(),
});

export const passkeyName = z
  .string({ error: "Name the passkey after the device that holds it." })
  .trim()
  .min(1, { error: "Name the passkey after the device that holds it." })
  .max(PASSKEY_NAME_MAX, { error: `Keep the name to ${PASSKEY_NAME_MAX} characters.` });
