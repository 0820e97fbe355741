/** The states every page shares: loading, failed, empty. Announced to screen readers. */
import type { ComponentChildren } from "preact";
import { describeFailure } from "../api.ts";

export function Loading({ what }: { what: string }) {
  return (
    <p class="state state-loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function Failed({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="state state-error" role="alert">
      <p>{describeFailure(error)}</p>
      {retry === undefined ? null : (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return (
    <p class="state state-empty" role="status">
      {children}
    </p>
  );
}
