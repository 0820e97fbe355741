/**
 * The closed catalog of actions the audit log records (docs/reference/audit-log.md). A new
 * kind of action is a new entry here and a row in the reference; codes are never renamed or
 * reused, because entries already written name them and their hashes cover the name.
 */
export const AUDIT_ACTIONS = {
  "change.created": "A change request was created (subject: the change; content: its proposal).",
  "change.edited":
    "The maker edited a change request's proposal; approvals given before it are void (details: the edits).",
  "change.submitted": "The maker submitted a change request for review.",
  "change.approved": "A checker approved a change request, bound to its content hash.",
  "change.rejected": "A checker rejected a change request (reason: why).",
  "change.force_requested":
    "The first of the two administrators a force needs asked to force a change request past one gate (reason: why; details: the gate).",
  "change.forced":
    "Administrators forced a change request past one gate (reason: why; details: the gate).",
  "change.rollout_started": "The staged rollout of an approved change began.",
  "change.stage_advanced": "A staged rollout moved to its next stage (details: the stage).",
  "change.aborted": "A change request or its rollout was stopped before it became active.",
  "change.activated": "A change became the active version for all traffic.",
  "change.rolled_back": "An active change was replaced by the version before it.",
  "campaign.paused": "A campaign stopped granting subsidies until resumed.",
  "campaign.resumed": "A paused campaign granted subsidies again.",
  "budget.lowered": "A budget or cap was lowered (details: before and after, minor units).",
  "kill.set": "A kill switch was set: what it names grants nothing.",
  "kill.cleared": "A kill switch was cleared.",
  "ledger.funded": "Money was put into a budget (details: account and amount in minor units).",
  "breaker.acknowledged":
    "An on-call engineer acknowledged a tripped breaker (subject: the breaker; details: from, to).",
  "breaker.reset":
    "An on-call engineer re-armed an acknowledged breaker (subject: the breaker; details: from, to).",
  "incident.opened":
    "An incident was opened by a breaker's trip or by a person (subject: the incident; details: opener, severity).",
  "incident.updated":
    "An incident's timeline gained an entry, or its impact figures or blame grew without raising its severity.",
  "incident.severity_raised":
    "An incident's severity rose, by reassessment or by a person (reason: why, when a person; details: from).",
  "incident.acknowledged": "An on-call engineer acknowledged an incident.",
  "incident.mitigated": "An incident's money stopped flowing (reason: how).",
  "incident.remediated":
    "An incident's remediation decision was recorded: absorb the cost (details: reservations released, amount absorbed).",
  "incident.resolved": "An incident was resolved and closed (reason: why).",
  "webhook.endpoint_added":
    "A webhook endpoint was configured (subject: the endpoint; details: its URL's origin, event types, enabled; never its secret).",
  "webhook.endpoint_removed":
    "A webhook endpoint was removed; its pending deliveries are dead (details: its URL's origin).",
  "webhook.endpoint_enabled": "A disabled webhook endpoint was enabled again.",
  "webhook.endpoint_disabled":
    "A webhook endpoint was disabled: it gets no new deliveries and its pending ones wait.",
  "token.created":
    "An API token was issued (subject: the token's id; details: its name, principal and roles; never its secret or the secret's hash).",
  "token.revoked": "An API token was revoked for good (reason: why; details: its principal).",
} as const satisfies Record<string, string>;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === "string" && Object.hasOwn(AUDIT_ACTIONS, value);
}
