// Changes that weaken an account's sign-in (removing a passkey) need a fresh proof that the person
// at the keyboard owns it: a sign-in of this very session within the last 10 minutes, or the
// password or a code from the authenticator app given with the request.
import type { UserRow } from "@notebox/db";
import type { CoreDeps } from "../deps";
import { AppError } from "../errors";
import { checkSecondFactor } from "./two-factor";

export const FRESH_PROOF_MS = 10 * 60 * 1000;

export interface Proof {
  /** The session the request came with: fresh if it signed in within FRESH_PROOF_MS. */
  sessionId: string | null;
  password?: string;
  code?: string;
}

/** Throws unless `proof` is fresh. A code given is used up (it cannot be replayed). */
export async function requireFreshProof(deps: CoreDeps, user: UserRow, proof: Proof): Promise<void> {
  if (proof.code !== undefined && user.totpEnabledAt) {
    await deps.limits.consume("secondFactorPerAccount", user.id);
    await deps.db.transaction(async (transaction) => {
      const locked = await deps.db.models.User.findByPk(user.id, { transaction, lock: transaction.LOCK.UPDATE });
      if (!locked?.totpEnabledAt) throw AppError.field("code", "Two-factor sign-in is off on this account.");
      await checkSecondFactor(deps, locked, { code: proof.code! }, transaction);
    });
    return;
  }
  if (proof.password !== undefined) {
    await deps.limits.consume("secondFactorPerAccount", user.id);
    const ok = await deps.passwords.withTurn({ key: user.id, known: true }, (check) =>
      check.verify(user.passwordHash, proof.password!),
    );
    if (!ok) throw AppError.field("password", "That is not your current password.");
    return;
  }
  if (proof.sessionId) {
    const session = await deps.db.models.Session.findByPk(proof.sessionId, { attributes: ["createdAt"] });
    if (session && Date.now() - session.createdAt.getTime() < FRESH_PROOF_MS) return;
  }
  throw new AppError("FORBIDDEN", "Confirm it is you: enter your password or a code from your app.", {
    reason: "fresh_proof_required",
  });
}
