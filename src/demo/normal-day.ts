/**
 * A normal day under the guard (issue 7's "no false trips" target): 24 simulated hours of
 * ordinary traffic over the example campaigns, with a legitimate festival launch at 20:00 —
 * authored, assessed by the real lint and simulation on traffic shaped like the hour it opens
 * in, approved by two reviewers and rolled out by the default staged plan — watched by the
 * runtime guard from the first payment to the last. A guard that trips on such a day gets
 * switched off; this run counts every trip so a test can demand none.
 *
 * Everything is production code (the change service, the rollout runner, the guard) on memory
 * stores and a virtual clock; only the traffic is modelled. The pattern is `GuardedWorld`'s,
 * without the forced change, the responder, the ledger and the kill propagation, none of which
 * a day without trips exercises.
 */
import { join } from "node:path";
import { loadConfig } from "../config/load-config.ts";
import { lintAndSimulate } from "../control/assess-proposal.ts";
import { ChangeService, type ProposalFindings } from "../control/change-service.ts";
import { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../control/memory-change-store.ts";
import { type RolloutEvent, RolloutRunner } from "../control/rollout-runner.ts";
import type { ChangeRequest, Principal } from "../core/change/change-request.ts";
import type { RolloutForecast, RolloutPlan } from "../core/change/rollout.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import type { Campaign } from "../core/model/campaign.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Template } from "../core/model/template.ts";
import { offsetMsAt } from "../core/time-zone.ts";
import type { GuardServing } from "../guard/runtime-guard.ts";
import { RuntimeGuard } from "../guard/runtime-guard.ts";
import { curveWeight } from "../traffic/arrival-clock.ts";
import { TrafficGenerator } from "../traffic/traffic-generator.ts";
import { TRAFFIC_TIME_ZONE } from "../traffic/traffic-model.ts";

const AUTHOR: Principal = { id: "mkt.zhou", roles: ["author"] };
const REVIEWERS: readonly Principal[] = [
  { id: "risk.wang", roles: ["reviewer"] },
  { id: "finance.zhao", roles: ["reviewer"] },
];
const OPERATOR: Principal = { id: "ops.oncall", roles: ["operator"] };

const HOUR_MS = 3_600_000;

/**
 * The day's traffic curve, relative weight per local hour 0–23 (read at each hour's midpoint,
 * linear in between, as the generator reads any curve). Issue 7 asks for "peaks five times
 * higher" than the mean: this is the traffic model's curve (HOURLY_WEIGHTS) sharpened, keeping
 * its shape — a night trough at 04:00, a morning rush at 08:00, lunch at 12:00, an afternoon
 * lull and the evening peak at 19:00 — with a commute bump the model lacks. The weights sum to
 * 2,880 (a mean of 120), and the 19:00–20:00 hour carries (260 + 6 × 710 + 280) / 8 = 600, five
 * times the mean: 1,000 payments/s at a mean of 200. Lunch is about 2× the mean, the morning
 * rush 1.1×, the 04:00 trough 0.05× (10 payments/s).
 */
export const NORMAL_DAY_HOURLY_WEIGHTS: readonly number[] = Object.freeze([
  46, 20, 10, 6, 5, 8, 25, 80, 150, 100, 70, 120, 280, 150, 70, 55, 60, 100, 260, 710, 280, 140, 80,
  55,
]);

export const NORMAL_DAY_DEFAULTS = {
  seed: 20_250_116,
  /** The day's mean; NORMAL_DAY_HOURLY_WEIGHTS shapes it (the 19:00 hour is 5× the mean). */
  tps: 200,
  seconds: 86_400,
  /** 2025-01-16T00:00:00+08:00. */
  startMs: Date.parse("2025-01-16T00:00:00+08:00"),
  /** 20:00 local time: the festival's rollout starts as its schedule opens. */
  festivalAtMs: Date.parse("2025-01-16T20:00:00+08:00"),
  /** The guard checks its monitors every 100 ms of payment time, as in the replay. */
  checkEveryMs: 100,
  /** The runner reports the stage and reloads what it serves every 10 s, as in the replay. */
  judgeEveryMs: 10_000,
  /** The festival's assessment simulates ten minutes of traffic from the hour it opens. */
  sampleSeconds: 600,
} as const;

