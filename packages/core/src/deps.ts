import type { Config } from "@notebox/config";
import type { Database } from "@notebox/db";
import type { Mailer } from "@notebox/mail";
import type { Storage } from "@notebox/storage";
import type { Logger } from "pino";
import type { Cache } from "./cache";
import type { Limits } from "./limits";
import type { PasswordHasher } from "./passwords";

/** What every core function may use; built once by the server's composition root. */
export interface CoreDeps {
  config: Config;
  db: Database;
  mailer: Mailer;
  storage: Storage;
  passwords: PasswordHasher;
  limits: Limits;
  cache: Cache;
  logger: Logger;
  /** False only in a benchmark measuring edits without their history (bench/revisions). */
  revisions?: boolean;
}

/**
 * The deps of one request's work: the same, except that what it logs (core's lines, the mail sent
 * on its behalf, its errors) carries the request's id. Handed down explicitly rather than through
 * an AsyncLocalStorage, whose promise hooks, once on, run for every promise of the process: 13%
 * of notes.get's throughput (bench/list). The request's logger is made only if something logs.
 */
export function requestDeps(deps: CoreDeps, requestId: string): CoreDeps {
  let logger: Logger | undefined;
  let mailer: Mailer | undefined;
  return {
    ...deps,
    get logger() {
      return (logger ??= deps.logger.child({ requestId }));
    },
    get mailer() {
      return (mailer ??= deps.mailer.withLogger(this.logger));
    },
  };
}

/** Who is asking, for throttling and the session list. Built by requestMeta(). */
export interface RequestMeta {
  /** The client's address, as the audit log and the session list show it. */
  ip: string;
  /** What per-address rate limits count under: the IPv4 address, or the IPv6 /64. */
  ipKey: string;
  userAgent: string | null;
}
