/**
 * The webhook notification an incident's action raises (docs/reference/incidents.md,
 * "Notifications"): which actions notify, the notification's id and its payload. Pure: the store
 * writes it in the same transaction as the incident, so an incident never changes without its
 * notification, nor is one sent for a change that was not stored.
 *
 * The payload says what a person paged needs to decide whether to look now: who, how bad and
 * why, what it blames, since when. It carries no reasons written by people (free text may hold
 * anything, and webhook receivers are chat rooms), no actors, and nothing from the timeline.
 */
import type { Incident } from "./incident.ts";

/** The incident events endpoints may subscribe to, with what each means. */
export const INCIDENT_EVENT_TYPES = {
  "incident.opened": "An incident was opened, by a breaker or by hand.",
  "incident.severity_raised": "An incident's severity rose, by reassessment or by a person.",
  "incident.mitigated": "The money stopped flowing: the incident is mitigated.",
  "incident.resolved": "The remediation is recorded and the incident is closed.",
} as const;

export type IncidentEventType = keyof typeof INCIDENT_EVENT_TYPES;

/** Blamed items listed per kind at most; the rest are counted, so a body stays far below 64 KiB. */
export const INCIDENT_NOTIFICATION_BLAME_MAX = 20;

export interface IncidentNotificationPayload {
  readonly incident: {
    readonly id: string;
    readonly title: string;
    readonly state: Incident["state"];
    readonly severity: Incident["severity"];
    /** The measures that set the severity, each with the severity it alone reaches. */
    readonly because: Incident["because"];
    readonly openedAtMs: number;
    /** When the anomaly began, as far as is known: where the impact report's window starts. */
    readonly windowStartMs: number;
    readonly openedBy: "breaker" | "person";
  };
  readonly blame: {
    readonly changeIds: readonly string[];
    /** `campaignId@version`. */
    readonly campaignVersions: readonly string[];
    readonly templateIds: readonly string[];
    readonly funders: readonly string[];
    /** Blamed items beyond the lists above. */
    readonly omitted: number;
  };
  readonly impact: Incident["impact"];
  /** One line for a chat message: severity, title, the money, the breadth. */
  readonly summary: string;
}

export interface IncidentNotification {
  readonly eventType: IncidentEventType;
  /** `<incident id>:<event>:<revision>`: unique, and the same if the same write is retried. */
  readonly id: string;
  readonly payload: IncidentNotificationPayload;
}

/**
 * The notification for `incident` as written at `revision` by the audit action `action`, or
 * undefined when that action notifies nobody (a note, an acknowledgement, a remediation, a
 * reassessment that did not raise the severity).
 */
export function incidentNotificationOf(
  action: string,
  incident: Incident,
  revision: number,
): IncidentNotification | undefined {
  if (!(action in INCIDENT_EVENT_TYPES)) return undefined;
  const eventType = action as IncidentEventType;
  const event = eventType.slice("incident.".length);
  return {
    eventType,
    id: `${incident.id}:${event}:${revision}`,
    payload: incidentNotificationPayload(incident),
  };
}

export function incidentNotificationPayload(incident: Incident): IncidentNotificationPayload {
  const { blame, impact } = incident;
  const lists = {
    changeIds: blame.changeIds,
    campaignVersions: blame.campaignVersions.map((ref) => `${ref.campaignId}@${ref.version}`),
    templateIds: blame.templateIds,
    funders: blame.funders,
  };
  let omitted = 0;
  const capped = (items: readonly string[]) => {
    omitted += Math.max(0, items.length - INCIDENT_NOTIFICATION_BLAME_MAX);
    return items.slice(0, INCIDENT_NOTIFICATION_BLAME_MAX);
  };
  return {
    incident: {
      id: incident.id,
      title: incident.title,
      state: incident.state,
      severity: incident.severity,
      because: incident.because,
      openedAtMs: incident.openedAtMs,
      windowStartMs: incident.windowStartMs,
      openedBy: incident.openedBy.kind,
    },
    blame: {
      changeIds: capped(lists.changeIds),
      campaignVersions: capped(lists.campaignVersions),
      templateIds: capped(lists.templateIds),
      funders: capped(lists.funders),
      omitted,
    },
    impact,
    summary: summaryOf(incident),
  };
}

function summaryOf(incident: Incident): string {
  const { impact } = incident;
  const parts = [
    `${incident.severity} ${incident.state}: ${incident.title}`,
    `${impact.cumulativeMinor} minor units cumulative`,
    `${impact.atRiskPerMinuteMinor} at risk per minute`,
    `${impact.paymentShareBps} bps of payments`,
    `${impact.scenarios} scenarios, ${impact.regions} regions`,
  ];
  if (impact.coreFlows) parts.push("a core flow touched");
  return parts.join("; ");
}