export const NORMAL_DAY_LIMITS = {
  /** The generator's own ceiling, at 200 payments/s: a week. */
  secondsMax: 604_800,
  tpsMax: 50_000,
  checkEveryMsMax: 1_000,
} as const;

/** The festival's documents: a template and one nationwide campaign. */
export const FESTIVAL_TEMPLATE_ID = "festival-percent-off";
export const FESTIVAL_CAMPAIGN_ID = "fest-newyear-online-evening";

/**
 * The Lunar New Year goods festival (年货节) opens nationwide at 20:00 on 2025-01-16: 8 % off
 * online checkout from 30 yuan, at most 12 yuan a payment, platform-funded, one payment per user
 * per day. Its ceiling is declared like the examples' (at 10,000 payments/s, see
 * docs/reference/guard.md "No false trips"), with room for its own 20:00 peak.
 */
export function festivalDocuments(): ConfigDocument[] {
  const template: Template = {
    kind: "template",
    id: FESTIVAL_TEMPLATE_ID,
    name: "Festival percentage off online checkout, capped per payment (platform-funded)",
    currency: "CNY",
    offer: { kind: "percent", rateBps: 800, capMinor: 1_200 },
    bands: { rateBps: { min: 300, max: 1_500 }, capMinor: { min: 500, max: 3_000 } },
    funding: { source: "platform" },
    label: "instant_discount",
    allowedScenarios: ["online_checkout"],
  };
  const campaign: Campaign = {
    kind: "campaign",
    id: FESTIVAL_CAMPAIGN_ID,
    name: "New Year goods festival: 8 % off online checkout, evening launch",
    template: FESTIVAL_TEMPLATE_ID,
    currency: "CNY",
    scope: {
      scenarios: ["online_checkout"],
      regions: MAINLAND_REGIONS,
      // New Year goods: department stores, gifts and speciality goods, cosmetics, toys. Not
      // electronics or apparel, whose percentage offers it would otherwise compound with.
      merchantCategories: ["5311", "5999", "5977", "5945"],
      channels: ["app", "mini_program", "h5"],
      amountRange: { minMinor: 3_000 },
    },
    schedule: {
      timeZone: "Asia/Shanghai",
      start: "2025-01-16T20:00",
      end: "2025-01-27T00:00",
    },
    limits: {
      totalBudgetMinor: 2_000_000_000,
      dailyBudgetMinor: 300_000_000,
      spendPerMinuteMaxMinor: FESTIVAL_CEILING_PER_MINUTE_MINOR,
      perUser: { countPerDay: 1, amountPerDayMinor: 1_200 },
    },
    stacking: { exclusiveGroup: "festival-2025-newyear", priority: 5 },
    display: { title: "年货节 线上付款92折 最高减12元" },
  };
  return [template, campaign];
}

/** 1,200,000 yuan a minute (see festivalDocuments). */
const FESTIVAL_CEILING_PER_MINUTE_MINOR = 120_000_000;

const MAINLAND_REGIONS = [
  "CN-AH",
  "CN-BJ",
  "CN-CQ",
  "CN-FJ",
  "CN-GD",
  "CN-GS",
  "CN-GX",
  "CN-GZ",
  "CN-HA",
  "CN-HB",
  "CN-HE",
  "CN-HI",
  "CN-HL",
  "CN-HN",
  "CN-JL",
  "CN-JS",
  "CN-JX",
  "CN-LN",
  "CN-NM",
  "CN-NX",
  "CN-QH",
  "CN-SC",
  "CN-SD",
  "CN-SH",
  "CN-SN",
  "CN-SX",
  "CN-TJ",
  "CN-XJ",
  "CN-XZ",
  "CN-YN",
  "CN-ZJ",
] as Campaign["scope"]["regions"];

