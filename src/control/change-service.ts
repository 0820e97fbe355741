/**
 * The change pipeline as one application service: create and edit change requests, submit them
 * through lint and simulation (injected as `assess`), approve, reject, force, roll out in
 * stages and roll back. The rules live in src/core/change/; this file reads and writes the
 * store, appends every action to the audit log, and takes the time from the injected clock.
 */
import { createHash } from "node:crypto";
import type { AuditAction } from "../core/audit/audit-actions.ts";
import type { AuditDetails } from "../core/audit/audit-entry.ts";
import { canonicalJson } from "../core/change/canonical-json.ts";
import { type ChangeRefusal, type ChangeResult, refuse } from "../core/change/change-codes.ts";
import { type ChangeDiff, diffChange } from "../core/change/change-diff.ts";
import {
  type Acknowledgement,
  abortRollout,
  advanceStage,
  approveChange,
  type ChangeFinding,
  type ChangeRequest,
  type ChangeSimulation,
  checkSubmitter,
  createChange,
  editChange,
  forceGate,
  keepRefusedAssessment,
  type OperatorActionKind,
  observeStage,
  type Principal,
  recordOperatorAction,
  rejectChange,
  rollBackChange,
  startRollout,
  submitChange,
} from "../core/change/change-request.ts";
import {
  assessRisk,
  DEFAULT_RISK_POLICY,
  type RiskPolicy,
  type SimulatedMoney,
} from "../core/change/change-risk.ts";
import {
  baseVersionsOf,
  type ChangeEdit,
  type DocumentKey,
  type DocumentVersion,
  documentKeyOf,
  keyOfEdit,
  rollbackWriterId,
  versionsUndoing,
  versionsWrittenBy,
} from "../core/change/document-versions.ts";
import { loweredLimits, pausedCampaign } from "../core/change/operator-edits.ts";
import {
  checkRolloutPlan,
  defaultRolloutPlan,
  judgeStage,
  type RolloutForecast,
  type RolloutPlan,
  type RolloutVerdict,
  type StageObservation,
} from "../core/change/rollout.ts";
import { resolveConfig } from "../core/model/config-set.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { ChangeStore, ChangeWriteResult } from "./change-store.ts";

/** What lint and simulation say about a proposal; the CLI and the server wire the real ones. */
export interface ProposalFindings {
  readonly findings: readonly ChangeFinding[];
  readonly money?: SimulatedMoney;
  readonly forecast?: RolloutForecast;
  readonly simulation?: ChangeSimulation;
  /** What the simulation ran on, for the reviewer. */
  readonly sample?: string;
}

export type AssessProposal = (proposal: {
  readonly current: readonly ConfigDocument[];
  readonly proposed: readonly ConfigDocument[];
}) => Promise<ProposalFindings>;

export interface ChangeServiceOptions {
  /** Versions, change requests, and the audit log every action is appended to with them. */
  readonly store: ChangeStore;
  readonly assess: AssessProposal;
  /** The clock, injected: ISO instants. */
  readonly now: () => string;
  readonly riskPolicy?: RiskPolicy;
}

/** The configuration evaluators serve: the stable one, and a change rolling out to some identities. */
export interface ServingConfiguration {
  readonly stable: readonly ConfigDocument[];
  /** The version of each stable document, for effective campaign versions. */
  readonly stableVersions: ReadonlyMap<DocumentKey, number>;
  readonly rollout?: {
    readonly changeId: string;
    readonly shareBps: number;
    readonly documents: readonly ConfigDocument[];
    readonly versions: ReadonlyMap<DocumentKey, number>;
    /** Campaigns with a forecast of their own, whose grants the stage reports one by one. */
    readonly watchedCampaignIds: readonly string[];
  };
}

type Outcome = ChangeResult<{ change: ChangeRequest }>;

/** Reads of the serving configuration before giving up on a store that keeps changing. */
const SERVING_READ_ATTEMPTS = 5;

export function contentHashOf(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value), "utf8").digest("hex");
}

export class ChangeService {
  private readonly store: ChangeStore;
  private readonly assess: AssessProposal;
  private readonly now: () => string;
  private readonly riskPolicy: RiskPolicy;

