// See https://svelte.dev/docs/kit/types#app.d.ts for what these interfaces are for.
declare global {
  namespace App {
    interface PageState {
      /** When a verification code was last mailed (ms since epoch), so /verify can hold the resend button. */
      codeSentAt?: number;
    }
  }
}

export {};
