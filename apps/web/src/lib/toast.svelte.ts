// One short message at the bottom of the screen that outlives a page change ("Note moved to
// trash. Undo"), shown by the layout's <Toast />.

export interface ToastAction {
  label: string;
  run: () => Promise<void>;
}

export interface ToastMessage {
  id: number;
  text: string;
  action: ToastAction | null;
  /** How long it stays, not counting the time the pointer or keyboard focus is on it. */
  durationMs: number;
  /** Move keyboard focus to the action, for a toast that answers what the person just did. */
  focusAction: boolean;
}

class Toasts {
  current = $state<ToastMessage | null>(null);
  #next = 1;

  show(
    text: string,
    { action = null, durationMs = 8000, focusAction = false }: Partial<Omit<ToastMessage, "id" | "text">> = {},
  ): void {
    this.current = { id: this.#next++, text, action, durationMs, focusAction };
  }

  dismiss(id?: number): void {
    if (id === undefined || this.current?.id === id) this.current = null;
  }
}

export const toasts = new Toasts();
