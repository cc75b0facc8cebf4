import type { MailMessage } from "./mailer";

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function layout(title: string, paragraphs: string[]): string {
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2937">
<h1 style="font-size:20px">${escape(title)}</h1>
${paragraphs.join("\n")}
<p style="color:#6b7280;font-size:13px">Notebox</p></body></html>`;
}

/**
 * A sign-up code. `username` is the name the sign-up chose, so the owner can tell their own
 * attempt from someone else's; `anotherAttempt` says an earlier sign-up for the address is still
 * waiting, whose own code keeps working and confirms what that sign-up chose.
 */
export function verificationCode(
  to: string,
  code: string,
  minutes: number,
  { username, anotherAttempt = false }: { username: string; anotherAttempt?: boolean },
): MailMessage {
  const another = anotherAttempt
    ? `A new sign-up was started for this address, as "${username}". This code confirms that sign-up and the password chosen with it. If it was not you, do not enter this code: the code of your own sign-up still works.`
    : `This code confirms the sign-up as "${username}". If you did not try to sign up, ignore this email.`;
  return {
    to,
    subject: anotherAttempt ? `New sign-up started: your Notebox code ${code}` : `Your Notebox code: ${code}`,
    text: `Your Notebox verification code is ${code}\n\n${another}\n\nIt expires in ${minutes} minutes.\n`,
    html: layout(anotherAttempt ? "A new sign-up was started" : "Confirm your email", [
      `<p>Your Notebox verification code is</p>`,
      `<p style="font-size:28px;letter-spacing:6px;font-weight:bold">${code}</p>`,
      `<p>${escape(another)}</p>`,
      `<p>It expires in ${minutes} minutes.</p>`,
    ]),
  };
}

export function accountExists(to: string, signInUrl: string, resetUrl: string): MailMessage {
  return {
    to,
    subject: "You already have a Notebox account",
    text: `Someone tried to sign up for Notebox with this address, but it already has an account.\n\nSign in: ${signInUrl}\nForgot your password? ${resetUrl}\n\nIf it was not you, you can ignore this email.\n`,
    html: layout("You already have an account", [
      `<p>Someone tried to sign up for Notebox with this address, but it already has an account.</p>`,
      `<p><a href="${escape(signInUrl)}">Sign in</a> or <a href="${escape(resetUrl)}">reset your password</a>.</p>`,
      `<p>If it was not you, you can ignore this email.</p>`,
    ]),
  };
}

export function passwordReset(to: string, link: string, minutes: number): MailMessage {
  return {
    to,
    subject: "Reset your Notebox password",
    text: `To choose a new Notebox password, open this link:\n\n${link}\n\nIt works once and expires in ${minutes} minutes. If you did not ask for this, ignore this email: your password stays the same.\n`,
    html: layout("Reset your password", [
      `<p>To choose a new Notebox password, open this link:</p>`,
      `<p><a href="${escape(link)}">${escape(link)}</a></p>`,
      `<p>It works once and expires in ${minutes} minutes. If you did not ask for this, ignore this email: your password stays the same.</p>`,
    ]),
  };
}

/** `revokedApiKeys`: the keys the change revoked, named so the owner knows which services to set up again. */
export function passwordChanged(
  to: string,
  resetUrl: string,
  revokedApiKeys: readonly { name: string; prefix: string }[] = [],
): MailMessage {
  const keys = revokedApiKeys.length
    ? {
        text: `Your API keys were revoked too, so services using them stop working until you give them new keys:\n${revokedApiKeys.map((key) => `- ${key.name} (${key.prefix}…)\n`).join("")}\n`,
        html: [
          `<p>Your API keys were revoked too, so services using them stop working until you give them new keys:</p>`,
          `<ul>${revokedApiKeys.map((key) => `<li>${escape(key.name)} (<code>${escape(key.prefix)}…</code>)</li>`).join("")}</ul>`,
        ],
      }
    : { text: "", html: [] };
  return {
    to,
    subject: "Your Notebox password was changed",
    text: `The password of your Notebox account was just changed and every other session was signed out.\n\n${keys.text}If this was not you, reset your password now: ${resetUrl}\n`,
    html: layout("Your password was changed", [
      `<p>The password of your Notebox account was just changed and every other session was signed out.</p>`,
      ...keys.html,
      `<p>If this was not you, <a href="${escape(resetUrl)}">reset your password now</a>.</p>`,
    ]),
  };
}

/** What changed in an account's two-factor sign-in, for the notice sent to its owner. */
export type SecurityChange =
  "two_factor_on" | "two_factor_off" | "recovery_codes_regenerated" | "passkey_added" | "passkey_removed";

const securityChanges: Record<SecurityChange, { subject: string; sentence: string }> = {
  two_factor_on: {
    subject: "Two-factor sign-in is on for your Notebox account",
    sentence: "Two-factor sign-in was just turned on: signing in now asks for a code from your authenticator app.",
  },
  two_factor_off: {
    subject: "Two-factor sign-in was turned off on your Notebox account",
    sentence: "Two-factor sign-in was just turned off: signing in now needs only your password.",
  },
  recovery_codes_regenerated: {
    subject: "New recovery codes for your Notebox account",
    sentence: "New recovery codes were just made for your account; the earlier ones no longer work.",
  },
  passkey_added: {
    subject: "A passkey was added to your Notebox account",
    sentence: "A new passkey was just added to your account: it can sign in without your password.",
  },
  passkey_removed: {
    subject: "A passkey was removed from your Notebox account",
    sentence: "A passkey was just removed from your account: it can no longer sign in.",
  },
};

export function securityChanged(to: string, change: SecurityChange, resetUrl: string): MailMessage {
  const { subject, sentence } = securityChanges[change];
  return {
    to,
    subject,
    text: `${sentence}\n\nIf this was not you, reset your password now: ${resetUrl}\n`,
    html: layout(subject, [
      `<p>${escape(sentence)}</p>`,
      `<p>If this was not you, <a href="${escape(resetUrl)}">reset your password now</a>.</p>`,
    ]),
  };
}

export function invitation(to: string, link: string, role: "user" | "admin", days: number): MailMessage {
  const as = role === "admin" ? " as an administrator" : "";
  return {
    to,
    subject: "You are invited to Notebox",
    text: `You are invited to join Notebox${as}. To choose your username and password, open this link:\n\n${link}\n\nIt works once and expires in ${days} days. If you did not expect this, ignore this email.\n`,
    html: layout("You are invited to Notebox", [
      `<p>You are invited to join Notebox${escape(as)}. To choose your username and password, open this link:</p>`,
      `<p><a href="${escape(link)}">${escape(link)}</a></p>`,
      `<p>It works once and expires in ${days} days. If you did not expect this, ignore this email.</p>`,
    ]),
  };
}

/**
 * An account an administrator created: its link chooses the first password (a password-reset
 * link that lasts `days`). `invitedBy`: the administrator's username, when known.
 */
export function accountCreated(to: string, link: string, days: number, invitedBy?: string): MailMessage {
  const who = invitedBy ? `${invitedBy}, an administrator,` : "An administrator";
  const opening = `${who} created a Notebox account for you, with this email address. To choose your password, open this link:`;
  return {
    to,
    subject: "Your Notebox account is ready",
    text: `${opening}\n\n${link}\n\nIt works once and expires in ${days} days. Then sign in with this address and that password. If you did not expect this, ignore this email.\n`,
    html: layout("Your Notebox account is ready", [
      `<p>${escape(opening)}</p>`,
      `<p><a href="${escape(link)}">${escape(link)}</a></p>`,
      `<p>It works once and expires in ${days} days. Then sign in with this address and that password. If you did not expect this, ignore this email.</p>`,
    ]),
  };
}
