/**
 * Incidents as one application service: open one from a breaker's trip or by hand, add to its
 * timeline, reassess its severity as the impact grows, acknowledge, mitigate, record the
 * remediation decision and resolve it. The rules live in src/core/guard/incident.ts; this file
 * reads and writes the store, appends every action to the audit log in the same atomic write, and
 * takes the time from the injected clock. Opening, a severity rise, mitigating and resolving also
 * enqueue a webhook notification in that same write (src/core/guard/incident-notification.ts):
 * the incident's store and the outbox share the control database, so nothing is lost to a crash
 * between the two and no recovery step is needed.
 */
import type { AuditAction } from "../core/audit/audit-actions.ts";
import type { AuditDetails, AuditEntryInput } from "../core/audit/audit-entry.ts";
import {
  acknowledgeIncident,
  addTimelineEntry,
  type CampaignVersionRef,
  hasKillConfirmation,
  type Incident,
  type IncidentBlame,
  mitigateIncident,
  NO_BLAME,
  openIncident,
  raiseSeverity,
  reassessIncident,
  recordRemediation,
  resolveIncident,
  type TimelineDetails,
  type TimelineEntryInput,
} from "../core/guard/incident.ts";
import { type IncidentResult, refuseIncident } from "../core/guard/incident-codes.ts";
import type { IncidentState } from "../core/guard/incident-lifecycle.ts";
import { incidentNotificationOf } from "../core/guard/incident-notification.ts";
import {
  DEFAULT_SEVERITY_POLICY,
  type IncidentImpact,
  NO_IMPACT,
  type Severity,
  type SeverityPolicy,
} from "../core/guard/severity-policy.ts";
import type { IncidentStore, IncidentWriteResult } from "./incident-store.ts";

/**
 * Releases the uncommitted reservations of the blamed campaign versions in the ledger and says
 * how many and how much. Injected: the ledger's wiring is the composition root's.
 */
export type ReleaseReservations = (
  versions: readonly CampaignVersionRef[],
) => Promise<{ readonly count: number; readonly amountMinor: number }>;

export interface IncidentServiceOptions {
  /** Incidents, and the audit log every action is appended to with them. */
  readonly store: IncidentStore;
  /** The clock, injected: milliseconds since the epoch. */
  readonly nowMs: () => number;
  /** docs/reference/incidents.md, "Severity"; the documented defaults when absent. */
  readonly severityPolicy?: SeverityPolicy;
  readonly releaseReservations?: ReleaseReservations;
}

export interface TripInput {
  readonly breakerId: string;
  readonly tripCode: string;
  /** When the breaker tripped; now when absent. */
  readonly trippedAtMs?: number;
  /** What the breaker saw (window, limit, spend …), kept on the trip's timeline entry. */
  readonly tripDetails?: TimelineDetails;
  readonly impact: IncidentImpact;
  readonly blame?: IncidentBlame;
  readonly windowStartMs?: number;
  readonly title?: string;
}

export interface ManualOpenInput {
  readonly title: string;
  readonly reason: string;
  /** What is known; nothing at all (P4 by the figures) when absent. */
  readonly impact?: IncidentImpact;
  readonly blame?: IncidentBlame;
  readonly windowStartMs?: number;
  /** The severity the person judges it at least; the policy may judge it worse. */
  readonly severity?: Severity;
}

export interface RemediationRequest {
  readonly reason: string;
  /** Subsidy already committed to users, which the platform absorbs. */
  readonly costAbsorbedMinor: number;
  /**
   * What was released, when the caller released it; when absent, the service releases the
   * blamed versions' reservations through `releaseReservations` (none released without it).
   */
  readonly reservationsReleased?: { readonly count: number; readonly amountMinor: number };
}

type Outcome = IncidentResult<{ incident: Incident }>;

/**
 * Writes tried before answering `incident.concurrent_update`: each try decides again on the
 * incident as it is then, so a breaker's reassessment and a person's note both land.
 */
const WRITE_ATTEMPTS = 3;

