// Input fields shared by routers. Messages are written for the person filling the form.
import { PASSWORD_MAX, PASSWORD_MIN } from "@notebox/core";
import { z } from "zod";

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export const email = z
  .string({ error: "Enter your email address." })
  .trim()
  .min(1, { error: "Enter your email address." })
  .max(254, { error: "This email address is too long." })
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { error: "Enter a valid email address, like name@example.com." })
  // Letters of any script are fine (internationalised addresses); control, format and
  // pictographic characters are not part of any deliverable address.
  .refine((v) => !/[\p{C}\p{Extended_Pictographic}]/u.test(v), {
    error: "Enter a valid email address, like name@example.com.",
  });

/** Free text a person types to filter a list: bounded, no control characters. */
export const searchText = z
  .string()
  .max(200, { error: "Search for at most 200 characters." })
  .refine((v) => !CONTROL.test(v), { error: "Remove control characters from the search." });

export const username = z
  .string({ error: "Choose a username." })
  .trim()
  .min(3, { error: "Use at least 3 characters." })
  .max(32, { error: "Use at most 32 characters." })
  .regex(/^[\p{L}\p{N}_.-]+$/u, { error: "Use only letters, digits, dots, dashes and underscores." });

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

export const token = z
  .string({ error: "This reset link is not valid." })
  .regex(/^[a-z2-7]{32}$/, { error: "This reset link is not valid. Ask for a new one." });

export const sessionId = z.string().regex(/^[0-9a-f]{64}$/, { error: "No such session." });
