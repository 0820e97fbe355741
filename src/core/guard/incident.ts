/**
 * An incident and every action on it, as pure functions from an incident to the next incident or
 * a refusal with a code (incident-codes.ts). An incident is opened by a breaker's trip or by a
 * person; its severity comes from the severity policy (severity-policy.ts) over the worst impact
 * seen so far, and only ever rises while it is open. Its timeline is a bounded, closed set of
 * kinds. Its remediation decision is to absorb the cost and release what was only reserved:
 * there is deliberately no option to ask users to pay back (DESIGN §1, §4.6).
 *
 * Times are milliseconds from the caller's injected clock; nothing here reads a clock.
 */
import { type IncidentResult, refuseIncident } from "./incident-codes.ts";
import { type IncidentState, nextIncidentState } from "./incident-lifecycle.ts";
import {
  type IncidentImpact,
  SEVERITIES,
  type Severity,
  type SeverityDecision,
  type SeverityPolicy,
  severityOf,
} from "./severity-policy.ts";

export const INCIDENT_LIMITS = {
  titleLengthMax: 200,
  /** Reasons say something (characters), and fit the audit log's reason (UTF-8 bytes). */
  reasonLengthMin: 10,
  reasonLengthMax: 2_000,
  /** Ids of people, breakers, changes, campaigns, templates, funders, evaluators. */
  idLengthMax: 128,
  /**
   * Entries added by hand or by other parts (kinds marked recordable). The incident's own
   * entries are bounded by its lifecycle: opened 1, acknowledged 1, severity raised at most 4
   * (P4 → P0), mitigated 1, remediation 1, resolved 1 — so a timeline holds at most 209.
   */
  timelineRecordedEntriesMax: 200,
  summaryLengthMax: 500,
  detailsKeysMax: 16,
  detailKeyLengthMax: 64,
  detailStringLengthMax: 256,
  blamedChangesMax: 50,
  blamedCampaignVersionsMax: 200,
  blamedTemplatesMax: 50,
  blamedFundersMax: 20,
} as const;

/**
 * The closed set of timeline kinds: what each means, whether it may be added from outside
 * (`recordable`; the others are written by the incident's own actions), and the detail keys it
 * must carry.
 */
export const INCIDENT_TIMELINE_KINDS = {
  opened: { recordable: false, requires: [], description: "The incident was opened." },
  change_approved: {
    recordable: true,
    requires: ["changeId"],
    description: "A change the incident blames was approved.",
  },
  change_forced: {
    recordable: true,
    requires: ["changeId", "gate"],
    description: "A change the incident blames was forced past a gate.",
  },
  rollout_stage: {
    recordable: true,
    requires: ["changeId", "shareBps"],
    description: "A blamed change's rollout reached a stage (share of identities in bps).",
  },
  first_anomalous_subsidy: {
    recordable: true,
    requires: ["paymentId", "subsidyMinor"],
    description: "The first payment that received an anomalous subsidy.",
  },
  trip: {
    recordable: true,
    requires: ["breakerId", "code"],
    description: "A breaker tripped (the one that opened the incident, or another one later).",
  },
  rollback: {
    recordable: true,
    requires: ["changeId"],
    description: "A blamed change was rolled back.",
  },
  kill_published: {
    recordable: true,
    requires: [],
    description: "A kill of the blamed versions was published to the evaluators.",
  },
  kill_confirmed: {
    recordable: true,
    requires: ["evaluatorId"],
    description:
      "One evaluator (a process) confirmed it applies the kill (one entry per evaluator and kill).",
  },
  note: { recordable: true, requires: [], description: "A person's note." },
  severity_raised: {
    recordable: false,
    requires: ["fromSeverity", "toSeverity"],
    description: "The severity rose, by reassessment of the impact or by a person.",
  },
  acknowledged: {
    recordable: false,
    requires: [],
    description: "An on-call engineer acknowledged the incident.",
  },
  mitigated: {
    recordable: false,
    requires: [],
    description: "The money stopped flowing; the incident is mitigated.",
  },
  remediation: {
    recordable: false,
    requires: ["decision"],
    description: "The remediation decision was recorded.",
  },
  resolved: { recordable: false, requires: [], description: "The incident was resolved." },
} as const satisfies Record<
  string,
  { recordable: boolean; requires: readonly string[]; description: string }