interface Step {
  readonly result: IncidentResult<{ incident: Incident; changed?: boolean }>;
  readonly actor: string;
  readonly action: AuditAction;
  readonly reason?: string;
  readonly details?: AuditDetails;
}

export class IncidentService {
  private readonly store: IncidentStore;
  private readonly nowMs: () => number;
  private readonly policy: SeverityPolicy;
  private readonly releaseReservations: ReleaseReservations | undefined;

  constructor(options: IncidentServiceOptions) {
    this.store = options.store;
    this.nowMs = options.nowMs;
    this.policy = options.severityPolicy ?? DEFAULT_SEVERITY_POLICY;
    this.releaseReservations = options.releaseReservations;
  }

  async get(id: string): Promise<Incident | undefined> {
    return (await this.store.getIncident(id))?.incident;
  }

  /** Newest opened first; `limit` is clamped to 1,000 by the store. */
  async list(options: { readonly state?: IncidentState; readonly limit: number }) {
    return this.store.listIncidents(options);
  }

  /** A breaker tripped: a new open incident, judged by the policy, with the trip on its timeline. */
  async openFromTrip(input: TripInput): Promise<Outcome> {
    const atMs = this.nowMs();
    const opened = openIncident({
      id: await this.store.nextIncidentId(),
      title: input.title ?? `breaker ${input.breakerId} tripped: ${input.tripCode}`,
      atMs,
      openedBy: { kind: "breaker", breakerId: input.breakerId, tripCode: input.tripCode },
      impact: input.impact,
      blame: input.blame ?? NO_BLAME,
      ...(input.windowStartMs === undefined ? {} : { windowStartMs: input.windowStartMs }),
      policy: this.policy,
      trip: { trippedAtMs: input.trippedAtMs ?? atMs, details: input.tripDetails ?? {} },
    });
    return this.create(opened, input.breakerId, null);
  }

  /** A person opens an incident with a reason (a customer report, a suspicion before any trip). */
  async openByHand(personId: string, input: ManualOpenInput): Promise<Outcome> {
    const opened = openIncident({
      id: await this.store.nextIncidentId(),
      title: input.title,
      atMs: this.nowMs(),
      openedBy: { kind: "person", personId, reason: input.reason },
      impact: input.impact ?? NO_IMPACT,
      blame: input.blame ?? NO_BLAME,
      ...(input.windowStartMs === undefined ? {} : { windowStartMs: input.windowStartMs }),
      policy: this.policy,
      ...(input.severity === undefined ? {} : { declaredSeverity: input.severity }),
    });
    return this.create(opened, personId, input.reason);
  }

  /** Adds a recordable entry: a change approved or forced, a stage, a kill confirmed, a note. */
  async addTimeline(id: string, entry: TimelineEntryInput): Promise<Outcome> {
    return this.act(id, (incident, atMs) => ({
      result: addTimelineEntry(incident, entry, atMs),
      actor: entry.byId,
      action: "incident.updated",
      details: { timeline: entry.kind },
    }));
  }

  /**
   * Records that the process `evaluatorId` applies kill `killSequence` (a `kill_confirmed` entry
   * with both in its details), at most once: when the timeline already holds that evaluator's
   * confirmation of that kill, nothing is written (`changed: false`). The check is made on the
   * incident as read for the write, and the write names that revision, so two writers racing
   * (the process's guarded runner and its kill confirmer, or a process and its restart under the
   * same id) cannot both add it: the loser reads again and finds the winner's entry. `summary`
   * replaces the entry's standard wording (the replay says what its evaluators then do).
   */
  async confirmKill(
    id: string,
    input: {
      readonly evaluatorId: string;
      readonly killSequence: number;
      readonly atMs: number;
      readonly summary?: string;
    },
  ): Promise<IncidentResult<{ incident: Incident; changed: boolean }>> {
    const { evaluatorId, killSequence, atMs } = input;
    let changed = false;
    const outcome = await this.act(id, (incident, nowMs) => {
      const already = hasKillConfirmation(incident, killSequence, evaluatorId);
      const result = already
        ? { ok: true as const, incident, changed: false }
        : addTimelineEntry(
            incident,
            {
              kind: "kill_confirmed",
              atMs,
              byId: evaluatorId,
              summary:
                input.summary ??
                `${evaluatorId} applies kill ${killSequence} from its next decision`,
              details: { evaluatorId, killSequence },
            },
            nowMs,
          );
      changed = result.ok && !already;
      return {
        result,
        actor: evaluatorId,
        action: "incident.updated",
        details: { timeline: "kill_confirmed" },
      };
    });
    return outcome.ok ? { ...outcome, changed } : outcome;
  }

