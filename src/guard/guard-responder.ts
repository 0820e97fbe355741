/**
 * What a breaker's trip does, in order of how fast it stops money: publish a kill of the blamed
 * campaigns (every evaluator obeys it on its next decision once it knows), roll back the change
 * rolling out, when there is one (the most recent change is the first suspect, whatever
 * tripped); else the recent change that made each blamed version (the newest change that wrote
 * the campaign or its template); else pause the campaign (an old campaign running over its
 * declared ceiling is stopped, not the import that created it undone);
 * then open the incident with its timeline: how the change got there (approved or forced, the
 * stage it was at), the first anomalous subsidy, the trip, the kill, the rollbacks.
 *
 * External campaigns (guard mode's `ext:<campaignRef>`) are killed like native ones, but have no
 * change in this pipeline to roll back or campaign to pause: a trip that is about external
 * campaigns only (its subject, or everything it blames) leaves the change pipeline alone, even
 * when a native change happens to be rolling out.
 *
 * Each step is independent: a refused rollback (someone else rolled it back already) is reported
 * and the others still happen. The kill comes first because it needs nothing else to be right.
 */
import type { ChangeService } from "../control/change-service.ts";
import type { ChangeRequest, Principal } from "../core/change/change-request.ts";
import { isFundingSource } from "../core/funding.ts";
import { isExternalCampaignId } from "../core/guard/external-watch.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import type { CampaignVersionRef, TimelineEntryInput } from "../core/guard/incident.ts";
import { KILL_LIMITS, type KillScope } from "../core/guard/kill.ts";
import type { IncidentImpact } from "../core/guard/severity-policy.ts";
import type { IncidentService } from "./incident-service.ts";
import type { KillStore } from "./kill-store.ts";
import { breakerIdOf } from "./runtime-guard.ts";

export interface GuardResponderOptions {
  readonly changes: ChangeService;
  readonly kills: KillStore;
  readonly incidents: IncidentService;
  readonly nowMs: () => number;
  /** Who the guard acts as in the change pipeline and the audit log: an operator. */
  readonly actor: Principal;
  /** A change active for less than this is rolled back; an older one's campaigns are paused. */
  readonly recentChangeMs?: number;
}

export const GUARD_RESPONDER_DEFAULTS = {
  recentChangeMs: 3_600_000,
  /** Changes searched for the one that made a blamed version, newest first. */
  changesSearched: 200,
} as const;

/** What the caller knows about the trip beyond the trip itself. */
export interface TripContext {
  readonly impact: IncidentImpact;
  /** Each blamed campaign's template, so a template edit's change is found. */
  readonly templateOf: (campaignId: string) => string | undefined;
  /** Each blamed campaign's funding source, for the incident's blame. */
  readonly fundingOf?: (campaignId: string) => string | undefined;
  /** The first payment a blamed version subsidised, when known. */
  readonly firstAnomaly?: {
    readonly paymentId: string;
    readonly atMs: number;
    readonly subsidyMinor: number;
  };
}

export interface GuardResponse {
  readonly breakerId: string;
  readonly killSequence: number | null;
  readonly killedCampaignIds: readonly string[];
  readonly rolledBack: readonly string[];
  readonly paused: readonly string[];
  readonly incidentId: string | null;
  /** Steps that were refused or failed, each with its code or message; the rest still ran. */
  readonly problems: readonly string[];
}

export class GuardResponder {
  private readonly recentChangeMs: number;

  constructor(private readonly options: GuardResponderOptions) {
    this.recentChangeMs = options.recentChangeMs ?? GUARD_RESPONDER_DEFAULTS.recentChangeMs;
  }