>;

export type IncidentTimelineKind = keyof typeof INCIDENT_TIMELINE_KINDS;

export type TimelineDetailValue = string | number | boolean | null;
export type TimelineDetails = Readonly<Record<string, TimelineDetailValue>>;

export interface IncidentTimelineEntry {
  readonly kind: IncidentTimelineKind;
  readonly atMs: number;
  /** Who recorded it: a person, a breaker, an evaluator, the system. */
  readonly byId: string;
  readonly summary: string;
  readonly details: TimelineDetails;
}

export type IncidentOpener =
  | { readonly kind: "breaker"; readonly breakerId: string; readonly tripCode: string }
  | { readonly kind: "person"; readonly personId: string; readonly reason: string };

export interface CampaignVersionRef {
  readonly campaignId: string;
  readonly version: number;
}

/** What the incident blames: the versions to release and kill, and whom the money came from. */
export interface IncidentBlame {
  readonly changeIds: readonly string[];
  readonly campaignVersions: readonly CampaignVersionRef[];
  readonly templateIds: readonly string[];
  readonly funders: readonly string[];
}

export const NO_BLAME: IncidentBlame = {
  changeIds: [],
  campaignVersions: [],
  templateIds: [],
  funders: [],
};

/**
 * The one remediation Bursar records: the platform absorbs the cost of what users received, and
 * releases what was only reserved. Asking users to pay back is not an option, by design.
 */
export const REMEDIATION_DECISIONS = ["absorb"] as const;
export type RemediationDecisionKind = (typeof REMEDIATION_DECISIONS)[number];

export interface RemediationDecision {
  readonly decision: RemediationDecisionKind;
  /** Uncommitted reservations of the blamed versions released: nobody receives that money. */
  readonly reservationsReleased: { readonly count: number; readonly amountMinor: number };
  /** Subsidy already committed to users that the platform absorbs. */
  readonly costAbsorbedMinor: number;
  readonly decidedById: string;
  readonly reason: string;
  readonly atMs: number;
}

export interface Incident {
  readonly id: string;
  readonly title: string;
  readonly state: IncidentState;
  readonly openedAtMs: number;
  readonly updatedAtMs: number;
  readonly openedBy: IncidentOpener;
  readonly severity: Severity;
  /** The measures that set the severity (`declared` when a person raised it). */
  readonly because: SeverityDecision["because"];
  /** The worst impact seen: each figure its peak, the figures the severity was judged on. */
  readonly impact: IncidentImpact;
  readonly blame: IncidentBlame;
  /** When the anomaly began, as far as is known (the window of the impact report starts here). */
  readonly windowStartMs: number;
  /** The severity a person declared, if any: the policy never lowers the incident below it. */
  readonly declared?: {
    readonly severity: Severity;
    readonly byId: string;
    readonly reason: string;
  };
  readonly acknowledged?: { readonly byId: string; readonly atMs: number };
  readonly remediation?: RemediationDecision;
  readonly resolution?: { readonly byId: string; readonly atMs: number; readonly reason: string };
  /** In order of `atMs`; entries at one instant in the order they were added. */
  readonly timeline: readonly IncidentTimelineEntry[];
}

type Outcome = IncidentResult<{ incident: Incident }>;
type Check = IncidentResult<object>;

const OK: Check = { ok: true };
const ACTOR = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;
const BLAMED_ID = /^\S+$/u;
const DETAIL_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** The worse (lower-numbered) of two severities. */
export function worseSeverity(left: Severity, right: Severity): Severity {
  return severityRank(left) <= severityRank(right) ? left : right;
}

function checkActor(id: string, what: string): Check {
  return typeof id === "string" && id.length <= INCIDENT_LIMITS.idLengthMax && ACTOR.test(id)
    ? OK
    : refuseIncident("incident.actor_invalid", `${what} ${JSON.stringify(id)} is not a usable id`);
}

