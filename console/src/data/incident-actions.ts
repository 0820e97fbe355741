/**
 * What on-call may do to an incident from its page, and why not (the API's rules, read before a
 * click: docs/reference/incidents.md and core/guard/incident-lifecycle.ts): acknowledge once, add
 * a note, raise the severity (it never goes down), mitigate an open incident, record the
 * remediation once, resolve a mitigated incident whose remediation is recorded. Each needs the
 * operator role; a resolved incident takes no action. Pure.
 */

export const SEVERITIES = ["P0", "P1", "P2", "P3", "P4"] as const;
/** The incidents' reason bounds (core/guard/incident.ts INCIDENT_LIMITS). */
const INCIDENT_REASON_LENGTH_MIN = 10;

export type IncidentActionName =
  | "acknowledge"
  | "note"
  | "raise"
  | "mitigate"
  | "remediate"
  | "resolve";

export interface IncidentLike {
  readonly state: string;
  readonly severity: string;
  readonly acknowledged?: { readonly byId: string };
  readonly remediation?: { readonly decidedById: string };
}

export type ActionStance = { readonly allowed: true } | { readonly allowed: false; why: string };

const ALLOWED: ActionStance = { allowed: true };
const refuse = (why: string): ActionStance => ({ allowed: false, why });

export function incidentActionStance(
  incident: IncidentLike,
  action: IncidentActionName,
  roles: readonly string[],
): ActionStance {
  if (!roles.includes("operator")) return refuse("Acting on incidents needs the operator role.");
  if (incident.state === "resolved") return refuse("The incident is resolved.");
  switch (action) {
    case "acknowledge":
      return incident.acknowledged === undefined
        ? ALLOWED
        : refuse(`Acknowledged by ${incident.acknowledged.byId} already.`);
    case "note":
      return ALLOWED;
    case "raise":
      return higherSeverities(incident.severity).length > 0
        ? ALLOWED
        : refuse("P0 is the highest severity.");
    case "mitigate":
      return incident.state === "open" ? ALLOWED : refuse("Mitigated already.");
    case "remediate":
      return incident.remediation === undefined
        ? ALLOWED
        : refuse(`The remediation was decided by ${incident.remediation.decidedById}.`);
    case "resolve":
      if (incident.state !== "mitigated") {
        return refuse("Mitigate it first: an open incident is never closed by resolving it.");
      }
      return incident.remediation === undefined ? refuse("Record the remediation first.") : ALLOWED;
  }
}

/** The severities above `severity`, most severe last (P0 last). */
export function higherSeverities(severity: string): string[] {
  const index = SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
  return index <= 0 ? [] : SEVERITIES.slice(0, index).reverse();
}

/** A typed absorbed cost: a whole number of minor units, or why not. */
export function parseCostMinor(text: string): { costMinor: number } | { problem: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { problem: "A whole number of minor units (0 or more)." };
  const costMinor = Number(trimmed);
  if (!Number.isSafeInteger(costMinor)) return { problem: "Too large." };
  return { costMinor };
}

/** An incident's reason: 10 to 2,000 characters, as the incidents' rules ask. */
export function incidentReasonProblem(reason: string): string | undefined {
  const length = reason.trim().length;
  if (length < INCIDENT_REASON_LENGTH_MIN)
    return `Write at least ${INCIDENT_REASON_LENGTH_MIN} characters (${length} so far).`;
  if (new TextEncoder().encode(reason).length > 2_000) return "At most 2,000 bytes.";
  return undefined;
}