/** The examples directory's documents, valid and resolved, as the configuration in force. */
export async function loadExampleDocuments(
  directory = join(import.meta.dirname, "..", "..", "examples"),
): Promise<ConfigDocument[]> {
  const loaded = await loadConfig([directory]);
  const error = loaded.findings.find((finding) => finding.severity === "error");
  if (error !== undefined) throw new Error(`the examples do not validate: ${error.message}`);
  const { config } = loaded;
  return [
    ...config.templates.values(),
    ...config.programs.values(),
    ...config.campaigns.map((effective) => effective.campaign),
    ...(config.envelope === undefined ? [] : [config.envelope]),
  ];
}

export interface NormalDayOptions {
  readonly examples: readonly ConfigDocument[];
  readonly seed?: number;
  readonly tps?: number;
  readonly seconds?: number;
  readonly startMs?: number;
  /** The daily curve of the day and of every assessment's sample: NORMAL_DAY_HOURLY_WEIGHTS. */
  readonly hourlyWeights?: readonly number[];
  /** The festival's documents and when its rollout starts; none: a day without a change. */
  readonly festival?: {
    readonly documents: readonly ConfigDocument[];
    readonly atMs: number;
    /** Absent: the default staged plan from the change's forecast. */
    readonly plan?: RolloutPlan;
  };
  readonly checkEveryMs?: number;
  /** Told the simulated milliseconds done of the total and the payments so far, each minute. */
  readonly onProgress?: (doneMs: number, totalMs: number, payments: number) => void;
}

export interface FestivalOutcome {
  readonly changeId: string;
  /** The change's state at the end of the day: `active` when its rollout completed. */
  readonly state: ChangeRequest["state"];
  readonly approvals: readonly string[];
  readonly risk: string;
  readonly lintErrors: number;
  readonly lintWarnings: number;
  readonly forecast: RolloutForecast | undefined;
  readonly proposedSubsidyPerHourMinor: number | undefined;
  readonly currentSubsidyPerHourMinor: number | undefined;
  readonly plan: RolloutPlan | undefined;
  /** Every verdict that moved the change, in order. */
  readonly rolloutEvents: readonly RolloutEvent[];
  /** Payments the festival's campaigns subsidised over the day, and how much. */
  readonly grants: { readonly payments: number; readonly subsidyMinor: number };
}

export interface NormalDayResult {
  /** Payments generated, quoted and recorded by the guard. */
  readonly payments: number;
  /** What the generator was asked for: tps × seconds. */
  readonly expectedPayments: number;
  readonly subsidisedPayments: number;
  readonly subsidyMinor: number;
  /** The busiest second's payments, for the load figure. */
  readonly peakSecondPayments: number;
  /** Payments in each hour from the start (24 for a day): the curve as it came out. */
  readonly hourlyPayments: readonly number[];
  readonly checks: number;
  readonly configures: number;
  /** Every trip the guard reported (a breaker reports once; there is no responder). */
  readonly trips: readonly GuardTrip[];
  readonly festival: FestivalOutcome | undefined;
  readonly wallMs: number;
  /** CPU time of the process over the run (user and system): the wall time less the waiting. */
  readonly cpuMs: number;
}

/**
 * Runs the day: the examples are imported through the pipeline in the ten minutes before it,
 * the festival is authored, assessed and approved at 18:00, its rollout starts at its time, and
 * every payment is quoted by the runner serving its payer and recorded by the guard, which is
 * checked every `checkEveryMs` of payment time and reconfigured after every runner report.
 */