  /**
   * Judges the incident again on newer figures (kept at their peaks) and newly blamed items.
   * Writes nothing when nothing new was learnt (`changed: false`).
   */
  async reassess(
    id: string,
    input: {
      readonly impact: IncidentImpact;
      readonly blame?: IncidentBlame;
      readonly byId: string;
    },
  ): Promise<IncidentResult<{ incident: Incident; changed: boolean }>> {
    let changed = false;
    const outcome = await this.act(id, (incident, atMs) => {
      const result = reassessIncident(incident, input, this.policy, atMs);
      changed = result.ok && result.changed;
      return {
        result,
        actor: input.byId,
        action:
          result.ok && result.incident.severity !== incident.severity
            ? "incident.severity_raised"
            : "incident.updated",
        details: {
          cumulativeMinor: result.ok ? result.incident.impact.cumulativeMinor : 0,
          atRiskPerMinuteMinor: result.ok ? result.incident.impact.atRiskPerMinuteMinor : 0,
        },
      };
    });
    return outcome.ok ? { ...outcome, changed } : outcome;
  }

  async raiseSeverity(
    byId: string,
    id: string,
    severity: Severity,
    reason: string,
  ): Promise<Outcome> {
    return this.act(id, (incident, atMs) => ({
      result: raiseSeverity(incident, byId, severity, reason, atMs),
      actor: byId,
      action: "incident.severity_raised",
      reason,
      details: { from: incident.severity },
    }));
  }

  async acknowledge(byId: string, id: string): Promise<Outcome> {
    return this.act(id, (incident, atMs) => ({
      result: acknowledgeIncident(incident, byId, atMs),
      actor: byId,
      action: "incident.acknowledged",
    }));
  }

  async mitigate(byId: string, id: string, reason: string): Promise<Outcome> {
    return this.act(id, (incident, atMs) => ({
      result: mitigateIncident(incident, byId, reason, atMs),
      actor: byId,
      action: "incident.mitigated",
      reason,
    }));
  }

  /**
   * Records the remediation decision (absorb the cost), releasing the blamed versions'
   * uncommitted reservations first when the service has the ledger's release and the caller did
   * not release them itself. The release happens once, before the write, and is not repeated on
   * a retry: releasing is right whoever records the decision.
   */
  async recordRemediation(
    byId: string,
    id: string,
    request: RemediationRequest,
    /** The ledger's release for this call (the server's own ledger); the service's when absent. */
    releaseReservations: ReleaseReservations | undefined = this.releaseReservations,
  ): Promise<Outcome> {
    const stored = await this.store.getIncident(id);
    if (stored === undefined) return refuseIncident("incident.not_found", `no incident ${id}`);
    let released = request.reservationsReleased;
    if (released === undefined) {
      // Checked before releasing: a closed incident or a second decision must release nothing.
      const dryRun = recordRemediation(
        stored.incident,
        {
          decidedById: byId,
          reason: request.reason,
          reservationsReleased: { count: 0, amountMinor: 0 },
          costAbsorbedMinor: request.costAbsorbedMinor,
        },
        this.nowMs(),
      );
      if (!dryRun.ok) return dryRun;
      released =
        releaseReservations === undefined || stored.incident.blame.campaignVersions.length === 0
          ? { count: 0, amountMinor: 0 }
          : await releaseReservations(stored.incident.blame.campaignVersions);
    }
    const reservationsReleased = released;
    return this.act(id, (incident, atMs) => ({
      result: recordRemediation(
        incident,
        {
          decidedById: byId,
          reason: request.reason,
          reservationsReleased,
          costAbsorbedMinor: request.costAbsorbedMinor,
        },
        atMs,
      ),
      actor: byId,
      action: "incident.remediated",
      reason: request.reason,
      details: {
        decision: "absorb",
        releasedCount: reservationsReleased.count,
        releasedMinor: reservationsReleased.amountMinor,
        absorbedMinor: request.costAbsorbedMinor,
      },
    }));
  }

