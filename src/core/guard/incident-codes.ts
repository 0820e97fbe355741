/**
 * Result codes of incidents: a closed catalog, documented in docs/reference/incidents.md (a test
 * keeps it complete). Every refusal is one of these values, never an exception. Codes are never
 * renamed: scripts and the console match on them.
 */
export const INCIDENT_CODES = {
  "incident.not_found": "No incident has this id.",
  "incident.illegal_transition":
    "The incident's state does not allow this action (a resolved incident is final).",
  "incident.concurrent_update":
    "Someone acted on the same incident at the same time; read it again.",
  "incident.title_invalid": "The title is empty or longer than 200 characters.",
  "incident.reason_required":
    "The action needs a written reason of at least 10 characters and at most 2,000 UTF-8 bytes, without NUL or lone surrogates (opening by hand, raising, mitigating, remediating, resolving).",
  "incident.actor_invalid":
    "Who acts is not a name of letters, digits and `._:@+-` of at most 128 characters.",
  "incident.time_invalid": "An instant is not a whole, non-negative number of milliseconds.",
  "incident.impact_invalid":
    "An impact figure is not a safe, non-negative integer (money in minor units, shares in bps up to 10,000).",
  "incident.blame_invalid":
    "A blamed id is empty, longer than 128 characters or holds spaces, or a campaign version is not a positive integer.",
  "incident.too_many_blamed":
    "The incident would blame more changes, campaign versions, templates or funders than its limits.",
  "incident.timeline_full":
    "The timeline holds its maximum of 200 recorded entries; the incident's own entries (acknowledged, mitigated, …) still fit.",
  "incident.timeline_kind_not_recordable":
    "This kind of timeline entry is written by the incident's own actions (opened, acknowledged, severity raised, mitigated, remediation, resolved), never added by hand.",
  "incident.details_invalid":
    "Timeline details are not a flat object of strings, safe integers, booleans and nulls within the limits, or lack a key the kind requires.",
  "incident.severity_not_higher":
    "Severity only rises while an incident is open: a person may raise it, never lower it or set it to what it is.",
  "incident.policy_invalid":
    "The severity policy is malformed: each measure needs four thresholds, non-negative integers, not rising from P0 to P3.",
  "incident.already_acknowledged": "Someone already acknowledged this incident.",
  "incident.amount_invalid":
    "A remediation figure (reservations released, amount released, cost absorbed) is not a safe, non-negative integer.",
  "incident.remediation_recorded":
    "The incident already has its remediation decision; correct it with a note, not a second decision.",
  "incident.remediation_missing":
    "An incident is resolved only after its remediation decision is recorded.",
} as const;

export type IncidentCode = keyof typeof INCIDENT_CODES;

/** A refusal with its code and a message for people. */
export interface IncidentRefusal {
  readonly ok: false;
  readonly code: IncidentCode;
  readonly message: string;
}

export type IncidentResult<T> = ({ readonly ok: true } & T) | IncidentRefusal;

export function refuseIncident(code: IncidentCode, message: string): IncidentRefusal {
  return { ok: false, code, message };
}