  constructor(options: ChangeServiceOptions) {
    this.store = options.store;
    this.assess = options.assess;
    this.now = options.now;
    this.riskPolicy = options.riskPolicy ?? DEFAULT_RISK_POLICY;
  }

  /** The latest content of every document that is not retired. */
  async activeDocuments(): Promise<ConfigDocument[]> {
    const latest = await this.store.latestVersions();
    return latest.flatMap((version) => (version.document === null ? [] : [version.document]));
  }

  /** Changes, newest first, at most `limit` (the store's maximum applies); optionally one state. */
  async list(options: {
    readonly state?: ChangeRequest["state"];
    readonly limit: number;
  }): Promise<readonly ChangeRequest[]> {
    return this.store.listChanges(options);
  }

  async show(id: string): Promise<ChangeRequest | undefined> {
    return (await this.store.getChange(id))?.change;
  }

  async create(author: Principal, title: string, edits: readonly ChangeEdit[]): Promise<Outcome> {
    const base = baseVersionsOf(edits, await this.latestLookup(edits));
    if (!base.ok) return base;
    const created = createChange({
      id: await this.store.nextChangeId(),
      title,
      author,
      edits,
      baseVersions: base.baseVersions,
      contentHash: contentHashOf(edits),
      at: this.now(),
    });
    if (!created.ok) return created;
    return this.write(created.change, 0, [], author, "change.created", null, {
      edits: edits.length,
    });
  }

  async edit(editor: Principal, id: string, edits: readonly ChangeEdit[]): Promise<Outcome> {
    return this.act(id, async (change) => {
      const base = baseVersionsOf(edits, await this.latestLookup(edits));
      if (!base.ok) return { result: base };
      const contentHash = contentHashOf(edits);
      const edited = editChange(
        change,
        editor,
        { edits, baseVersions: base.baseVersions, contentHash },
        this.now(),
      );
      return {
        result: edited,
        actor: editor,
        action: "change.edited",
        details: { edits: edits.length },
      };
    });
  }

  /** Runs lint and simulation on the change against what is active now, then sends it to review. */
  async submit(
    author: Principal,
    id: string,
    acknowledgements: readonly Acknowledgement[],
  ): Promise<Outcome> {
    return this.act(id, async (change) => {
      const allowed = checkSubmitter(change, author);
      if (!allowed.ok) return { result: allowed };
      const latest = await this.store.latestVersions();
      const current = latest.flatMap((version) =>
        version.document === null ? [] : [version.document],
      );
      const proposed = applyEdits(current, change.edits);
      const found = await this.assess({ current, proposed });
      const currentCampaigns = resolveConfig(sourced(current)).config.campaigns;
      const proposedCampaigns = resolveConfig(sourced(proposed)).config.campaigns;
      const diff = diffChange(current, proposed, currentCampaigns, proposedCampaigns);
      const risk = assessRisk(
        diff,
        currentCampaigns,
        proposedCampaigns,
        found.money,
        this.riskPolicy,
      );
      const assessment = {
        findings: found.findings,
        diff,
        risk,
        ...(found.forecast === undefined
          ? {}
          : { forecast: touchedForecast(found.forecast, diff) }),
        ...(found.simulation === undefined ? {} : { simulation: found.simulation }),
        ...(found.sample === undefined ? {} : { sample: found.sample }),
        assessedAgainst: versionsHashOf(latest),
        ...(found.money === undefined
          ? {}
          : {
              currentSubsidyPerHourMinor: found.money.currentSubsidyPerHourMinor,
              proposedSubsidyPerHourMinor: found.money.proposedSubsidyPerHourMinor,
            }),
      };
      const at = this.now();
      const submitted = submitChange(change, author, assessment, acknowledgements, at);
      if (!submitted.ok) {
        // Refused at the lint gate, the assessment stays on the draft for everyone who reads it:
        // the administrators asked to force the gate must see the findings and the money first.
        const kept = keepRefusedAssessment(change, assessment, submitted, at);
        return { result: submitted, ...(kept === undefined ? {} : { keep: kept }) };
      }
      const details: AuditDetails = {
        risk: risk.level,
        errors: found.findings.filter((finding) => finding.severity === "error").length,
        warnings: found.findings.filter((finding) => finding.severity === "warning").length,
        approvedByPolicy: submitted.change.state === "approved",
      };
      return { result: submitted, actor: author, action: "change.submitted", details };
    });
  }