export async function runNormalDay(options: NormalDayOptions): Promise<NormalDayResult> {
  const wallStartMs = performance.now();
  const cpuStart = process.cpuUsage();
  const seed = options.seed ?? NORMAL_DAY_DEFAULTS.seed;
  const tps = options.tps ?? NORMAL_DAY_DEFAULTS.tps;
  const seconds = options.seconds ?? NORMAL_DAY_DEFAULTS.seconds;
  const startMs = options.startMs ?? NORMAL_DAY_DEFAULTS.startMs;
  const checkEveryMs = options.checkEveryMs ?? NORMAL_DAY_DEFAULTS.checkEveryMs;
  const hourlyWeights = options.hourlyWeights ?? NORMAL_DAY_HOURLY_WEIGHTS;
  checkOptions(tps, seconds, checkEveryMs);
  const endMs = startMs + seconds * 1_000;

  const clock = { nowMs: startMs - 10 * 60_000 };
  /** Where the next assessment's traffic sample starts: the hour the change is for. */
  const sample = { startMs: clock.nowMs, seed: seed + 1 };
  const assess = lintAndSimulate({
    payments: () =>
      trafficOf(
        sample.seed,
        tpsAt(tps, sample.startMs, NORMAL_DAY_DEFAULTS.sampleSeconds, hourlyWeights),
        NORMAL_DAY_DEFAULTS.sampleSeconds,
        sample.startMs,
        hourlyWeights,
      ),
    currency: "CNY",
    sample: "synthetic traffic: the ten minutes the change opens in, at the day's rate then",
    randomSeed: seed,
    nowMs: () => clock.nowMs,
  });
  const assessments: ProposalFindings[] = [];
  const service = new ChangeService({
    store: new MemoryChangeStore(new MemoryAuditLogStore()),
    assess: async (proposal) => {
      const found = await assess(proposal);
      assessments.push(found);
      return found;
    },
    now: () => new Date(clock.nowMs).toISOString(),
  });

  await importExamples(service, options.examples, clock, sample, assessments, seed, hourlyWeights);

  let festivalId: string | undefined;
  const festival = options.festival;
  if (festival !== undefined && festival.atMs >= startMs && festival.atMs < endMs) {
    // Authored and approved two hours before launch; assessed on traffic of the launch hour.
    clock.nowMs = Math.max(startMs, festival.atMs - 2 * HOUR_MS);
    sample.startMs = festival.atMs;
    sample.seed = seed + 2;
    festivalId = await submitAndApprove(service, festival.documents, assessments);
  }

  const runner = await RolloutRunner.open(service, {
    randomSeed: seed,
    judgeEveryMs: NORMAL_DAY_DEFAULTS.judgeEveryMs,
  });
  const guard = new RuntimeGuard();
  const forecasts = new Map<string, RolloutForecast | undefined>();
  let configures = 0;
  const reconfigure = async (atMs: number): Promise<void> => {
    guard.configure(await servingOf(runner, service, forecasts), atMs);
    configures += 1;
  };
  clock.nowMs = startMs;
  await reconfigure(startMs);

  const festivalCampaignIds = new Set(
    (festival?.documents ?? []).filter((d) => d.kind === "campaign").map((d) => d.id),
  );
  const generator = trafficOf(seed, tps, seconds, startMs, hourlyWeights);
  const trips: GuardTrip[] = [];
  let payments = 0;
  let subsidisedPayments = 0;
  let subsidyMinor = 0;
  let festivalPayments = 0;
  let festivalMinor = 0;
  let checks = 0;
  let festivalStarted = festivalId === undefined;
  let nextCheckMs = startMs;
  const judgeEveryMs = NORMAL_DAY_DEFAULTS.judgeEveryMs;
  let nextConfigureMs = startMs + judgeEveryMs;
  let nextProgressMs = startMs + 60_000;
  let secondStartMs = startMs;
  let secondPayments = 0;
  let peakSecondPayments = 0;
  const hourlyPayments = new Array<number>(Math.ceil(seconds / 3_600)).fill(0);

  /** Everything due at `atMs` of payment time: the launch, a report, the guard's check. */
  const tick = async (atMs: number): Promise<void> => {
    clock.nowMs = atMs;
    if (!festivalStarted && festival !== undefined && atMs >= festival.atMs) {
      festivalStarted = true;
      must(await service.startRollout(OPERATOR, festivalId!, festival.plan));
      await runner.report(atMs);
      await reconfigure(atMs);
    }
    if (runner.rollout !== undefined) {
      if (runner.isReportDue(atMs)) {
        await runner.report(atMs);
        await reconfigure(atMs);
        nextConfigureMs = atMs + judgeEveryMs;
      }
    } else if (atMs >= nextConfigureMs) {
      // Only this run writes to the change service, so while nothing rolls out a report would
      // only reload the same configuration (a few milliseconds each, half a minute over a
      // day). The guard is reconfigured on the same beat all the same, as in the replay's
      // world: its platform baseline is the last ten minutes' rate as of each configure.
      await reconfigure(atMs);
      nextConfigureMs = atMs + judgeEveryMs;
    }
    for (const trip of guard.check(atMs)) trips.push(trip);
    checks += 1;
    if (atMs >= nextProgressMs) {
      options.onProgress?.(atMs - startMs, endMs - startMs, payments);
      nextProgressMs += 60_000;
    }
  };

  for (let payment = generator.nextPayment(); payment !== undefined; ) {
    const atMs = payment.atMs;
    while (atMs >= nextCheckMs) {
      await tick(nextCheckMs);
      nextCheckMs += checkEveryMs;
    }
    if (atMs - secondStartMs >= 1_000) {
      if (secondPayments > peakSecondPayments) peakSecondPayments = secondPayments;
      secondStartMs = atMs - ((atMs - startMs) % 1_000);
      secondPayments = 0;
    }
    secondPayments += 1;
    hourlyPayments[Math.floor((atMs - startMs) / HOUR_MS)]! += 1;
    const decision = runner.quote(payment);
    guard.record(payment, decision);
    payments += 1;
    const subsidies = decision.subsidies;
    if (subsidies.length > 0) {
      subsidisedPayments += 1;
      subsidyMinor += decision.totalSubsidyMinor;
      for (let index = 0; index < subsidies.length; index += 1) {
        const subsidy = subsidies[index]!;
        if (festivalCampaignIds.has(subsidy.campaignId)) {
          festivalPayments += 1;
          festivalMinor += subsidy.amountMinor;
        }
      }
    }
    payment = generator.nextPayment();
  }
  // The checks after the last payment, to the end of the day's window.
  while (nextCheckMs <= endMs) {
    await tick(nextCheckMs);
    nextCheckMs += checkEveryMs;
  }
  if (secondPayments > peakSecondPayments) peakSecondPayments = secondPayments;
  options.onProgress?.(endMs - startMs, endMs - startMs, payments);

  return {
    payments,
    expectedPayments: generator.total,
    subsidisedPayments,
    subsidyMinor,
    peakSecondPayments,
    hourlyPayments,
    checks,
    configures,
    trips,
    festival:
      festivalId === undefined
        ? undefined
        : await festivalOutcome(service, festivalId, runner.events, {
            payments: festivalPayments,
            subsidyMinor: festivalMinor,
          }),
    wallMs: Math.round(performance.now() - wallStartMs),
    cpuMs: cpuMsSince(cpuStart),
  };
}