/** UTF-8 bytes of `text`: the audit log bounds reasons in bytes, not characters. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const code = character.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

function checkReason(reason: string, action: string): Check {
  const length = typeof reason === "string" ? reason.trim().length : 0;
  // The reason goes into the audit log as written, which keeps no NUL and no lone surrogate.
  const storable =
    typeof reason === "string" && !reason.includes("\u0000") && !LONE_SURROGATE.test(reason);
  return storable &&
    length >= INCIDENT_LIMITS.reasonLengthMin &&
    utf8Bytes(reason) <= INCIDENT_LIMITS.reasonLengthMax
    ? OK
    : refuseIncident(
        "incident.reason_required",
        `${action} needs a reason of ${INCIDENT_LIMITS.reasonLengthMin} characters to ${INCIDENT_LIMITS.reasonLengthMax} UTF-8 bytes`,
      );
}

function checkInstant(atMs: number, what: string): Check {
  return Number.isSafeInteger(atMs) && atMs >= 0
    ? OK
    : refuseIncident("incident.time_invalid", `${what} ${atMs} is not whole milliseconds >= 0`);
}

function firstRefusal(...checks: readonly Check[]): Check {
  return checks.find((check) => !check.ok) ?? OK;
}

export function checkImpact(impact: IncidentImpact): Check {
  const counts = [
    "atRiskPerMinuteMinor",
    "cumulativeMinor",
    "paymentShareBps",
    "scenarios",
    "regions",
  ] as const;
  for (const name of counts) {
    const value = impact[name];
    if (!Number.isSafeInteger(value) || value < 0) {
      return refuseIncident(
        "incident.impact_invalid",
        `${name} ${value} is not a whole number >= 0`,
      );
    }
  }
  if (impact.paymentShareBps > 10_000) {
    return refuseIncident(
      "incident.impact_invalid",
      `paymentShareBps ${impact.paymentShareBps} is above 10,000`,
    );
  }
  if (typeof impact.coreFlows !== "boolean") {
    return refuseIncident("incident.impact_invalid", "coreFlows is not true or false");
  }
  return OK;
}

/** Problems with a severity policy (configuration): empty when it can be used. */
export function severityPolicyProblems(policy: SeverityPolicy): string[] {
  const problems: string[] = [];
  const measures = [
    "atRiskPerMinuteMinor",
    "cumulativeMinor",
    "paymentShareBps",
    "scenarios",
    "regions",
  ] as const;
  for (const measure of measures) {
    const thresholds = policy[measure] as readonly number[] | undefined;
    if (!Array.isArray(thresholds) || thresholds.length !== 4) {
      problems.push(`${measure}: expected four thresholds (P0, P1, P2, P3)`);
      continue;
    }
    if (!thresholds.every((value) => Number.isSafeInteger(value) && value >= 0)) {
      problems.push(`${measure}: thresholds are whole numbers >= 0`);
    } else if (thresholds.some((value, index) => index > 0 && value > thresholds[index - 1]!)) {
      // P0 is the worst, so it needs the most: a threshold rising towards P3 would make a
      // smaller impact worse than a larger one.
      problems.push(`${measure}: thresholds must not rise from P0 to P3`);
    }
  }
  if (!(SEVERITIES as readonly unknown[]).includes(policy.coreFlows)) {
    problems.push(`coreFlows: expected one of ${SEVERITIES.join(", ")}`);
  }
  return problems;
}

function checkPolicy(policy: SeverityPolicy): Check {
  const problems = severityPolicyProblems(policy);
  return problems.length === 0
    ? OK
    : refuseIncident("incident.policy_invalid", problems.join("; "));
}

/** The worst of two impacts, figure by figure: an incident is judged on its peak. */
export function peakImpact(left: IncidentImpact, right: IncidentImpact): IncidentImpact {
  return {
    atRiskPerMinuteMinor: Math.max(left.atRiskPerMinuteMinor, right.atRiskPerMinuteMinor),
    cumulativeMinor: Math.max(left.cumulativeMinor, right.cumulativeMinor),
    paymentShareBps: Math.max(left.paymentShareBps, right.paymentShareBps),
    scenarios: Math.max(left.scenarios, right.scenarios),
    regions: Math.max(left.regions, right.regions),
    coreFlows: left.coreFlows || right.coreFlows,
  };
}

function union<T>(left: readonly T[], right: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Set(left.map(keyOf));
  const merged = [...left];
  for (const item of right) {
    const key = keyOf(item);
    if (seen.has(key)) continue;
    seen.add(key);
    merged.push(item);
  }
  return merged;
}