  async approve(reviewer: Principal, id: string, contentHash: string): Promise<Outcome> {
    return this.act(id, async (change) => ({
      result: approveChange(change, reviewer, contentHash, this.now()),
      actor: reviewer,
      action: "change.approved",
    }));
  }

  async reject(reviewer: Principal, id: string, reason: string): Promise<Outcome> {
    return this.act(id, async (change) => ({
      result: rejectChange(change, reviewer, reason, this.now()),
      actor: reviewer,
      action: "change.rejected",
      reason,
    }));
  }

  async force(admin: Principal, id: string, gate: string, reason: string): Promise<Outcome> {
    return this.act(id, async (change) => {
      const result = forceGate(change, admin, gate, reason, this.now());
      const completed = result.ok && result.change.forced.length > change.forced.length;
      return {
        result,
        actor: admin,
        action: completed ? "change.forced" : "change.force_requested",
        reason,
        details: { gate },
      };
    });
  }

  /** Writes the change's versions and starts its first stage. One change rolls out at a time. */
  async startRollout(operator: Principal, id: string, plan?: RolloutPlan): Promise<Outcome> {
    const inProgress = async (): Promise<ChangeRefusal | undefined> => {
      const [rolling] = await this.store.listChanges({ state: "rolling_out", limit: 1 });
      return rolling === undefined || rolling.id === id
        ? undefined
        : refuse(
            "rollout_in_progress",
            `${rolling.id} is rolling out; finish or roll it back first`,
          );
    };
    const before = await inProgress();
    if (before !== undefined) return before;
    const started = await this.act(id, async (change) => {
      const assessedAgainst = change.assessment?.assessedAgainst;
      if (
        assessedAgainst !== undefined &&
        assessedAgainst !== versionsHashOf(await this.store.latestVersions())
      ) {
        return {
          result: refuse(
            "assessment_outdated",
            `the active configuration changed since ${change.id} was assessed; edit it and submit it again`,
          ),
        };
      }
      const written = versionsWrittenBy(
        change,
        await this.latestLookup(change.edits),
        contentHashOf,
      );
      if (!written.ok) return { result: written };
      const chosen =
        plan ?? defaultRolloutPlan(change.assessment?.proposedSubsidyPerHourMinor ?? 0);
      const problems = checkRolloutPlan(chosen);
      if (problems.length > 0) {
        return { result: refuse("invalid_rollout_plan", problems.join("; ")) };
      }
      const result = startRollout(change, operator, chosen, written.versions, this.now());
      return {
        result,
        actor: operator,
        action: "change.rollout_started",
        versions: written.versions,
        details: { stages: chosen.stages.length },
      };
    });
    // Another rollout started between the check and the write: the store refused this one.
    if (!started.ok && started.code === "concurrent_update") return (await inProgress()) ?? started;
    return started;
  }

  /** Adds what the current stage saw (payments of identities in its buckets) since the last report. */
  async observe(id: string, seen: StageObservation, firstSeenAt: string): Promise<Outcome> {
    return this.act(id, async (change) => {
      if (change.state !== "rolling_out") {
        return {
          result: refuse("illegal_transition", `${id} is ${change.state}, not rolling out`),
        };
      }
      return { result: { ok: true, change: observeStage(change, seen, firstSeenAt) } };
    });
  }

