/**
 * What the runtime guard's and the responder's tests share: the examples as a change-pipeline
 * world on memory stores and a virtual clock (imported the way src/demo/guarded-world.ts
 * imports them: a change, assessed, approved by two reviewers, rolled out in two stages over
 * synthetic traffic until it is active), changes made on top of it (forced past lint and
 * approval by two administrators, or approved by two reviewers), and the serving
 * configuration's effective campaign versions as the evaluators see them.
 */
import { lintAndSimulate } from "../../src/control/assess-proposal.ts";
import {
  type AssessProposal,
  ChangeService,
  type ProposalFindings,
} from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import { RolloutRunner } from "../../src/control/rollout-runner.ts";
import type { Principal } from "../../src/core/change/change-request.ts";
import type { ChangeEdit } from "../../src/core/change/document-versions.ts";
import type { RolloutPlan } from "../../src/core/change/rollout.ts";
import type { Snapshot, SnapshotCampaign } from "../../src/core/evaluator/snapshot.ts";
import type { ExternalCampaign } from "../../src/core/guard/proposal-input.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { GuardResponder } from "../../src/guard/guard-responder.ts";
import { IncidentService } from "../../src/guard/incident-service.ts";
import { MemoryIncidentStore } from "../../src/guard/memory-incident-store.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";

export const AUTHOR: Principal = { id: "ops.li", roles: ["author"] };
export const REVIEWERS: readonly Principal[] = [
  { id: "risk.wang", roles: ["reviewer"] },
  { id: "finance.zhao", roles: ["reviewer"] },
];
export const ADMINS: readonly Principal[] = [
  { id: "admin.chen", roles: ["admin"] },
  { id: "admin.liu", roles: ["admin"] },
];
export const OPERATOR: Principal = { id: "ops.oncall", roles: ["operator"] };
export const GUARD: Principal = { id: "guard", roles: ["operator"] };

/** 2025-01-16 14:40:00 Beijing time. */
export const START_MS = Date.parse("2025-01-16T06:40:00.000Z");

/**
 * A partner engine's campaign registered for guard mode, with a ceiling of 1,200 yuan a minute;
 * it normally spends about 600 (the guard-mode trip tests drive it far past).
 */
export const FLASH_EXTERNAL_CAMPAIGN: ExternalCampaign = {
  campaignRef: "partner-flash",
  funding: "platform",
  label: "instant_discount",
  scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
  spendPerMinuteMaxMinor: 120_000,
};
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** The assessments' sample and the import's traffic. */
const SAMPLE_SECONDS = 90;

/** Two stages (10 % for a minute, then everyone), as the demo imports the examples. */
export const TWO_STAGES: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 100,
};

export function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

/** Synthetic traffic, 200 payments a second. */
export function traffic(seed: number, startMs: number, seconds: number): Iterable<Payment> {
  const created = TrafficGenerator.create({ seed, tps: 200, seconds, startMs });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return created.generator;
}

/** The change pipeline, kills and incidents on memory stores sharing one audit log and clock. */
export class PipelineWorld {
  readonly clock = { nowMs: START_MS };
  readonly audit = new MemoryAuditLogStore();
  readonly service: ChangeService;
  readonly kills = new MemoryKillStore(this.audit);
  readonly incidents: IncidentService;
  private readonly assessments: ProposalFindings[] = [];
  /** Where the assessments' sample of traffic starts: when the examples were imported. */
  private sampleStartMs = START_MS;

  private constructor(readonly documents: readonly ConfigDocument[]) {
    const assess = lintAndSimulate({
      // The traffic the import is then judged on (as the rollout runner's tests do): a forecast
      // from another hour would not match what the stages see (campaigns keep hours).
      payments: () => traffic(7, this.sampleStartMs, SAMPLE_SECONDS),
      currency: "CNY",
      sample: "synthetic traffic, 90 seconds",
      randomSeed: 7,
      nowMs: () => this.clock.nowMs,
    });
    const recording: AssessProposal = async (proposal) => {
      const found = await assess(proposal);
      this.assessments.push(found);
      return found;
    };
    this.service = new ChangeService({
      store: new MemoryChangeStore(this.audit),
      assess: recording,
      now: () => new Date(this.clock.nowMs).toISOString(),
    });
    this.incidents = new IncidentService({
      store: new MemoryIncidentStore(this.audit),
      nowMs: () => this.clock.nowMs,
    });
  }

  /** The examples imported and active, `importedAgoMs` before START_MS; the clock at START_MS. */
  static async withExamples(importedAgoMs = 2 * HOUR_MS): Promise<PipelineWorld> {
    const world = new PipelineWorld(await exampleDocuments());
    world.clock.nowMs = START_MS - importedAgoMs;
    world.sampleStartMs = world.clock.nowMs;
    world.importId = await world.importExamples();
    world.clock.nowMs = START_MS;
    return world;
  }

  /** The change that imported the examples. */
  importId = "";