/** Both blames together (duplicates once), or the refusal when a list would pass its limit. */
export function mergeBlame(
  left: IncidentBlame,
  right: IncidentBlame,
): IncidentResult<{ blame: IncidentBlame }> {
  const ids = [...right.changeIds, ...right.templateIds, ...right.funders];
  const campaigns = right.campaignVersions;
  if (
    ids.some((id) => typeof id !== "string" || id.length > INCIDENT_LIMITS.idLengthMax) ||
    ids.some((id) => !BLAMED_ID.test(id)) ||
    campaigns.some(
      (ref) =>
        typeof ref.campaignId !== "string" ||
        ref.campaignId.length > INCIDENT_LIMITS.idLengthMax ||
        !BLAMED_ID.test(ref.campaignId) ||
        !Number.isSafeInteger(ref.version) ||
        ref.version < 1,
    )
  ) {
    return refuseIncident(
      "incident.blame_invalid",
      "a blamed id or campaign version is not usable",
    );
  }
  const blame: IncidentBlame = {
    changeIds: union(left.changeIds, right.changeIds, String),
    campaignVersions: union(
      left.campaignVersions,
      right.campaignVersions.map((ref) => ({ campaignId: ref.campaignId, version: ref.version })),
      (ref) => `${ref.campaignId}@${ref.version}`,
    ),
    templateIds: union(left.templateIds, right.templateIds, String),
    funders: union(left.funders, right.funders, String),
  };
  const over = (
    [
      ["changes", blame.changeIds.length, INCIDENT_LIMITS.blamedChangesMax],
      [
        "campaign versions",
        blame.campaignVersions.length,
        INCIDENT_LIMITS.blamedCampaignVersionsMax,
      ],
      ["templates", blame.templateIds.length, INCIDENT_LIMITS.blamedTemplatesMax],
      ["funders", blame.funders.length, INCIDENT_LIMITS.blamedFundersMax],
    ] as const
  ).find(([, count, max]) => count > max);
  if (over !== undefined) {
    return refuseIncident(
      "incident.too_many_blamed",
      `${over[1]} ${over[0]} blamed; at most ${over[2]}`,
    );
  }
  return { ok: true, blame };
}

/** Checks a timeline entry's details: flat, bounded, and holding the keys its kind requires. */
export function checkTimelineDetails(kind: IncidentTimelineKind, details: TimelineDetails): Check {
  if (typeof details !== "object" || details === null || Array.isArray(details)) {
    return refuseIncident("incident.details_invalid", "details are not an object");
  }
  const entries = Object.entries(details);
  if (entries.length > INCIDENT_LIMITS.detailsKeysMax) {
    return refuseIncident(
      "incident.details_invalid",
      `${entries.length} detail keys; at most ${INCIDENT_LIMITS.detailsKeysMax}`,
    );
  }
  for (const [key, value] of entries) {
    if (key.length > INCIDENT_LIMITS.detailKeyLengthMax || !DETAIL_KEY.test(key)) {
      return refuseIncident("incident.details_invalid", `detail key ${JSON.stringify(key)}`);
    }
    const usable =
      value === null ||
      typeof value === "boolean" ||
      (typeof value === "number" && Number.isSafeInteger(value)) ||
      (typeof value === "string" && value.length <= INCIDENT_LIMITS.detailStringLengthMax);
    if (!usable) {
      return refuseIncident(
        "incident.details_invalid",
        `detail ${key}: a string of at most ${INCIDENT_LIMITS.detailStringLengthMax} characters, a safe integer, a boolean or null`,
      );
    }
  }
  const missing = INCIDENT_TIMELINE_KINDS[kind].requires.filter(
    (key: string) => !Object.hasOwn(details, key),
  );
  return missing.length === 0
    ? OK
    : refuseIncident("incident.details_invalid", `a ${kind} entry needs ${missing.join(", ")}`);
}

/**
 * True when the timeline says kill `killSequence` was published for this incident: a
 * `kill_published` entry whose details carry that `killSequence` (the guard's responder writes
 * one; a person may record one with `bursar incident note --kind kill_published`). This is the
 * only link from a kill to its incident: a kill itself names no incident.
 */