  /**
   * Judges the current stage against the forecast: holds, advances, completes, or aborts and
   * rolls the change back. The system acts here, so the audit names it as the actor.
   */
  async judge(
    id: string,
  ): Promise<ChangeResult<{ change: ChangeRequest; verdict: RolloutVerdict }>> {
    let verdict: RolloutVerdict | undefined;
    const outcome = await this.act(id, async (change) => {
      const rollout = change.rollout;
      if (change.state !== "rolling_out" || rollout === undefined) {
        return {
          result: refuse("illegal_transition", `${id} is ${change.state}, not rolling out`),
        };
      }
      const forecast = change.assessment?.forecast ?? {
        subsidyPerPaymentMilliMinor: 0,
        subsidisedShareBps: 0,
      };
      const ageMs = Date.parse(this.now()) - Date.parse(rollout.stageStartedAt);
      verdict = judgeStage(rollout.plan, rollout.stageIndex, ageMs, rollout.observation, forecast);
      const system: Principal = { id: "system:rollout", roles: [] };
      if (verdict.verdict === "hold") return { result: { ok: true, change } };
      if (verdict.verdict === "advance" || verdict.verdict === "complete") {
        return {
          result: advanceStage(change, this.now()),
          actor: system,
          action: verdict.verdict === "complete" ? "change.activated" : "change.stage_advanced",
          details: { stage: rollout.stageIndex + 1, verdict: verdict.verdict },
        };
      }
      const undo = await this.undoVersions(change);
      if (!undo.ok) return { result: undo };
      return {
        result: abortRollout(change, `${verdict.verdict}: ${verdict.message}`, this.now()),
        actor: system,
        action: "change.aborted",
        reason: verdict.message,
        versions: undo.versions,
        details: { stage: rollout.stageIndex + 1, verdict: verdict.verdict },
      };
    });
    if (!outcome.ok) return outcome;
    return { ok: true, change: outcome.change, verdict: verdict! };
  }

  /** One operator rolls a change back: new versions equal to the content before it. */
  async rollBack(operator: Principal, id: string, reason: string): Promise<Outcome> {
    return this.act(id, async (change) => {
      const result = rollBackChange(change, operator, reason, this.now());
      if (!result.ok) return { result };
      const undo = await this.undoVersions(change);
      if (!undo.ok) return { result: undo };
      return {
        result,
        actor: operator,
        action: "change.rolled_back",
        reason,
        versions: undo.versions,
      };
    });
  }

  /**
   * An operator lowers a campaign's or program's limits: effective at once, one person, a
   * reason, audited as `budget.lowered` with each limit before and after. Refused unless the
   * new content only lowers (`loweredLimits`).
   */
  async lowerLimits(
    operator: Principal,
    document: ConfigDocument,
    reason: string,
  ): Promise<Outcome> {
    const key = documentKeyOf(document);
    const latest = await this.store.latestVersion(key);
    if (latest?.document == null) return refuse("document_not_found", `${key} is not active`);
    const lowering = loweredLimits(latest.document, document);
    if (!lowering.ok) return lowering;
    const lowered = lowering.lowered.map((limit) => ({
      field: limit.field,
      beforeMinor: limit.beforeMinor ?? null,
      afterMinor: limit.afterMinor,
    }));
    return this.operatorAction(
      "lower_limits",
      operator,
      latest,
      document,
      reason,
      "budget.lowered",
      { document: key, lowered },
    );
  }

  /**
   * An operator pauses a running campaign: it grants nothing from the next snapshot on. One
   * person and a reason; audited as `campaign.paused`. Resuming is a change request.
   */
  async pause(operator: Principal, campaignId: string, reason: string): Promise<Outcome> {
    const key: DocumentKey = `campaign/${campaignId}`;
    const latest = await this.store.latestVersion(key);
    if (latest?.document == null) return refuse("document_not_found", `${key} is not active`);
    const paused = { ...latest.document, paused: true } as ConfigDocument;
    const check = pausedCampaign(latest.document, paused);
    if (!check.ok) return check;
    return this.operatorAction("pause", operator, latest, paused, reason, "campaign.paused", {
      document: key,
    });
  }

  /** Writes an operator's action as a new version of one document, born active, and audits it. */
  private async operatorAction(
    kind: OperatorActionKind,
    operator: Principal,
    latest: DocumentVersion,
    document: ConfigDocument,
    reason: string,
    action: AuditAction,
    details: AuditDetails,
  ): Promise<Outcome> {
    // A document a rolling-out change wrote is served in two versions at once; a third written
    // over it would reach only the rollout's identities and leave the rollout unable to abort.
    // Rolling the change back is one step, after which the action applies to everyone.
    const [rolling] = await this.store.listChanges({ state: "rolling_out", limit: 1 });
    if (rolling?.written.some((version) => version.key === latest.key)) {
      return refuse(
        "rollout_in_progress",
        `${latest.key} is rolling out in ${rolling.id}; roll that change back first (one step), then act on it`,
      );
    }
    const edits: ChangeEdit[] = [{ op: "put", document }];
    const baseVersions = { [latest.key]: latest.version };
    const id = await this.store.nextChangeId();
    const written = versionsWrittenBy({ id, edits, baseVersions }, () => latest, contentHashOf);
    if (!written.ok) return written;
    const recorded = recordOperatorAction({
      kind,
      id,
      operator,
      edits,
      baseVersions,
      contentHash: contentHashOf(edits),
      written: written.versions,
      reason,
      at: this.now(),
    });
    if (!recorded.ok) return recorded;
    return this.write(recorded.change, 0, written.versions, operator, action, reason, details);
  }

