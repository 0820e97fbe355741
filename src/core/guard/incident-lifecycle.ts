/**
 * The life of an incident as a transition table (STYLE rule 7): open → mitigated → resolved.
 * `open`: money may still be flowing. `mitigated`: the bleeding stopped (the responsible versions
 * are rolled back or killed and the evaluators confirmed it). `resolved`: the remediation decision
 * is recorded and the incident is closed, finally: later findings open a new incident.
 *
 * Acknowledging is a flag, not a state: an on-call engineer says "I have it" whether the money is
 * still flowing or already stopped, and acknowledging must never move an incident backwards or
 * hide that it is still open. Guards beyond the state (acknowledged once, remediation before
 * resolution, severity only rising) are checked by the actions in incident.ts.
 */
import { type IncidentResult, refuseIncident } from "./incident-codes.ts";

export const INCIDENT_STATES = ["open", "mitigated", "resolved"] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

export const INCIDENT_ACTIONS = [
  "add_timeline",
  "reassess",
  "raise_severity",
  "acknowledge",
  "mitigate",
  "record_remediation",
  "resolve",
] as const;
export type IncidentAction = (typeof INCIDENT_ACTIONS)[number];

/** For each action: the states it may start from, and the state it leads to. */
export const INCIDENT_TRANSITIONS: Readonly<
  Record<
    IncidentAction,
    { readonly from: readonly IncidentState[]; readonly to: IncidentState | "same" }
  >
> = {
  add_timeline: { from: ["open", "mitigated"], to: "same" },
  // Late commits and slow evaluators still add money after mitigation: figures keep growing.
  reassess: { from: ["open", "mitigated"], to: "same" },
  raise_severity: { from: ["open", "mitigated"], to: "same" },
  acknowledge: { from: ["open", "mitigated"], to: "same" },
  mitigate: { from: ["open"], to: "mitigated" },
  // Releasing uncommitted reservations may start while money still flows.
  record_remediation: { from: ["open", "mitigated"], to: "same" },
  // Only once the money stopped: an open incident is never closed by resolving it.
  resolve: { from: ["mitigated"], to: "resolved" },
};

/** The state after `action` from `state`, or the refusal. */
export function nextIncidentState(
  state: IncidentState,
  action: IncidentAction,
): IncidentResult<{ state: IncidentState }> {
  const transition = INCIDENT_TRANSITIONS[action];
  if (!transition.from.includes(state)) {
    return refuseIncident(
      "incident.illegal_transition",
      `a ${state} incident cannot ${action.replaceAll("_", " ")} (allowed from ${transition.from.join(", ")})`,
    );
  }
  return { ok: true, state: transition.to === "same" ? state : transition.to };
}
