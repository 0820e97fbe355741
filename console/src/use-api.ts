/** Loading, error and data states of one API read, optionally polled. */
import { useEffect, useRef, useState } from "preact/hooks";
import type { ApiClient } from "./api.ts";

export type Loaded<T> =
  | { readonly state: "loading" }
  | { readonly state: "error"; readonly error: unknown }
  | { readonly state: "ready"; readonly data: T; readonly atMs: number };

/**
 * Runs `read` now and, with `pollMs`, again that long after each answer; keeps the last data
 * while a later read fails (`error` only before the first answer; `lastError` after).
 */
export function useApi<T>(
  api: ApiClient,
  read: (api: ApiClient) => Promise<T>,
  deps: readonly unknown[],
  pollMs?: number,
): { loaded: Loaded<T>; lastError: unknown; reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  const [lastError, setLastError] = useState<unknown>(undefined);
  const [generation, setGeneration] = useState(0);
  const readRef = useRef(read);
  readRef.current = read;
  const depsKey = JSON.stringify(deps);
  const shownKey = useRef<string | undefined>(undefined);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A reload keeps what is shown (and the state of the forms on it) until the answer comes;
    // other inputs are another read, so it starts from loading.
    let hasData = shownKey.current === depsKey;
    if (!hasData) setLoaded({ state: "loading" });
    const run = async () => {
      try {
        const data = await readRef.current(api);
        if (stopped) return;
        hasData = true;
        shownKey.current = depsKey;
        setLoaded({ state: "ready", data, atMs: Date.now() });
        setLastError(undefined);
      } catch (error) {
        if (stopped) return;
        if (hasData) setLastError(error);
        else setLoaded({ state: "error", error });
      }
      if (!stopped && pollMs !== undefined) timer = setTimeout(run, pollMs);
    };
    void run();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, generation, pollMs, depsKey]);
  return { loaded, lastError, reload: () => setGeneration((value) => value + 1) };
}