  async respond(trip: GuardTrip, context: TripContext): Promise<GuardResponse> {
    const { changes, kills, incidents, actor } = this.options;
    const problems: string[] = [];
    const breakerId = breakerIdOf(trip);
    const reason = `breaker ${breakerId} tripped: ${trip.code} (${trip.observed} > ${trip.limit} over ${trip.window})`;
    const campaignIds = trip.campaignIds.slice(0, KILL_LIMITS.campaignIdsMax);

    const scope = killScopeOf(trip, campaignIds);
    let killSequence: number | null = null;
    let killedAtMs: number | null = null;
    if (scope !== undefined) {
      killedAtMs = this.options.nowMs();
      const killed = await kills.publishKill({
        scope,
        reason,
        actor: actor.id,
        atMs: killedAtMs,
      });
      if (killed.ok) killSequence = killed.kill.sequence;
      else problems.push(`kill: ${killed.code}: ${killed.message}`);
    }

    const nativeIds = campaignIds.filter((campaignId) => !isExternalCampaignId(campaignId));
    const responsible = isAboutExternalOnly(trip, nativeIds)
      ? NO_RESPONSIBLE_CHANGES
      : await this.responsibleChanges(nativeIds, context);
    const rolledBack: string[] = [];
    const rollbackTimes: number[] = [];
    for (const change of responsible.changes) {
      const result = await changes.rollBack(actor, change.id, reason);
      if (result.ok) {
        rolledBack.push(change.id);
        rollbackTimes.push(this.options.nowMs());
      } else problems.push(`rollback ${change.id}: ${result.code}: ${result.message}`);
    }
    const paused: string[] = [];
    for (const campaignId of responsible.toPause) {
      const result = await changes.pause(actor, campaignId, reason);
      if (result.ok) paused.push(campaignId);
      else problems.push(`pause ${campaignId}: ${result.code}: ${result.message}`);
    }

    const blamedVersions: CampaignVersionRef[] = (
      trip.blamedVersions ?? campaignIds.map((campaignId) => ({ campaignId, campaignVersion: 0 }))
    ).map((blame) => ({ campaignId: blame.campaignId, version: blame.campaignVersion }));
    const templateIds = unique(campaignIds.flatMap((id) => context.templateOf(id) ?? []));
    const funders = unique([
      ...(trip.subject.kind === "funder" ? [trip.subject.id] : []),
      ...campaignIds.flatMap((id) => context.fundingOf?.(id) ?? []),
    ]);
    const opened = await incidents.openFromTrip({
      breakerId,
      tripCode: trip.code,
      trippedAtMs: trip.atMs,
      tripDetails: {
        window: trip.window,
        observed: trip.observed,
        limit: trip.limit,
        subject: `${trip.subject.kind}:${trip.subject.id}`,
      },
      impact: context.impact,
      blame: {
        changeIds: responsible.changes.map((change) => change.id),
        campaignVersions: blamedVersions,
        templateIds,
        funders,
      },
      ...(context.firstAnomaly === undefined ? {} : { windowStartMs: context.firstAnomaly.atMs }),
    });
    if (!opened.ok) {
      problems.push(`incident: ${opened.code}: ${opened.message}`);
      return {
        breakerId,
        killSequence,
        killedCampaignIds: killSequence === null ? [] : campaignIds,
        rolledBack,
        paused,
        incidentId: null,
        problems,
      };
    }
    const incidentId = opened.incident.id;
    const entries: TimelineEntryInput[] = [
      ...responsible.changes.flatMap((change) => howItGotThere(change)),
      ...(context.firstAnomaly === undefined
        ? []
        : [
            {
              kind: "first_anomalous_subsidy" as const,
              atMs: context.firstAnomaly.atMs,
              byId: "guard",
              summary: `payment ${context.firstAnomaly.paymentId} received ${context.firstAnomaly.subsidyMinor} minor units from a blamed version`,
              details: {
                paymentId: context.firstAnomaly.paymentId,
                subsidyMinor: context.firstAnomaly.subsidyMinor,
              },
            },
          ]),
      ...(killSequence === null || killedAtMs === null
        ? []
        : [
            {
              kind: "kill_published" as const,
              atMs: killedAtMs,
              byId: actor.id,
              summary: `kill ${killSequence} of ${scope?.kind === "funding" ? `every subsidy funded by ${scope.funding}` : campaignIds.join(", ")}`,
              details: { killSequence, campaigns: campaignIds.length },
            },
          ]),
      ...rolledBack.map((changeId, index) => ({
        kind: "rollback" as const,
        atMs: rollbackTimes[index]!,
        byId: actor.id,
        summary: `${changeId} rolled back`,
        details: { changeId },
      })),
    ];
    for (const entry of entries) {
      const added = await incidents.addTimeline(incidentId, entry);
      if (!added.ok) problems.push(`timeline ${entry.kind}: ${added.code}: ${added.message}`);
    }
    return {
      breakerId,
      killSequence,
      killedCampaignIds: killSequence === null ? [] : campaignIds,
      rolledBack,
      paused,
      incidentId,
      problems,
    };
  }

