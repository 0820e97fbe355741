/**
 * A button that acts only after a second, explicit confirmation: money-moving actions (force,
 * rollout, rollback, kill) are one click plus one confirmation, keyboard-reachable, no modal.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

export function ConfirmButton(props: {
  label: string;
  confirmText: ComponentChildren;
  onConfirm: () => void;
  disabled?: boolean;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        class={props.danger ? "danger" : ""}
        disabled={props.disabled}
        onClick={() => setAsking(true)}
      >
        {props.label}
      </button>
    );
  }
  return (
    <fieldset class="confirm">
      <legend class="visually-hidden">Confirm: {props.label}</legend>
      <span>{props.confirmText}</span>
      <button
        type="button"
        ref={confirmRef}
        class={props.danger ? "danger" : ""}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Confirm {props.label.toLowerCase()}
      </button>
      <button type="button" class="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </fieldset>
  );
}