export function recordsKill(incident: Incident, killSequence: number): boolean {
  return incident.timeline.some(
    (entry) => entry.kind === "kill_published" && entry.details.killSequence === killSequence,
  );
}

/** True when the timeline holds `evaluatorId`'s `kill_confirmed` entry for kill `killSequence`. */
export function hasKillConfirmation(
  incident: Incident,
  killSequence: number,
  evaluatorId: string,
): boolean {
  return incident.timeline.some(
    (entry) =>
      entry.kind === "kill_confirmed" &&
      entry.details.killSequence === killSequence &&
      entry.details.evaluatorId === evaluatorId,
  );
}

/** Inserts `entry` after every entry at or before its instant: the timeline stays in time order. */
function withEntry(
  timeline: readonly IncidentTimelineEntry[],
  entry: IncidentTimelineEntry,
): IncidentTimelineEntry[] {
  let index = timeline.length;
  while (index > 0 && timeline[index - 1]!.atMs > entry.atMs) index -= 1;
  return [...timeline.slice(0, index), entry, ...timeline.slice(index)];
}

function lifecycleEntry(
  kind: IncidentTimelineKind,
  atMs: number,
  byId: string,
  summary: string,
  details: TimelineDetails = {},
): IncidentTimelineEntry {
  return { kind, atMs, byId, summary: summary.slice(0, INCIDENT_LIMITS.summaryLengthMax), details };
}

/**
 * The severity the incident takes: never lower than it was (severity only rises while open),
 * than the policy's judgement of the peak impact, or than what a person declared.
 */
function judged(
  impact: IncidentImpact,
  policy: SeverityPolicy,
  previous: Pick<Incident, "severity" | "because"> | undefined,
  declared: Incident["declared"],
): Pick<Incident, "severity" | "because"> {
  const decision = severityOf(impact, policy);
  let severity = decision.severity;
  if (declared !== undefined) severity = worseSeverity(severity, declared.severity);
  if (previous !== undefined && severityRank(previous.severity) < severityRank(severity)) {
    // A policy configured more leniently since does not lower the incident: it keeps its reasons.
    return { severity: previous.severity, because: previous.because };
  }
  const because = [
    ...(decision.severity === severity ? decision.because : []),
    ...(declared?.severity === severity ? [{ measure: "declared", severity }] : []),
  ];
  return { severity, because };
}

export interface OpenIncidentInput {
  readonly id: string;
  readonly title: string;
  readonly atMs: number;
  readonly openedBy: IncidentOpener;
  readonly impact: IncidentImpact;
  readonly blame: IncidentBlame;
  /** When the anomaly began; the opening instant when unknown. */
  readonly windowStartMs?: number;
  readonly policy: SeverityPolicy;
  /** A person opening by hand may judge it worse than the figures say. */
  readonly declaredSeverity?: Severity;
  /** When the breaker tripped, and what it saw (breaker openings only). */
  readonly trip?: { readonly trippedAtMs: number; readonly details: TimelineDetails };
}