/**
 * What the guard watches: the stable configuration's campaigns and, while a change rolls out,
 * its configuration's campaigns at the stage's share with the forecast it was approved with
 * (the change request's `assessment.forecast`, per payment of all payments at full share).
 */
async function servingOf(
  runner: RolloutRunner,
  service: ChangeService,
  forecasts: Map<string, RolloutForecast | undefined>,
): Promise<GuardServing> {
  const { stable, rollout } = runner.snapshots();
  const stableCampaigns = stable?.campaigns ?? [];
  const share = runner.rollout;
  if (rollout === undefined || share === undefined) return { stable: stableCampaigns };
  if (!forecasts.has(rollout.changeId)) {
    forecasts.set(rollout.changeId, (await service.show(rollout.changeId))?.assessment?.forecast);
  }
  const forecast = forecasts.get(rollout.changeId);
  return {
    stable: stableCampaigns,
    rollout: {
      changeId: rollout.changeId,
      campaigns: rollout.snapshot.campaigns,
      shareBps: share.shareBps,
      ...(forecast === undefined ? {} : { forecast }),
    },
  };
}

/**
 * The examples become the configuration in force as any configuration does: a change assessed
 * on the ten minutes before the day, approved by two reviewers, rolled out in two stages over
 * a few minutes of traffic before midnight. Their standing warnings are acknowledged once.
 */
