// A software WebAuthn authenticator for the passkey tests: it holds discoverable ES256 (P-256)
// credentials per relying party, the way a platform authenticator does, and answers the JSON
// options the server gives with the JSON responses a browser sends. Written out on node:crypto
// and a small CBOR encoder, independently of the server's library. Each call can be told to
// misbehave (another origin or relying party, no user verification, a bad signature, a chosen
// counter, someone else's user handle) so the tests can check the server refuses it.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

// --- CBOR (RFC 8949), only what WebAuthn needs: integers, byte and text strings, arrays, maps. ---

export type Cbor = number | Uint8Array | string | Cbor[] | Map<Cbor, Cbor>;

function head(major: number, value: number): Buffer {
  if (value < 24) return Buffer.from([(major << 5) | value]);
  if (value < 0x100) return Buffer.from([(major << 5) | 24, value]);
  if (value < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(value, 1);
    return b;
  }
  if (value < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(value, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = (major << 5) | 27;
  b.writeBigUInt64BE(BigInt(value), 1);
  return b;
}

/** Encodes `value` with the shortest heads (as CBOR's preferred serialization does); maps keep their order. */
export function cborEncode(value: Cbor): Buffer {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`CBOR: only integers are supported, not ${value}`);
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === "string") {
    const bytes = Buffer.from(value, "utf8");
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cborEncode)]);
  const parts = [head(5, value.size)];
  for (const [k, v] of value) parts.push(cborEncode(k), cborEncode(v));
  return Buffer.concat(parts);
}

// --- The authenticator. ---

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_BE = 0x08;
export const FLAG_BS = 0x10;
export const FLAG_AT = 0x40;

/** What the server sends for navigator.credentials.create (the fields this authenticator reads). */
export interface CreationOptionsJSON {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string; displayName: string };
  pubKeyCredParams: { type: string; alg: number }[];
  excludeCredentials?: { id: string; type: string; transports?: string[] }[];
  authenticatorSelection?: { residentKey?: string; userVerification?: string };
}

/** What the server sends for navigator.credentials.get. */
export interface RequestOptionsJSON {
  challenge: string;
  rpId?: string;
  allowCredentials?: { id: string; type: string }[];
  userVerification?: string;
}

export interface RegistrationResponseJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: {
    clientDataJSON: string;
    attestationObject: string;
    authenticatorData: string;
    transports: string[];
    publicKeyAlgorithm: number;
    publicKey: string;
  };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: "platform";
}

export interface AuthenticationResponseJSON {
  id: string;
  rawId: string;
  type: "public-key";
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle?: string };
  clientExtensionResults: Record<string, never>;
  authenticatorAttachment: "platform";
}

/** A discoverable credential as the authenticator keeps it. */
export interface SoftCredential {
  id: Buffer;
  rpId: string;
  /** The user handle the relying party gave (base64url, as in the options). */
  userHandle: string;
  userName: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  signCount: number;
  /** Synced (backup eligible and backed up), as a password manager's passkey is. */
  synced: boolean;
}

/** Ways to make a ceremony go wrong; the default is a well-behaved authenticator in a browser. */
export interface CeremonyTweaks {
  /** The origin the browser puts in clientDataJSON (default: the authenticator's origin). */
  origin?: string;
  /** The relying party whose hash goes into authenticatorData (default: the one in the options). */
  rpId?: string;
  /** Set the UV flag (default true). */
  userVerified?: boolean;
  /** Set the UP flag (default true). */
  userPresent?: boolean;
  /** The signature counter to report (and keep); default: the kept one plus one (0 on creation). */
  counter?: number;
  /** clientDataJSON's type (default webauthn.create / webauthn.get). */
  type?: string;
  /** Answer another challenge than the options' one. */
  challenge?: string;
}

export interface CreateTweaks extends CeremonyTweaks {
  /** Attest an existing credential again instead of making a new one (a cloned or buggy authenticator). */
  reuse?: SoftCredential;
  /** Ignore excludeCredentials (a broken client). */
  ignoreExclude?: boolean;
  /** Make a synced (backed-up) passkey. */
  synced?: boolean;
  /** Length of a new credential id (16 to 32 bytes by default, random). */
  credentialIdLength?: number;
}

export interface GetTweaks extends CeremonyTweaks {
  /** Which credential to use (default: the only one, or the newest, for the relying party). */
  credential?: SoftCredential;
  /** Signs other bytes than the ones sent: a well-formed signature that does not verify. */
  badSignature?: boolean;
  /** The user handle to report; null leaves it out (default: the credential's). */
  userHandle?: string | null;
}