  /**
   * For each blamed campaign, the newest change rolling out or active that wrote it or its
   * template: that change made the blamed version. Recent ones are rolled back (newest first);
   * a campaign whose version an old change made is paused instead.
   */
  private async responsibleChanges(
    campaignIds: readonly string[],
    context: TripContext,
  ): Promise<{ changes: ChangeRequest[]; toPause: string[] }> {
    const { changes } = this.options;
    // Most recent change first: a change rolling out is the first suspect whatever tripped (a
    // campaign it displaces from an exclusive group runs over its ceiling, say). It alone is
    // rolled back; the kill already holds the blamed campaigns, and a breaker that trips again
    // afterwards takes the next suspect.
    const [rolling] = await changes.list({ state: "rolling_out", limit: 1 });
    if (rolling !== undefined) return { changes: [rolling], toPause: [] };
    const candidates = await changes.list({
      state: "active",
      limit: GUARD_RESPONDER_DEFAULTS.changesSearched,
    });
    const chosen = new Map<string, ChangeRequest>();
    const toPause: string[] = [];
    const nowMs = this.options.nowMs();
    for (const campaignId of campaignIds) {
      const templateId = context.templateOf(campaignId);
      const keys = new Set([`campaign/${campaignId}`, `template/${templateId}`]);
      const maker = candidates.find((change) =>
        change.written.some((version) => keys.has(version.key)),
      );
      if (maker === undefined) continue;
      // An operator's lowering or pause cannot be rolled back (that would turn money back on),
      // so a version it made is treated like an old change's: paused.
      const recent =
        maker.operatorAction === undefined &&
        nowMs - Date.parse(maker.updatedAt) < this.recentChangeMs;
      if (recent) chosen.set(maker.id, maker);
      else toPause.push(campaignId);
    }
    // Newest first: the order the store listed them in.
    return {
      changes: candidates.filter((change) => chosen.has(change.id)),
      toPause,
    };
  }
}

const NO_RESPONSIBLE_CHANGES: { changes: ChangeRequest[]; toPause: string[] } = {
  changes: [],
  toPause: [],
};

/**
 * What the trip's kill covers: the campaigns it blames; or, for a funder's runaway that blames
 * none (every external campaign granting that money lately is past what the monitor remembers),
 * all of that funder's money, native campaigns' included — a kill wider than the culprit stops
 * the money, where no kill would leave it running. Undefined: nothing to kill.
 */
function killScopeOf(trip: GuardTrip, campaignIds: readonly string[]): KillScope | undefined {
  if (campaignIds.length > 0) return { kind: "campaigns", campaignIds };
  const { subject } = trip;
  if (subject.kind === "funder" && isFundingSource(subject.id)) {
    return { kind: "funding", funding: subject.id };
  }
  return undefined;
}

/**
 * True when the trip's subject is an external campaign, the `ext:*` template or a funder (the
 * funder monitor watches the external engine's spend only), or when it blames campaigns and
 * every one is external: no native change is a suspect then.
 */
function isAboutExternalOnly(trip: GuardTrip, nativeIds: readonly string[]): boolean {
  const { subject } = trip;
  if (subject.kind === "funder") return true;
  if (subject.kind !== "platform" && isExternalCampaignId(subject.id)) return true;
  return trip.campaignIds.length > 0 && nativeIds.length === 0;
}

/** The change's approvals, forced gates and rollout stage as timeline entries. */
function howItGotThere(change: ChangeRequest): TimelineEntryInput[] {
  const entries: TimelineEntryInput[] = [];
  for (const force of change.forced) {
    entries.push({
      kind: "change_forced",
      atMs: Date.parse(force.at),
      byId: force.adminIds.join("+"),
      summary: `${change.id} forced past ${force.gate} by ${force.adminIds.join(" and ")}`,
      details: { changeId: change.id, gate: force.gate },
    });
  }
  for (const approval of change.approvals) {
    entries.push({
      kind: "change_approved",
      atMs: Date.parse(approval.at),
      byId: approval.reviewerId,
      summary: `${change.id} approved by ${approval.reviewerId}`,
      details: { changeId: change.id },
    });
  }
  if (change.rollout !== undefined) {
    const shareBps = change.rollout.plan.stages[change.rollout.stageIndex]!.shareBps;
    entries.push({
      kind: "rollout_stage",
      atMs: Date.parse(change.rollout.stageStartedAt),
      byId: "rollout",
      summary: `${change.id} at stage ${change.rollout.stageIndex + 1} (${shareBps} bps)`,
      details: { changeId: change.id, shareBps },
    });
  }
  return entries.sort((left, right) => left.atMs - right.atMs);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