/** A new, open incident with its first timeline entries (the trip, then the opening). */
export function openIncident(input: OpenIncidentInput): Outcome {
  const opener = input.openedBy;
  const openerId = opener.kind === "breaker" ? opener.breakerId : opener.personId;
  const title = typeof input.title === "string" ? input.title.trim() : "";
  const checked = firstRefusal(
    title.length >= 1 && title.length <= INCIDENT_LIMITS.titleLengthMax
      ? OK
      : refuseIncident(
          "incident.title_invalid",
          `a title of 1 to ${INCIDENT_LIMITS.titleLengthMax} characters`,
        ),
    checkActor(openerId, opener.kind === "breaker" ? "breaker" : "person"),
    opener.kind === "person" ? checkReason(opener.reason, "opening an incident by hand") : OK,
    checkInstant(input.atMs, "atMs"),
    checkInstant(input.windowStartMs ?? input.atMs, "windowStartMs"),
    input.trip === undefined ? OK : checkInstant(input.trip.trippedAtMs, "trippedAtMs"),
    checkImpact(input.impact),
    checkPolicy(input.policy),
    input.declaredSeverity === undefined || SEVERITIES.includes(input.declaredSeverity)
      ? OK
      : refuseIncident("incident.impact_invalid", `severity ${input.declaredSeverity}`),
  );
  if (!checked.ok) return checked;
  const blame = mergeBlame(NO_BLAME, input.blame);
  if (!blame.ok) return blame;
  let timeline: IncidentTimelineEntry[] = [];
  if (opener.kind === "breaker") {
    const details = {
      ...(input.trip?.details ?? {}),
      breakerId: opener.breakerId,
      code: opener.tripCode,
    };
    const detailCheck = checkTimelineDetails("trip", details);
    if (!detailCheck.ok) return detailCheck;
    timeline = withEntry(
      timeline,
      lifecycleEntry(
        "trip",
        input.trip?.trippedAtMs ?? input.atMs,
        opener.breakerId,
        `breaker ${opener.breakerId} tripped: ${opener.tripCode}`,
        details,
      ),
    );
  }
  const declared =
    opener.kind === "person" && input.declaredSeverity !== undefined
      ? { severity: input.declaredSeverity, byId: opener.personId, reason: opener.reason }
      : undefined;
  const severity = judged(input.impact, input.policy, undefined, declared);
  timeline = withEntry(
    timeline,
    lifecycleEntry(
      "opened",
      input.atMs,
      openerId,
      opener.kind === "person" ? opener.reason : `opened by breaker ${opener.breakerId}`,
      { severity: severity.severity },
    ),
  );
  return {
    ok: true,
    incident: {
      id: input.id,
      title,
      state: "open",
      openedAtMs: input.atMs,
      updatedAtMs: input.atMs,
      openedBy: opener,
      ...severity,
      impact: { ...input.impact },
      blame: blame.blame,
      windowStartMs: input.windowStartMs ?? input.atMs,
      ...(declared === undefined ? {} : { declared }),
      timeline,
    },
  };
}

export interface TimelineEntryInput {
  readonly kind: IncidentTimelineKind;
  readonly atMs: number;
  readonly byId: string;
  readonly summary: string;
  readonly details?: TimelineDetails;
}

/** Adds an entry of a recordable kind (the change pipeline's, the guard's, a person's note). */
export function addTimelineEntry(
  incident: Incident,
  entry: TimelineEntryInput,
  nowMs: number,
): Outcome {
  const move = nextIncidentState(incident.state, "add_timeline");
  if (!move.ok) return move;
  const kind = INCIDENT_TIMELINE_KINDS[entry.kind] as
    | (typeof INCIDENT_TIMELINE_KINDS)[IncidentTimelineKind]
    | undefined;
  if (kind === undefined || !Object.hasOwn(INCIDENT_TIMELINE_KINDS, entry.kind)) {
    return refuseIncident("incident.details_invalid", `no timeline kind ${String(entry.kind)}`);
  }
  if (!kind.recordable) {
    return refuseIncident(
      "incident.timeline_kind_not_recordable",
      `${entry.kind} entries are written by the incident's own actions`,
    );
  }
  const details = entry.details ?? {};
  const summary = typeof entry.summary === "string" ? entry.summary : "";
  const checked = firstRefusal(
    checkInstant(entry.atMs, "atMs"),
    checkInstant(nowMs, "now"),
    checkActor(entry.byId, "byId"),
    summary.length <= INCIDENT_LIMITS.summaryLengthMax
      ? OK
      : refuseIncident(
          "incident.details_invalid",
          `a summary of at most ${INCIDENT_LIMITS.summaryLengthMax} characters`,
        ),
    checkTimelineDetails(entry.kind, details),
  );
  if (!checked.ok) return checked;
  const recorded = incident.timeline.filter(
    (item) => INCIDENT_TIMELINE_KINDS[item.kind].recordable,
  ).length;
  if (recorded >= INCIDENT_LIMITS.timelineRecordedEntriesMax) {
    return refuseIncident(
      "incident.timeline_full",
      `${incident.id} holds ${recorded} recorded entries, the maximum`,
    );
  }
  const added: IncidentTimelineEntry = {
    kind: entry.kind,
    atMs: entry.atMs,
    byId: entry.byId,
    summary,
    details: { ...details },
  };
  return {
    ok: true,
    incident: {
      ...incident,
      timeline: withEntry(incident.timeline, added),
      updatedAtMs: Math.max(incident.updatedAtMs, nowMs),
    },
  };
}

