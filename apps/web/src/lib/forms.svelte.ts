// The state every form shares: pending flag, per-field messages, the form-level problem, and
// moving focus to what needs fixing after a failed submit.
import { tick } from "svelte";
import { formatWait } from "./format";
import { toProblem, type ApiProblem } from "./trpc";

export type FieldErrors<F extends string> = Partial<Record<F, string[]>>;

/** Client-side checks: a message per field that is not acceptable yet. */
export type Check<F extends string> = () => Partial<Record<F, string | null | undefined>>;

export class FormState<F extends string> {
  pending = $state(false);
  fieldErrors = $state<FieldErrors<F>>({});
  /** Shown in the form's alert: anything that does not belong to one field. */
  problem = $state<ApiProblem | null>(null);

  readonly #fields: readonly F[];

  constructor(fields: readonly F[]) {
    this.#fields = fields;
  }

  clear(): void {
    this.fieldErrors = {};
    this.problem = null;
  }

  /**
   * Checks, then runs `action`; a failure lands beside its fields or in the form alert and focus
   * moves to the first invalid field, else to the alert. Resolves true when `action` succeeded.
   */
  async submit(form: HTMLFormElement, action: () => Promise<void>, check?: Check<F>): Promise<boolean> {
    if (this.pending) return false;
    this.clear();
    const local: FieldErrors<F> = {};
    for (const [field, message] of Object.entries(check?.() ?? {}) as [F, string | null | undefined][]) {
      if (message) local[field] = [message];
    }
    if (Object.keys(local).length) {
      this.fieldErrors = local;
      await focusFirstError(form);
      return false;
    }

    this.pending = true;
    try {
      await action();
      return true;
    } catch (error) {
      this.fail(toProblem(error));
    } finally {
      this.pending = false;
    }
    await focusFirstError(form);
    return false;
  }

  /** Places a server problem: messages for this form's fields beside them, the rest in the alert. */
  fail(problem: ApiProblem): void {
    const placed: FieldErrors<F> = {};
    const elsewhere: string[] = [];
    for (const [key, messages] of Object.entries(problem.fieldErrors)) {
      if ((this.#fields as readonly string[]).includes(key)) placed[key as F] = messages;
      else elsewhere.push(...messages);
    }
    this.fieldErrors = placed;
    if (elsewhere.length) this.problem = { ...problem, message: elsewhere.join(" ") };
    else if (!Object.keys(placed).length) this.problem = problem;
  }
}

/**
 * Focuses the first field marked invalid in `form` (in reading order; an element marked
 * data-focus-on-error counts as one), else the form's alert.
 */
export async function focusFirstError(form: HTMLFormElement): Promise<void> {
  await tick();
  const target =
    form.querySelector<HTMLElement>('[aria-invalid="true"], [data-focus-on-error]') ??
    form.querySelector<HTMLElement>("[data-form-error]");
  target?.focus();
}

/** What the server accepts as a new password, said beside the field. */
export const NEW_PASSWORD_HINT = "8–128 characters; avoid common passwords";

/**
 * The check a new password gets before it is sent: `missing` when empty, else too short or fine.
 * The server checks the rest (the upper bound, common passwords).
 */
export function checkNewPassword(password: string, missing: string): string | null {
  if (!password) return missing;
  return password.length < 8 ? "Use at least 8 characters." : null;
}

/** The problem's message, plus how long to wait when the server said so. */
export function problemText(problem: ApiProblem): string {
  return problem.retryAfterSeconds
    ? `${problem.message} You can try again in ${formatWait(problem.retryAfterSeconds)}.`
    : problem.message;
}