  /** What evaluators serve now: stable versions, and the rolling-out change for its share. */
  async servingConfiguration(): Promise<ServingConfiguration> {
    // Two reads, not one snapshot: the rolling change, then every latest version. They agree
    // when the versions the change wrote are the latest of their documents and the change is
    // still rolling out at the same stage afterwards; a rollout that ended or began in between
    // shows as a disagreement, and the reads are taken again.
    for (let attempt = 1; attempt <= SERVING_READ_ATTEMPTS; attempt += 1) {
      const [rolling] = await this.store.listChanges({ state: "rolling_out", limit: 1 });
      const latest = await this.store.latestVersions();
      const [after] = await this.store.listChanges({ state: "rolling_out", limit: 1 });
      if (after?.id !== rolling?.id || after?.rollout?.stageIndex !== rolling?.rollout?.stageIndex)
        continue;
      const documents = latest.flatMap((version) =>
        version.document === null ? [] : [version.document],
      );
      const latestByKey = new Map(latest.map((version) => [version.key, version.version]));
      if (rolling?.rollout === undefined) return { stable: documents, stableVersions: latestByKey };
      if (rolling.written.some((version) => latestByKey.get(version.key) !== version.version))
        continue;
      const written = new Set<DocumentKey>(rolling.written.map((version) => version.key));
      const prior = await Promise.all(
        rolling.written
          .filter((version) => version.version > 1)
          .map((version) => this.store.version(version.key, version.version - 1)),
      );
      const stable = [
        ...documents.filter((document) => !written.has(`${document.kind}/${document.id}`)),
        ...prior.flatMap((version) => (version?.document == null ? [] : [version.document])),
      ];
      const stableVersions = new Map(latestByKey);
      for (const version of rolling.written) {
        if (version.version > 1) stableVersions.set(version.key, version.version - 1);
        else stableVersions.delete(version.key);
      }
      const shareBps = rolling.rollout.plan.stages[rolling.rollout.stageIndex]!.shareBps;
      const watchedCampaignIds = (rolling.assessment?.forecast?.byCampaign ?? []).map(
        (campaign) => campaign.campaignId,
      );
      return {
        stable,
        stableVersions,
        rollout: {
          changeId: rolling.id,
          shareBps,
          documents,
          versions: latestByKey,
          watchedCampaignIds,
        },
      };
    }
    throw new Error(`the configuration kept changing over ${SERVING_READ_ATTEMPTS} reads`);
  }

  private async undoVersions(
    change: ChangeRequest,
  ): Promise<ChangeResult<{ versions: DocumentVersion[] }>> {
    const latest = new Map<DocumentKey, DocumentVersion | undefined>();
    const prior = new Map<string, DocumentVersion | undefined>();
    for (const written of change.written) {
      latest.set(written.key, await this.store.latestVersion(written.key));
      if (written.version > 1) {
        prior.set(
          `${written.key}@${written.version - 1}`,
          await this.store.version(written.key, written.version - 1),
        );
      }
    }
    return versionsUndoing(
      change,
      rollbackWriterId(change.id),
      (key) => latest.get(key),
      (key, version) => prior.get(`${key}@${version}`),
      contentHashOf,
    );
  }

  private async latestLookup(edits: readonly ChangeEdit[]) {
    const latest = new Map<DocumentKey, DocumentVersion | undefined>();
    for (const edit of edits)
      latest.set(keyOfEdit(edit), await this.store.latestVersion(keyOfEdit(edit)));
    return (key: DocumentKey) => latest.get(key);
  }