/** The incident with `severity`, and the timeline entry saying it rose, when it did. */
function withSeverity(
  incident: Incident,
  next: Pick<Incident, "severity" | "because">,
  atMs: number,
  byId: string,
  summary: string,
): Incident {
  if (next.severity === incident.severity) return { ...incident, because: next.because };
  return {
    ...incident,
    ...next,
    timeline: withEntry(
      incident.timeline,
      lifecycleEntry("severity_raised", atMs, byId, summary, {
        fromSeverity: incident.severity,
        toSeverity: next.severity,
      }),
    ),
  };
}

/**
 * Judges the incident again on the newest figures (each kept at its peak) and any newly blamed
 * items. The severity rises when the policy says so and never falls. `changed` is false when
 * nothing new was learnt, so a monitor reporting every second writes nothing.
 */
export function reassessIncident(
  incident: Incident,
  input: { readonly impact: IncidentImpact; readonly blame?: IncidentBlame; readonly byId: string },
  policy: SeverityPolicy,
  atMs: number,
): IncidentResult<{ incident: Incident; changed: boolean }> {
  const move = nextIncidentState(incident.state, "reassess");
  if (!move.ok) return move;
  const checked = firstRefusal(
    checkInstant(atMs, "atMs"),
    checkActor(input.byId, "byId"),
    checkImpact(input.impact),
    checkPolicy(policy),
  );
  if (!checked.ok) return checked;
  const blame = mergeBlame(incident.blame, input.blame ?? NO_BLAME);
  if (!blame.ok) return blame;
  const impact = peakImpact(incident.impact, input.impact);
  const next = judged(impact, policy, incident, incident.declared);
  const changed =
    JSON.stringify(impact) !== JSON.stringify(incident.impact) ||
    JSON.stringify(blame.blame) !== JSON.stringify(incident.blame) ||
    next.severity !== incident.severity;
  if (!changed) return { ok: true, incident, changed: false };
  const reassessed = withSeverity(
    { ...incident, impact, blame: blame.blame, updatedAtMs: Math.max(incident.updatedAtMs, atMs) },
    next,
    atMs,
    input.byId,
    `reassessed: ${next.because.map((item) => item.measure).join(", ")}`,
  );
  return { ok: true, incident: reassessed, changed: true };
}

/** A person raises the severity (they know more than the figures); lowering it is refused. */
export function raiseSeverity(
  incident: Incident,
  byId: string,
  severity: Severity,
  reason: string,
  atMs: number,
): Outcome {
  const move = nextIncidentState(incident.state, "raise_severity");
  if (!move.ok) return move;
  const checked = firstRefusal(
    checkActor(byId, "byId"),
    checkReason(reason, "raising the severity"),
    checkInstant(atMs, "atMs"),
  );
  if (!checked.ok) return checked;
  if (!SEVERITIES.includes(severity) || severityRank(severity) >= severityRank(incident.severity)) {
    return refuseIncident(
      "incident.severity_not_higher",
      `${incident.id} is ${incident.severity}; ${String(severity)} is not higher (severity only rises)`,
    );
  }
  const declared = { severity, byId, reason };
  return {
    ok: true,
    incident: withSeverity(
      { ...incident, declared, updatedAtMs: Math.max(incident.updatedAtMs, atMs) },
      { severity, because: [{ measure: "declared", severity }] },
      atMs,
      byId,
      reason,
    ),
  };
}

/** Someone has it: once per incident, open or mitigated. */
export function acknowledgeIncident(incident: Incident, byId: string, atMs: number): Outcome {
  const move = nextIncidentState(incident.state, "acknowledge");
  if (!move.ok) return move;
  const checked = firstRefusal(checkActor(byId, "byId"), checkInstant(atMs, "atMs"));
  if (!checked.ok) return checked;
  if (incident.acknowledged !== undefined) {
    return refuseIncident(
      "incident.already_acknowledged",
      `${incident.acknowledged.byId} acknowledged ${incident.id} already`,
    );
  }
  return {
    ok: true,
    incident: {
      ...incident,
      acknowledged: { byId, atMs },
      updatedAtMs: Math.max(incident.updatedAtMs, atMs),
      timeline: withEntry(
        incident.timeline,
        lifecycleEntry("acknowledged", atMs, byId, `acknowledged by ${byId}`),
      ),
    },
  };
}

