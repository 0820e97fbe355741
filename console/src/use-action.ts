/**
 * A panel's control-plane actions (POST, with `postAction`'s retry): one at a time, busy while
 * one is on its way so the panel disables every button that sends, and the API's answer kept for
 * the panel to show beside them — what the action returned, or its refusal in one sentence.
 */
import { useState } from "preact/hooks";
import { type ActionAnswer, type ActionRequest, type ApiClient, sendActions } from "./api.ts";

export interface Action<T> {
  readonly busy: boolean;
  /** The last answer, until the next action starts. */
  readonly answer: ActionAnswer<T> | undefined;
  run(what: string, path: string, body?: unknown): Promise<ActionAnswer<T>>;
  /** Several actions, busy from the first request to the last answer; `onAnswer` sees each. */
  runEach(
    requests: readonly ActionRequest[],
    onAnswer?: (answer: ActionAnswer<T>) => void,
  ): Promise<ActionAnswer<T>[]>;
}

export function useAction<T = unknown>(api: ApiClient): Action<T> {
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<ActionAnswer<T> | undefined>(undefined);
  const runEach = async (
    requests: readonly ActionRequest[],
    onAnswer?: (answer: ActionAnswer<T>) => void,
  ): Promise<ActionAnswer<T>[]> => {
    setBusy(true);
    setAnswer(undefined);
    try {
      return await sendActions<T>(api, requests, (answered) => {
        setAnswer(answered);
        onAnswer?.(answered);
      });
    } finally {
      setBusy(false);
    }
  };
  return {
    busy,
    answer,
    runEach,
    run: async (what, path, body) => (await runEach([{ what, path, body }]))[0]!,
  };
}
