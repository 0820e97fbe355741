/**
 * The life of a change request as a transition table (STYLE rule 7). Each action is allowed in
 * the states the table names and leads to the state it says; anything else is
 * `illegal_transition`. Guards that depend on more than the state (enough approvals, lint
 * clean, dwell time) are checked by the operations in change-request.ts before the move.
 */
import { type ChangeResult, refuse } from "./change-codes.ts";

export const CHANGE_STATES = [
  "draft",
  "in_review",
  "approved",
  "rolling_out",
  "active",
  "rejected",
  "rolled_back",
] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

export const CHANGE_ACTIONS = [
  "edit",
  "submit",
  "record_approval",
  "approve",
  "reject",
  "request_force",
  "start_rollout",
  "advance_stage",
  "complete_rollout",
  "abort_rollout",
  "roll_back",
] as const;
export type ChangeAction = (typeof CHANGE_ACTIONS)[number];

/** For each action: the states it may start from, and the state it leads to. */
export const CHANGE_TRANSITIONS: Readonly<
  Record<ChangeAction, { readonly from: readonly ChangeState[]; readonly to: ChangeState | "same" }>
> = {
  // Any edit voids approvals and sends the change back to its author's desk.
  edit: { from: ["draft", "in_review", "approved"], to: "draft" },
  submit: { from: ["draft"], to: "in_review" },
  record_approval: { from: ["in_review"], to: "same" },
  approve: { from: ["in_review"], to: "approved" },
  reject: { from: ["in_review", "approved"], to: "rejected" },
  // A forced lint gate lets a draft be submitted; a forced approval gate approves it.
  request_force: { from: ["draft", "in_review"], to: "same" },
  start_rollout: { from: ["approved"], to: "rolling_out" },
  advance_stage: { from: ["rolling_out"], to: "same" },
  complete_rollout: { from: ["rolling_out"], to: "active" },
  // Aborting a rollout rolls back what it had started: the prior content is in force again.
  abort_rollout: { from: ["rolling_out"], to: "rolled_back" },
  roll_back: { from: ["rolling_out", "active"], to: "rolled_back" },
};

/** The state after `action` from `state`, or the refusal. */
export function nextChangeState(
  state: ChangeState,
  action: ChangeAction,
): ChangeResult<{ state: ChangeState }> {
  const transition = CHANGE_TRANSITIONS[action];
  if (!transition.from.includes(state)) {
    return refuse(
      "illegal_transition",
      `a change in state ${state} cannot ${action.replaceAll("_", " ")} (allowed from ${transition.from.join(", ")})`,
    );
  }
  return { ok: true, state: transition.to === "same" ? state : transition.to };
}