/** The money stopped flowing (rolled back, killed and confirmed): open → mitigated. */
export function mitigateIncident(
  incident: Incident,
  byId: string,
  reason: string,
  atMs: number,
): Outcome {
  const move = nextIncidentState(incident.state, "mitigate");
  if (!move.ok) return move;
  const checked = firstRefusal(
    checkActor(byId, "byId"),
    checkReason(reason, "mitigating"),
    checkInstant(atMs, "atMs"),
  );
  if (!checked.ok) return checked;
  return {
    ok: true,
    incident: {
      ...incident,
      state: move.state,
      updatedAtMs: Math.max(incident.updatedAtMs, atMs),
      timeline: withEntry(incident.timeline, lifecycleEntry("mitigated", atMs, byId, reason)),
    },
  };
}

export interface RemediationInput {
  readonly decidedById: string;
  readonly reason: string;
  readonly reservationsReleased: { readonly count: number; readonly amountMinor: number };
  readonly costAbsorbedMinor: number;
}

/**
 * Records the remediation decision, once: absorb the cost, with the uncommitted reservations
 * of the blamed versions released. There is no other decision to record.
 */
export function recordRemediation(
  incident: Incident,
  input: RemediationInput,
  atMs: number,
): Outcome {
  const move = nextIncidentState(incident.state, "record_remediation");
  if (!move.ok) return move;
  const amounts = [
    input.reservationsReleased?.count,
    input.reservationsReleased?.amountMinor,
    input.costAbsorbedMinor,
  ];
  const checked = firstRefusal(
    checkActor(input.decidedById, "decidedById"),
    checkReason(input.reason, "a remediation decision"),
    checkInstant(atMs, "atMs"),
    amounts.every((value) => Number.isSafeInteger(value) && (value as number) >= 0)
      ? OK
      : refuseIncident(
          "incident.amount_invalid",
          "released count and amounts are whole numbers >= 0",
        ),
  );
  if (!checked.ok) return checked;
  if (incident.remediation !== undefined) {
    return refuseIncident(
      "incident.remediation_recorded",
      `${incident.id}'s remediation was decided by ${incident.remediation.decidedById}`,
    );
  }
  const remediation: RemediationDecision = {
    decision: "absorb",
    reservationsReleased: {
      count: input.reservationsReleased.count,
      amountMinor: input.reservationsReleased.amountMinor,
    },
    costAbsorbedMinor: input.costAbsorbedMinor,
    decidedById: input.decidedById,
    reason: input.reason,
    atMs,
  };
  return {
    ok: true,
    incident: {
      ...incident,
      remediation,
      updatedAtMs: Math.max(incident.updatedAtMs, atMs),
      timeline: withEntry(
        incident.timeline,
        lifecycleEntry("remediation", atMs, input.decidedById, input.reason, {
          decision: "absorb",
          releasedCount: remediation.reservationsReleased.count,
          releasedMinor: remediation.reservationsReleased.amountMinor,
          absorbedMinor: remediation.costAbsorbedMinor,
        }),
      ),
    },
  };
}

/** Closes a mitigated incident whose remediation is recorded. Final. */
export function resolveIncident(
  incident: Incident,
  byId: string,
  reason: string,
  atMs: number,
): Outcome {
  const move = nextIncidentState(incident.state, "resolve");
  if (!move.ok) return move;
  const checked = firstRefusal(
    checkActor(byId, "byId"),
    checkReason(reason, "resolving"),
    checkInstant(atMs, "atMs"),
  );
  if (!checked.ok) return checked;
  if (incident.remediation === undefined) {
    return refuseIncident(
      "incident.remediation_missing",
      `record ${incident.id}'s remediation decision before resolving it`,
    );
  }
  return {
    ok: true,
    incident: {
      ...incident,
      state: move.state,
      resolution: { byId, atMs, reason },
      updatedAtMs: Math.max(incident.updatedAtMs, atMs),
      timeline: withEntry(incident.timeline, lifecycleEntry("resolved", atMs, byId, reason)),
    },
  };
}
