/**
 * What the API answered an action, beside the action: "done" (or what `done` says of the result),
 * or the refusal; announced politely when done, at once when refused.
 */
import type { ComponentChildren } from "preact";
import type { ActionAnswer } from "../api.ts";

export function AnswerLine<T>({
  answer,
  testId,
  done,
}: {
  answer: ActionAnswer<T> | undefined;
  testId: string;
  done?: (value: T, what: string) => ComponentChildren;
}) {
  if (answer === undefined) return null;
  return (
    <p
      class={`state ${answer.ok ? "" : "state-error"}`}
      role={answer.ok ? "status" : "alert"}
      data-testid={testId}
    >
      {answer.ok
        ? done === undefined
          ? `${answer.what}: done.`
          : done(answer.value, answer.what)
        : `${answer.what}: ${answer.text}`}
    </p>
  );
}
