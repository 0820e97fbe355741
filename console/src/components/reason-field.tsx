/**
 * The written reason a confirmed action carries (force, rollback, kill, pause, an incident's
 * moves): a labelled text area, and what is wrong with the reason beside it once something is
 * typed — the page decides what "wrong" is and keeps its buttons disabled until it is right.
 */
export function ReasonField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  /** Why the reason cannot be sent yet; undefined when it can. */
  problem: string | undefined;
  disabled?: boolean;
}) {
  const shown = props.value !== "" && props.problem !== undefined;
  const problemId = `${props.id}-problem`;
  return (
    <div class="reject">
      <label for={props.id}>{props.label}</label>
      <textarea
        id={props.id}
        rows={2}
        value={props.value}
        disabled={props.disabled}
        onInput={(event) => props.onInput((event.target as HTMLTextAreaElement).value)}
        aria-invalid={shown ? true : undefined}
        aria-describedby={shown ? problemId : undefined}
      />
      {shown ? (
        <p id={problemId} class="field-problem">
          {props.problem}
        </p>
      ) : null}
    </div>
  );
}
