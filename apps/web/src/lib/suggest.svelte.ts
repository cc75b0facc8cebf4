// The state of an autocomplete list under a text field (a combobox, in ARIA's words): the
// options, which one is active, and the keys that move through them and take one.

export class Suggestions {
  options = $state<string[]>([]);
  /** The option Enter or Tab takes; -1 for none. */
  active = $state(-1);
  readonly id: string;

  constructor(id: string) {
    this.id = id;
  }

  get open(): boolean {
    return this.options.length > 0;
  }

  optionId(index: number): string {
    return `${this.id}-option-${index}`;
  }

  /** The active option's id, for the field's aria-activedescendant. */
  get activeId(): string | undefined {
    return this.open && this.active >= 0 ? this.optionId(this.active) : undefined;
  }

  show(options: string[]): void {
    this.options = options;
    this.active = options.length ? 0 : -1;
  }

  close(): void {
    this.options = [];
    this.active = -1;
  }

  /**
   * Handles the field's keys while the list is open: arrows move, Enter and Tab take the active
   * option, Escape closes the list. True when the key was taken (and its default prevented).
   */
  keydown(event: KeyboardEvent, take: (option: string) => void): boolean {
    if (!this.open || event.altKey || event.ctrlKey || event.metaKey) return false;
    const count = this.options.length;
    switch (event.key) {
      case "ArrowDown":
        this.active = (this.active + 1) % count;
        break;
      case "ArrowUp":
        this.active = (this.active - 1 + count) % count;
        break;
      case "Home":
      case "End":
        return false;
      case "Enter":
      case "Tab": {
        const option = this.options[this.active];
        if (option === undefined || event.shiftKey) return false;
        take(option);
        this.close();
        break;
      }
      case "Escape":
        this.close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }
}
