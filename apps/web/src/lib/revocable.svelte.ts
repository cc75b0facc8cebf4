// What a list of the account's credentials (signed-in devices, API keys) holds while the account
// page shows it: the items as last loaded, one action at a time, and what the last one led to.
import { toProblem, type ApiProblem } from "./trpc";

export interface RevocableListOptions<T> {
  fetch: () => Promise<{ items: T[] }>;
}

export class RevocableList<T extends { id: string }> {
  /** Null until the first answer. */
  items = $state<T[] | null>(null);
  problem = $state<ApiProblem | null>(null);
  notice = $state<string | null>(null);
  /** What an action is running for (an item's id, or a name like "others"); every button waits meanwhile. */
  busy = $state<string | null>(null);

  readonly #options: RevocableListOptions<T>;

  constructor(options: RevocableListOptions<T>) {
    this.#options = options;
  }

  failed(error: unknown): void {
    this.problem = toProblem(error);
  }

  async reload(): Promise<void> {
    try {
      this.items = (await this.#options.fetch()).items;
      this.problem = null;
    } catch (error) {
      this.failed(error);
    }
  }

  /**
   * Runs `action` as `busy`, after clearing the last message. When the server answers that the
   * item is not there, `gone` says what that means (it is usually the outcome that was wanted);
   * without it, that is a failure like any other.
   */
  async act(busy: string, action: () => Promise<void>, gone?: () => void): Promise<void> {
    this.busy = busy;
    this.notice = null;
    this.problem = null;
    try {
      await action();
    } catch (error) {
      if (gone && toProblem(error).code === "NOT_FOUND") gone();
      else this.failed(error);
    } finally {
      this.busy = null;
    }
  }
}