  async resolve(byId: string, id: string, reason: string): Promise<Outcome> {
    return this.act(id, (incident, atMs) => ({
      result: resolveIncident(incident, byId, reason, atMs),
      actor: byId,
      action: "incident.resolved",
      reason,
    }));
  }

  private async create(opened: Outcome, actor: string, reason: string | null): Promise<Outcome> {
    if (!opened.ok) return opened;
    const { incident } = opened;
    const written = await this.store.writeIncident(
      incident,
      0,
      this.auditOf(incident, incident.openedAtMs, actor, "incident.opened", reason, {
        openedBy: incident.openedBy.kind,
      }),
      notificationsOf("incident.opened", incident, 1),
    );
    return this.answer(written, incident);
  }

  /** Reads the incident, lets `step` decide, writes the result with its audit entry; retries on a conflict. */
  private async act(
    id: string,
    step: (incident: Incident, atMs: number) => Step,
  ): Promise<Outcome> {
    let lastConflict: IncidentWriteResult | undefined;
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt += 1) {
      const stored = await this.store.getIncident(id);
      if (stored === undefined) return refuseIncident("incident.not_found", `no incident ${id}`);
      // One instant per try: the incident and its audit entry say the same time.
      const atMs = this.nowMs();
      const { result, actor, action, reason, details } = step(stored.incident, atMs);
      if (!result.ok) return result;
      if (result.changed === false) return { ok: true, incident: result.incident };
      const written = await this.store.writeIncident(
        result.incident,
        stored.revision,
        this.auditOf(result.incident, atMs, actor, action, reason ?? null, details ?? {}),
        notificationsOf(action, result.incident, stored.revision + 1),
      );
      if (written.ok || written.code !== "concurrent_update") {
        return this.answer(written, result.incident);
      }
      lastConflict = written;
    }
    return this.answer(lastConflict!, undefined, id);
  }

  private auditOf(
    incident: Incident,
    atMs: number,
    actor: string,
    action: AuditAction,
    reason: string | null,
    details: AuditDetails,
  ): AuditEntryInput {
    return {
      at: new Date(atMs).toISOString(),
      actor,
      action,
      subject: `incident/${incident.id}`,
      contentHash: null,
      reason,
      details: { ...details, state: incident.state, severity: incident.severity },
    };
  }

  private answer(
    written: IncidentWriteResult,
    incident: Incident | undefined,
    id?: string,
  ): Outcome {
    if (written.ok) return { ok: true, incident: incident! };
    // The incident's limits keep every entry within the audit log's, so a refusal is a bug.
    if (written.code === "audit_refused") {
      throw new Error(`the audit log refused an entry: ${written.message}`);
    }
    // The payload's lists are capped far below the body's limit, so a refusal is a bug too.
    if (written.code === "notification_refused") {
      throw new Error(`the outbox refused an incident notification: ${written.message}`);
    }
    return refuseIncident(
      "incident.concurrent_update",
      `${incident?.id ?? id}: ${written.message}; read it again`,
    );
  }
}

/** The notification the action raises at `revision`, as the list a write takes. */
function notificationsOf(action: AuditAction, incident: Incident, revision: number) {
  const notification = incidentNotificationOf(action, incident, revision);
  return notification === undefined ? [] : [notification];
}