  responder(options: { recentChangeMs?: number; actor?: Principal } = {}): GuardResponder {
    return new GuardResponder({
      changes: this.service,
      kills: this.kills,
      incidents: this.incidents,
      nowMs: () => this.clock.nowMs,
      actor: options.actor ?? GUARD,
      ...(options.recentChangeMs === undefined ? {} : { recentChangeMs: options.recentChangeMs }),
    });
  }

  /**
   * A change forced past lint and approval by two administrators, as on 2025-01-16, then its
   * rollout started with `plan`. Returns its id.
   */
  async forcedRollout(title: string, edits: readonly ChangeEdit[], plan: RolloutPlan) {
    const id = ok(await this.service.create(AUTHOR, title, edits)).change.id;
    const reason = "campaign launch deadline; the edit was checked by hand";
    for (const gate of ["lint", "approval"]) {
      for (const admin of ADMINS) {
        this.clock.nowMs += MINUTE_MS;
        ok(await this.service.force(admin, id, gate, reason));
      }
    }
    ok(await this.service.submit(AUTHOR, id, []));
    this.clock.nowMs += MINUTE_MS;
    ok(await this.service.startRollout(OPERATOR, id, plan));
    return id;
  }

  /** A change submitted (its new warnings acknowledged) and approved by two reviewers. */
  async approved(title: string, edits: readonly ChangeEdit[]): Promise<string> {
    const id = ok(await this.service.create(AUTHOR, title, edits)).change.id;
    await this.submitAcknowledging(id);
    for (const reviewer of REVIEWERS) {
      const latest = (await this.service.show(id))!;
      if (latest.state !== "in_review") break;
      this.clock.nowMs += MINUTE_MS;
      ok(await this.service.approve(reviewer, id, latest.contentHash));
    }
    return id;
  }

  /**
   * Starts an approved change's rollout and plays the assessments' traffic until it is active
   * (the clock must be at the sample's start).
   */
  private async activate(id: string): Promise<void> {
    ok(await this.service.startRollout(OPERATOR, id, TWO_STAGES));
    const runner = await RolloutRunner.open(this.service, { randomSeed: 7, judgeEveryMs: 5_000 });
    for (const payment of traffic(7, this.sampleStartMs, SAMPLE_SECONDS)) {
      this.clock.nowMs = payment.atMs;
      if (runner.isReportDue(payment.atMs)) {
        await runner.report(payment.atMs);
        if ((await this.service.show(id))?.state === "active") return;
      }
      runner.quote(payment);
    }
    throw new Error(`${id} did not become active: ${(await this.service.show(id))?.state}`);
  }

  /** What the evaluators serve now: the stable snapshot and the rolling-out one, if any. */
  async serving(): Promise<{ stable: Snapshot; rollout?: Snapshot }> {
    const runner = await RolloutRunner.open(this.service, { randomSeed: 7, judgeEveryMs: 5_000 });
    const { stable, rollout } = runner.snapshots();
    if (stable === undefined) throw new Error("nothing is served");
    return { stable, ...(rollout === undefined ? {} : { rollout: rollout.snapshot }) };
  }

  /** The latest stored content of one document. */
  async latest(kind: string, id: string): Promise<ConfigDocument | undefined> {
    return (await this.service.activeDocuments()).find(
      (document) => document.kind === kind && document.id === id,
    );
  }

  private async importExamples(): Promise<string> {
    const id = ok(
      await this.service.create(
        AUTHOR,
        "configuration in force before 2025-01-16",
        this.documents.map((document) => ({ op: "put" as const, document })),
      ),
    ).change.id;
    const change = (await this.service.show(id))!;
    await this.submitAcknowledging(change.id);
    for (const reviewer of REVIEWERS) {
      const latest = (await this.service.show(id))!;
      if (latest.state !== "in_review") break;
      ok(await this.service.approve(reviewer, id, latest.contentHash));
    }
    await this.activate(id);
    return id;
  }

  /** Submits; if warnings stand in the way, acknowledges them once and submits again. */
  private async submitAcknowledging(id: string): Promise<void> {
    const submitted = await this.service.submit(AUTHOR, id, []);
    if (submitted.ok) return;
    const warnings = (this.assessments[this.assessments.length - 1]?.findings ?? []).filter(
      (finding) => finding.severity === "warning",
    );
    ok(
      await this.service.submit(
        AUTHOR,
        id,
        warnings.map((finding) => ({
          findingKey: finding.key,
          reason: "reviewed when the change was written",
          byId: AUTHOR.id,
        })),
      ),
    );
  }
}

/** One campaign of a snapshot, by id. */
export function campaignOf(
  snapshot: Pick<Snapshot, "campaigns">,
  campaignId: string,
): SnapshotCampaign {
  const found = snapshot.campaigns.find((effective) => effective.campaign.id === campaignId);
  if (found === undefined) throw new Error(`the snapshot has no campaign ${campaignId}`);
  return found;
}