async function importExamples(
  service: ChangeService,
  examples: readonly ConfigDocument[],
  clock: { nowMs: number },
  sample: { startMs: number; seed: number },
  assessments: readonly ProposalFindings[],
  seed: number,
  hourlyWeights: readonly number[],
): Promise<void> {
  const created = must(
    await service.create(
      AUTHOR,
      "configuration in force before 2025-01-16",
      examples.map((document) => ({ op: "put" as const, document })),
    ),
  );
  const id = created.change.id;
  await submitAcknowledgingWarnings(service, id, assessments);
  await approveByReviewers(service, id);
  must(await service.startRollout(OPERATOR, id, IMPORT_PLAN));
  const runner = await RolloutRunner.open(service, { randomSeed: seed, judgeEveryMs: 5_000 });
  for (const payment of trafficOf(sample.seed, 200, 300, clock.nowMs, hourlyWeights)) {
    clock.nowMs = payment.atMs;
    if (runner.isReportDue(payment.atMs)) {
      await runner.report(payment.atMs);
      if ((await service.show(id))?.state === "active") break;
    }
    runner.quote(payment);
  }
  const imported = await service.show(id);
  if (imported?.state !== "active") {
    throw new Error(`the examples did not become active (${imported?.state})`);
  }
}

/** The import rolls out in two stages, like any change, before the day begins. */
const IMPORT_PLAN: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 100,
};

/** The festival's change: created, submitted with its assessment, approved by two reviewers. */
async function submitAndApprove(
  service: ChangeService,
  documents: readonly ConfigDocument[],
  assessments: readonly ProposalFindings[],
): Promise<string> {
  const created = must(
    await service.create(
      AUTHOR,
      "New Year goods festival: evening launch at 20:00",
      documents.map((document) => ({ op: "put" as const, document })),
    ),
  );
  const id = created.change.id;
  await submitAcknowledgingWarnings(service, id, assessments);
  await approveByReviewers(service, id);
  const approved = await service.show(id);
  if (approved?.state !== "approved") throw new Error(`the festival is ${approved?.state}`);
  return id;
}

/** Submits; lint warnings (never errors) are acknowledged by the author and submitted again. */
async function submitAcknowledgingWarnings(
  service: ChangeService,
  id: string,
  assessments: readonly ProposalFindings[],
): Promise<void> {
  const submitted = await service.submit(AUTHOR, id, []);
  if (submitted.ok) return;
  if (submitted.code !== "warnings_unacknowledged") must(submitted);
  const warnings = (assessments[assessments.length - 1]?.findings ?? []).filter(
    (finding) => finding.severity === "warning",
  );
  must(
    await service.submit(
      AUTHOR,
      id,
      warnings.map((finding) => ({
        findingKey: finding.key,
        reason: "reviewed by the author",
        byId: AUTHOR.id,
      })),
    ),
  );
}

async function approveByReviewers(service: ChangeService, id: string): Promise<void> {
  for (const reviewer of REVIEWERS) {
    const latest = (await service.show(id))!;
    if (latest.state !== "in_review") break;
    must(await service.approve(reviewer, id, latest.contentHash));
  }
}