/** The error a real authenticator's refusal surfaces as in the browser. */
export class AuthenticatorError extends Error {
  constructor(name: "InvalidStateError" | "NotAllowedError" | "NotSupportedError" | "SecurityError", message: string) {
    super(message);
    this.name = name;
  }
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];

  /** `origin`: the page the browser is on (the server's PUBLIC_URL origin). */
  constructor(readonly origin: string) {}

  /** navigator.credentials.create with the server's options: a new passkey's attestation. */
  create(options: CreationOptionsJSON, tweaks: CreateTweaks = {}): RegistrationResponseJSON {
    const rpId = options.rp.id ?? new URL(this.origin).hostname;
    this.checkRelyingParty(rpId, tweaks);
    if (!options.pubKeyCredParams.some((p) => p.type === "public-key" && p.alg === -7)) {
      throw new AuthenticatorError("NotSupportedError", "ES256 not among pubKeyCredParams");
    }
    if (!tweaks.ignoreExclude && !tweaks.reuse) {
      const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
      if (this.credentials.some((c) => c.rpId === rpId && excluded.has(b64u(c.id)))) {
        throw new AuthenticatorError("InvalidStateError", "The authenticator already holds a credential for this site");
      }
    }
    let credential = tweaks.reuse;
    if (!credential) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const idLength = tweaks.credentialIdLength ?? 16 + Math.floor(Math.random() * 17);
      credential = {
        id: randomBytes(idLength),
        rpId,
        userHandle: options.user.id,
        userName: options.user.name,
        privateKey,
        publicKey,
        signCount: 0,
        synced: tweaks.synced ?? false,
      };
      // Discoverable: a new passkey for the same account on this site replaces the old one.
      const same = this.credentials.findIndex((c) => c.rpId === rpId && c.userHandle === options.user.id);
      if (same >= 0) this.credentials.splice(same, 1);
      this.credentials.push(credential);
    }
    credential.signCount = tweaks.counter ?? (tweaks.reuse ? credential.signCount : 0);

    const clientDataJSON = this.clientData("webauthn.create", options.challenge, tweaks);
    const authData = Buffer.concat([
      this.authDataHead(tweaks.rpId ?? rpId, credential, FLAG_AT, tweaks),
      Buffer.alloc(16), // AAGUID: none
      u16(credential.id.length),
      credential.id,
      coseKey(credential.publicKey),
    ]);
    const attestationObject = cborEncode(
      new Map<Cbor, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        attestationObject: b64u(attestationObject),
        authenticatorData: b64u(authData),
        transports: ["hybrid", "internal"],
        publicKeyAlgorithm: -7,
        publicKey: b64u(credential.publicKey.export({ type: "spki", format: "der" })),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** navigator.credentials.get with the server's options: an assertion by a passkey held for the site. */
  get(options: RequestOptionsJSON, tweaks: GetTweaks = {}): AuthenticationResponseJSON {
    const rpId = options.rpId ?? new URL(this.origin).hostname;
    this.checkRelyingParty(rpId, tweaks);
    const allowed = new Set((options.allowCredentials ?? []).map((c) => c.id));
    const candidates = this.credentials.filter(
      (c) => c.rpId === rpId && (allowed.size === 0 || allowed.has(b64u(c.id))),
    );
    const credential = tweaks.credential ?? candidates[candidates.length - 1];
    if (!credential) throw new AuthenticatorError("NotAllowedError", "No passkey for this site");
    credential.signCount = tweaks.counter ?? credential.signCount + 1;

    const clientDataJSON = this.clientData("webauthn.get", options.challenge, tweaks);
    const authData = this.authDataHead(tweaks.rpId ?? rpId, credential, 0, tweaks);
    const signed = Buffer.concat([authData, sha256(clientDataJSON)]);
    // ECDSA with SHA-256; node gives the DER form WebAuthn uses.
    const signature = sign(
      "sha256",
      tweaks.badSignature ? Buffer.concat([signed, Buffer.from([0])]) : signed,
      credential.privateKey,
    );
    const userHandle = tweaks.userHandle === undefined ? credential.userHandle : tweaks.userHandle;
    return {
      id: b64u(credential.id),
      rawId: b64u(credential.id),
      type: "public-key",
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        ...(userHandle === null ? {} : { userHandle }),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }

  /** The credential this authenticator holds for `userHandle` (base64url) on `rpId`, if any. */
  credentialFor(userHandle: string, rpId = new URL(this.origin).hostname): SoftCredential | undefined {
    return this.credentials.find((c) => c.rpId === rpId && c.userHandle === userHandle);
  }

  /** A browser refuses a relying party id that is not the page's host or a parent domain of it. */
  private checkRelyingParty(rpId: string, tweaks: CeremonyTweaks) {
    if (tweaks.rpId !== undefined || tweaks.origin !== undefined) return; // deliberately wrong
    const host = new URL(this.origin).hostname;
    if (host !== rpId && !host.endsWith(`.${rpId}`)) {
      throw new AuthenticatorError("SecurityError", `rp id ${rpId} is not valid for ${this.origin}`);
    }
  }

  private clientData(type: string, challenge: string, tweaks: CeremonyTweaks): Buffer {
    return Buffer.from(
      JSON.stringify({
        type: tweaks.type ?? type,
        challenge: tweaks.challenge ?? challenge,
        origin: tweaks.origin ?? this.origin,
        crossOrigin: false,
      }),
    );
  }

  /** rpIdHash || flags || signCount. */
  private authDataHead(rpId: string, credential: SoftCredential, extraFlags: number, tweaks: CeremonyTweaks) {
    let flags = extraFlags;
    if (tweaks.userPresent ?? true) flags |= FLAG_UP;
    if (tweaks.userVerified ?? true) flags |= FLAG_UV;
    if (credential.synced) flags |= FLAG_BE | FLAG_BS;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(credential.signCount >>> 0);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** The COSE_Key of a P-256 public key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}. */
export function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: "jwk" });
  return cborEncode(
    new Map<Cbor, Cbor>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, "base64url")],
      [-3, Buffer.from(jwk.y!, "base64url")],
    ]),
  );
}

/** The user handle the server gives an account: its id's UTF-8 bytes, base64url. */
export const userHandleOf = (userId: string) => Buffer.from(userId, "utf8").toString("base64url");
