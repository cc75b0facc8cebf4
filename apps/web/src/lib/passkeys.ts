// The browser half of passkeys: the WebAuthn calls through @simplewebauthn/browser, loaded only
// when a passkey is used, and what their failures mean to the person holding the device.
import type { RouterInputs, RouterOutputs } from "@notebox/api";
import type { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import type { ApiProblem } from "$lib/trpc";

type CreationOptions = Parameters<typeof startRegistration>[0]["optionsJSON"];
type RequestOptions = Parameters<typeof startAuthentication>[0]["optionsJSON"];

// The server's options are the library's own JSON, and its answers what the server's schema reads;
// tRPC's inferred types and the DOM's differ only in how optional extension fields are spelled.
type ServerCreationOptions = RouterOutputs["auth"]["passkeys"]["registerOptions"];
type ServerRequestOptions = RouterOutputs["auth"]["passkeys"]["loginOptions"];
type Registration = RouterInputs["auth"]["passkeys"]["register"]["response"];
type Assertion = RouterInputs["auth"]["passkeys"]["login"]["response"];

const browser = () => import("@simplewebauthn/browser");

/** Whether this browser can use passkeys at all (a secure page with WebAuthn). */
export function passkeysSupported(): boolean {
  return typeof window !== "undefined" && window.isSecureContext && typeof window.PublicKeyCredential === "function";
}

/** Asks the device to make a passkey for the options the server gave. */
export async function createPasskey(options: ServerCreationOptions): Promise<Registration> {
  const optionsJSON = options as unknown as CreationOptions;
  return (await (await browser()).startRegistration({ optionsJSON })) as Registration;
}

/** Asks the device for a passkey of this site to sign in with. */
export async function getPasskey(options: ServerRequestOptions): Promise<Assertion> {
  const optionsJSON = options as unknown as RequestOptions;
  return (await (await browser()).startAuthentication({ optionsJSON })) as Assertion;
}

const DEVICE_PROBLEMS: Record<string, string> = {
  NotAllowedError: "The passkey prompt was closed or timed out. Try again when you are ready.",
  ERROR_CEREMONY_ABORTED: "The passkey prompt was closed or timed out. Try again when you are ready.",
  InvalidStateError: "This device already holds a passkey for your account.",
  ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED: "This device already holds a passkey for your account.",
  SecurityError: "Passkeys work only on this site's own address (check the server's PUBLIC_URL).",
  NotSupportedError: "This device cannot make a passkey that signs in on its own.",
};

/**
 * A failure of the device's part as a problem for the form, or null when it is not the device's
 * (a server answer, which the caller shows as usual).
 */
export function passkeyProblem(error: unknown): ApiProblem | null {
  if (!(error instanceof Error)) return null;
  const message = DEVICE_PROBLEMS[(error as { code?: string }).code ?? ""] ?? DEVICE_PROBLEMS[error.name];
  if (!message) return null;
  return { message, fieldErrors: {}, reason: "passkey_device", retryAfterSeconds: null, code: null, httpStatus: null };
}