async function festivalOutcome(
  service: ChangeService,
  id: string,
  events: readonly RolloutEvent[],
  grants: FestivalOutcome["grants"],
): Promise<FestivalOutcome> {
  const change = (await service.show(id))!;
  const findings = change.assessment?.findings ?? [];
  return {
    changeId: id,
    state: change.state,
    approvals: change.approvals.map((approval) => approval.reviewerId),
    risk: change.assessment?.risk.level ?? "unknown",
    lintErrors: findings.filter((finding) => finding.severity === "error").length,
    lintWarnings: findings.filter((finding) => finding.severity === "warning").length,
    forecast: change.assessment?.forecast,
    proposedSubsidyPerHourMinor: change.assessment?.proposedSubsidyPerHourMinor,
    currentSubsidyPerHourMinor: change.assessment?.currentSubsidyPerHourMinor,
    plan: change.rollout?.plan,
    rolloutEvents: events.filter((event) => event.changeId === id),
    grants,
  };
}

/**
 * The day's rate over `seconds` from `startMs` on its hourly curve: what a sample of that window
 * looks like when the whole day runs at a mean of `tps`.
 */
export function tpsAt(
  tps: number,
  startMs: number,
  seconds: number,
  hourlyWeights: readonly number[] = NORMAL_DAY_HOURLY_WEIGHTS,
): number {
  const weightMean = hourlyWeights.reduce((sum, weight) => sum + weight, 0) / 24;
  const localSecond = (startMs + offsetMsAt(startMs, TRAFFIC_TIME_ZONE)) / 1_000;
  let weight = 0;
  for (let second = 0; second < seconds; second += 1) {
    weight += curveWeight(hourlyWeights, (localSecond + second + 0.5) % 86_400);
  }
  return Math.max(1, Math.round((tps * weight) / seconds / weightMean));
}

/**
 * The busiest hour's rate over the day's mean, from the curve alone: an hour's mean weight is
 * (w[h−1] + 6·w[h] + w[h+1]) / 8 under linear interpolation between hour midpoints, and the
 * day's mean weight is the weights' mean.
 */
export function peakHourOverMean(hourlyWeights: readonly number[]): number {
  const mean = hourlyWeights.reduce((sum, weight) => sum + weight, 0) / 24;
  let peak = 0;
  for (let hour = 0; hour < 24; hour += 1) {
    const before = hourlyWeights[(hour + 23) % 24]!;
    const after = hourlyWeights[(hour + 1) % 24]!;
    peak = Math.max(peak, (before + 6 * hourlyWeights[hour]! + after) / 8);
  }
  return peak / mean;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return Math.round((used.user + used.system) / 1_000);
}

function trafficOf(
  seed: number,
  tps: number,
  seconds: number,
  startMs: number,
  hourlyWeights: readonly number[],
): TrafficGenerator {
  const created = TrafficGenerator.create({ seed, tps, seconds, startMs, hourlyWeights });
  if (!created.ok) throw new RangeError(created.errors.map((error) => error.message).join("; "));
  return created.generator;
}

function checkOptions(tps: number, seconds: number, checkEveryMs: number): void {
  const within = (value: number, max: number) =>
    Number.isSafeInteger(value) && value >= 1 && value <= max;
  if (!within(tps, NORMAL_DAY_LIMITS.tpsMax)) throw new RangeError(`tps ${tps} is out of range`);
  if (!within(seconds, NORMAL_DAY_LIMITS.secondsMax))
    throw new RangeError(`seconds ${seconds} is out of range`);
  if (!within(checkEveryMs, NORMAL_DAY_LIMITS.checkEveryMsMax))
    throw new RangeError(`checkEveryMs ${checkEveryMs} is out of range`);
}

function must<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) {
    const refusal = result as unknown as { code: string; message: string };
    throw new Error(
      `the normal day's change pipeline refused a step: ${refusal.code}: ${refusal.message}`,
    );
  }
  return result as Extract<T, { ok: true }>;
}