  /**
   * Reads the change, lets `step` decide, writes the result with its versions, and audits it.
   * A refusal writes nothing, except what `step` asks to `keep` of it (a submission refused at
   * the lint gate keeps its assessment).
   */
  private async act(
    id: string,
    step: (change: ChangeRequest) => Promise<{
      result: Outcome;
      keep?: ChangeRequest;
      actor?: Principal;
      action?: AuditAction;
      reason?: string;
      versions?: readonly DocumentVersion[];
      details?: AuditDetails;
    }>,
  ): Promise<Outcome> {
    const stored = await this.store.getChange(id);
    if (stored === undefined) return refuse("not_found", `no change request ${id}`);
    const { result, keep, actor, action, reason, versions, details } = await step(stored.change);
    if (!result.ok) {
      if (keep !== undefined) {
        // Not audited: a refusal moves nothing, and what it keeps is derived (lint and the
        // simulation, as a stage's observations are) and voided by any edit. Another action
        // written meanwhile (an administrator's force request) wins over it; the refusal is the
        // answer either way, and the author's next submission assesses the change again.
        await this.store.writeChange(keep, stored.revision, [], undefined);
      }
      return result;
    }
    if (actor === undefined || action === undefined) {
      // Observations and held verdicts: runtime bookkeeping, not actions anyone took.
      return this.written(
        await this.store.writeChange(result.change, stored.revision, [], undefined),
        result,
      );
    }
    return this.write(
      result.change,
      stored.revision,
      versions ?? [],
      actor,
      action,
      reason ?? null,
      details ?? {},
    );
  }

  private async write(
    change: ChangeRequest,
    expectedRevision: number,
    versions: readonly DocumentVersion[],
    actor: Principal,
    action: AuditAction,
    reason: string | null,
    details: AuditDetails,
  ): Promise<Outcome> {
    const audit = {
      at: change.updatedAt,
      actor: actor.id,
      action,
      subject: `change/${change.id}`,
      contentHash: change.contentHash,
      reason,
      details: { ...details, state: change.state, versions: versions.length },
    };
    return this.written(await this.store.writeChange(change, expectedRevision, versions, audit), {
      ok: true,
      change,
    });
  }

  private written(result: ChangeWriteResult, outcome: Extract<Outcome, { ok: true }>): Outcome {
    if (result.ok) return outcome;
    // The audit log's limits match the change's own (reasons, ids), so a refusal is a bug.
    if (result.code === "audit_refused")
      throw new Error(`the audit log refused an entry: ${result.message}`);
    return refuse("concurrent_update", `${outcome.change.id}: ${result.message}; read it again`);
  }
}

/**
 * The forecast a rollout is judged on: the whole configuration's, and each campaign the change
 * starts or changes on its own — a forecast of nothing for one that granted nothing in the sample.
 */
function touchedForecast(forecast: RolloutForecast, diff: ChangeDiff): RolloutForecast {
  const byId = new Map(
    (forecast.byCampaign ?? []).map((campaign) => [campaign.campaignId, campaign]),
  );
  const byCampaign = diff.campaigns
    .filter((effect) => effect.operation !== "stop")
    .map(
      (effect) =>
        byId.get(effect.campaignId) ?? {
          campaignId: effect.campaignId,
          subsidyPerPaymentMilliMinor: 0,
          subsidisedShareBps: 0,
        },
    );
  return {
    subsidyPerPaymentMilliMinor: forecast.subsidyPerPaymentMilliMinor,
    subsidisedShareBps: forecast.subsidisedShareBps,
    byCampaign,
  };
}

/** One hash for the versions of every document: any change anywhere changes it. */
function versionsHashOf(versions: readonly DocumentVersion[]): string {
  return contentHashOf(versions.map((version) => `${version.key}@${version.version}`).sort());
}

/** The active documents with a change's edits applied. */
export function applyEdits(
  current: readonly ConfigDocument[],
  edits: readonly ChangeEdit[],
): ConfigDocument[] {
  const byKey = new Map(current.map((document) => [`${document.kind}/${document.id}`, document]));
  for (const edit of edits) {
    if (edit.op === "put") byKey.set(keyOfEdit(edit), edit.document);
    else byKey.delete(edit.key);
  }
  return [...byKey.values()];
}

function sourced(documents: readonly ConfigDocument[]) {
  return documents.map((document) => ({ source: `${document.kind}/${document.id}`, document }));
}
