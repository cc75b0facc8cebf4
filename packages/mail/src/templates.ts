import type { MailMessage } from "./mailer";

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function layout(title: string, paragraphs: string[]): string {
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2937">
<h1 style="font-size:20px">${escape(title)}</h1>
${paragraphs.join("\n")}
<p style="color:#6b7280;font-size:13px">Notebox</p></body></html>`;
}

export function verificationCode(to: string, code: string, minutes: number): MailMessage {
  return {
    to,
    subject: `Your Notebox code: ${code}`,
    text: `Your Notebox verification code is ${code}\n\nIt expires in ${minutes} minutes. If you did not try to sign up, ignore this email.\n`,
    html: layout("Confirm your email", [
      `<p>Your Notebox verification code is</p>`,
      `<p style="font-size:28px;letter-spacing:6px;font-weight:bold">${code}</p>`,
      `<p>It expires in ${minutes} minutes. If you did not try to sign up, ignore this email.</p>`,
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

export function passwordChanged(to: string, resetUrl: string): MailMessage {
  return {
    to,
    subject: "Your Notebox password was changed",
    text: `The password of your Notebox account was just changed and every other session was signed out.\n\nIf this was not you, reset your password now: ${resetUrl}\n`,
    html: layout("Your password was changed", [
      `<p>The password of your Notebox account was just changed and every other session was signed out.</p>`,
      `<p>If this was not you, <a href="${escape(resetUrl)}">reset your password now</a>.</p>`,
    ]),
  };
}
