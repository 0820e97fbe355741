/**
 * Staged rollout: a change reaches a growing share of identities (sticky hash buckets, e.g.
 * 1 % → 10 % → 50 % → 100 %); each stage has a money-at-risk ceiling and a minimum dwell, and
 * what it observes is compared with the approved forecast. A mismatch beyond tolerance aborts
 * the rollout, and the change is rolled back. Pure: the caller supplies the clock's reading.
 */
import { hashString32 } from "../evaluator/stable-hash.ts";

/** Buckets per identity space: shares are in basis points, one bucket per basis point. */
export const ROLLOUT_BUCKETS = 10_000;
/** A fixed seed keeps buckets sticky across processes, restarts and changes. */
const ROLLOUT_BUCKET_SEED = 0x5eed_b0c5;

/** The identity's bucket, 0..9,999: the same for every process and every change. */
export function rolloutBucketOf(identity: string): number {
  return hashString32(identity, ROLLOUT_BUCKET_SEED) % ROLLOUT_BUCKETS;
}

/** Whether an identity is inside a stage reaching `shareBps` of identities. Stages nest. */
export function isInRollout(identity: string, shareBps: number): boolean {
  return rolloutBucketOf(identity) < shareBps;
}

export interface RolloutStage {
  /** Share of identities the change reaches in this stage, in bps (10,000 = everyone). */
  readonly shareBps: number;
  /** Most subsidy the stage may grant before it is judged to have gone wrong. */
  readonly moneyAtRiskMaxMinor: number;
  /** Shortest time the stage runs before it may advance. */
  readonly dwellMinMs: number;
}

export interface RolloutPlan {
  readonly stages: readonly RolloutStage[];
  /** Largest relative difference from the forecast tolerated, in bps (2,500 = ±25 %). */
  readonly toleranceBps: number;
  /** Payments a stage must see before it is compared with the forecast. */
  readonly paymentsMin: number;
}

/** What the approved simulation forecast for the proposed configuration, per payment seen. */
export interface RolloutForecast {
  /** Subsidy per payment, in thousandths of a minor unit (a mean below one fen is common). */
  readonly subsidyPerPaymentMilliMinor: number;
  /** Share of payments subsidised, in bps. */
  readonly subsidisedShareBps: number;
  /**
   * The same for each campaign the change touches, per payment of all payments: a 10× mistake
   * in one small campaign hides inside the whole configuration's mean, not inside its own.
   */
  readonly byCampaign?: readonly CampaignForecast[];
}

export interface CampaignForecast {
  readonly campaignId: string;
  readonly subsidyPerPaymentMilliMinor: number;
  readonly subsidisedShareBps: number;
}

export interface CampaignObservation {
  readonly subsidisedPayments: number;
  readonly subsidyMinor: number;
}

/** What the stage saw: payments from identities inside its buckets, under the new versions. */
export interface StageObservation {
  readonly payments: number;
  readonly subsidisedPayments: number;
  readonly subsidyMinor: number;
  /** What each campaign with a forecast of its own granted in the stage. */
  readonly byCampaign?: Readonly<Record<string, CampaignObservation>>;
}

/**
 * What a stage of `payments` payments would see if it matched `forecast` exactly. For a
 * configuration imported as the platform's standing one (the demos' examples), whose stages are
 * setting up, not a change under test.
 */
export function observationAsForecast(
  forecast: RolloutForecast | undefined,
  payments: number,
): StageObservation {
  const counts = (shareBps: number, perPaymentMilliMinor: number) => ({
    subsidisedPayments: Math.round((shareBps * payments) / 10_000),
    subsidyMinor: Math.round((perPaymentMilliMinor * payments) / 1_000),
  });
  const whole = counts(
    forecast?.subsidisedShareBps ?? 0,
    forecast?.subsidyPerPaymentMilliMinor ?? 0,
  );
  return {
    payments,
    ...whole,
    byCampaign: Object.fromEntries(
      (forecast?.byCampaign ?? []).map((campaign) => [
        campaign.campaignId,
        counts(campaign.subsidisedShareBps, campaign.subsidyPerPaymentMilliMinor),
      ]),
    ),
  };
}

/** Subsidised payments a campaign needs, seen or expected, before it is judged on its own. */
export const CAMPAIGN_SAMPLE_MIN = 200;

export const ROLLOUT_VERDICTS = {
  hold: "The stage keeps running: its dwell or its sample is not complete yet.",
  advance: "The stage matched the forecast for its dwell time: the next stage starts.",
  complete: "The last stage matched the forecast: the change is active for everyone.",
  abort_money_at_risk: "The stage granted more than its money-at-risk ceiling: rolled back.",
  abort_subsidy_mismatch:
    "Subsidy per payment differs from the forecast by more than the tolerance: rolled back.",
  abort_coverage_mismatch:
    "The share of payments subsidised differs from the forecast by more than the tolerance: rolled back.",
  abort_campaign_mismatch:
    "One campaign the change touches grants per payment more or less than its own forecast, beyond the tolerance: rolled back.",
} as const;

export type RolloutVerdictCode = keyof typeof ROLLOUT_VERDICTS;

export interface RolloutVerdict {
  readonly verdict: RolloutVerdictCode;
  readonly message: string;
}

/**
 * What any plan must keep, so that no one skips the staged rollout by choosing its stages: a
 * first stage reaching at most 10 % of identities and running at least a minute, a forecast
 * comparison on at least 100 payments per stage, a tolerance of at most ±50 %.
 */
export const ROLLOUT_LIMITS = {
  stagesMin: 2,
  stagesMax: 10,
  firstStageShareBpsMax: 1_000,
  dwellMsMin: 60_000,
  toleranceBpsMax: 5_000,
  paymentsMinFloor: 100,
} as const;

/** 1 % → 10 % → 50 % → 100 %; each stage may risk its share of a day's forecast spend. */
export function defaultRolloutPlan(forecastSubsidyPerHourMinor: number): RolloutPlan {
  const dayMinor = Math.max(forecastSubsidyPerHourMinor, 0) * 24;
  const stage = (shareBps: number, dwellMinMs: number): RolloutStage => ({
    shareBps,
    // At least one yuan of room so a tiny forecast does not abort on its first subsidy.
    moneyAtRiskMaxMinor: moneyAtRiskOf(dayMinor, shareBps),
    dwellMinMs,
  });
  return {
    stages: [stage(100, 300_000), stage(1_000, 600_000), stage(5_000, 900_000), stage(10_000, 0)],
    toleranceBps: 2_500,
    paymentsMin: 1_000,
  };
}

/** Problems with a plan, as messages; an empty list means the plan is usable. */
export function checkRolloutPlan(plan: RolloutPlan): string[] {
  const problems: string[] = [];
  const limits = ROLLOUT_LIMITS;
  if (plan.stages.length < limits.stagesMin || plan.stages.length > limits.stagesMax) {
    problems.push(`a plan has ${limits.stagesMin} to ${limits.stagesMax} stages`);
  }
  const first = plan.stages[0];
  if (first !== undefined && first.shareBps > limits.firstStageShareBpsMax) {
    problems.push(
      `the first stage reaches at most ${limits.firstStageShareBpsMax} bps of identities`,
    );
  }
  plan.stages.forEach((stage, index) => {
    const previous = index === 0 ? 0 : plan.stages[index - 1]!.shareBps;
    if (!Number.isSafeInteger(stage.shareBps) || stage.shareBps <= previous) {
      problems.push(`stage ${index + 1}: shares must grow, from 1 to 10,000 bps`);
    }
    if (!Number.isSafeInteger(stage.moneyAtRiskMaxMinor) || stage.moneyAtRiskMaxMinor < 1) {
      problems.push(`stage ${index + 1}: the money-at-risk ceiling is a positive amount`);
    }
    const last = index === plan.stages.length - 1;
    if (
      !Number.isSafeInteger(stage.dwellMinMs) ||
      stage.dwellMinMs < (last ? 0 : limits.dwellMsMin)
    ) {
      problems.push(
        `stage ${index + 1}: every stage but the last runs at least ${limits.dwellMsMin} ms`,
      );
    }
  });
  if (plan.stages.at(-1)?.shareBps !== ROLLOUT_BUCKETS) {
    problems.push("the last stage reaches everyone (10,000 bps)");
  }
  if (
    !Number.isSafeInteger(plan.toleranceBps) ||
    plan.toleranceBps < 0 ||
    plan.toleranceBps > limits.toleranceBpsMax
  ) {
    problems.push(`the tolerance is 0 to ${limits.toleranceBpsMax} bps`);
  }
  if (!Number.isSafeInteger(plan.paymentsMin) || plan.paymentsMin < limits.paymentsMinFloor) {
    problems.push(`a stage is judged on at least ${limits.paymentsMinFloor} payments`);
  }
  return problems;
}

function moneyAtRiskOf(dayMinor: number, shareBps: number): number {
  return Math.max(100, Math.ceil((dayMinor * shareBps) / 10_000));
}

/** A plan with the given shares and the default's dwell, ceilings, tolerance and sample. */
export function rolloutPlanWithShares(
  sharesBps: readonly number[],
  forecastSubsidyPerHourMinor: number,
): RolloutPlan {
  const defaults = defaultRolloutPlan(forecastSubsidyPerHourMinor);
  const dayMinor = Math.max(forecastSubsidyPerHourMinor, 0) * 24;
  return {
    ...defaults,
    stages: sharesBps.map((shareBps, index) => ({
      shareBps,
      moneyAtRiskMaxMinor: moneyAtRiskOf(dayMinor, shareBps),
      dwellMinMs: index === sharesBps.length - 1 ? 0 : defaults.stages[0]!.dwellMinMs,
    })),
  };
}

/**
 * Judges one stage. Money at risk is checked first and at any time: a stage that overspends is
 * stopped before its dwell or sample is complete. The forecast comparison waits for the sample.
 */
export function judgeStage(
  plan: RolloutPlan,
  stageIndex: number,
  stageAgeMs: number,
  observation: StageObservation,
  forecast: RolloutForecast,
): RolloutVerdict {
  const stage = plan.stages[stageIndex];
  if (stage === undefined) throw new Error(`stage ${stageIndex} is outside the plan`);
  if (observation.subsidyMinor > stage.moneyAtRiskMaxMinor) {
    return {
      verdict: "abort_money_at_risk",
      message: `stage ${stageIndex + 1} granted ${observation.subsidyMinor} minor units, its ceiling is ${stage.moneyAtRiskMaxMinor}`,
    };
  }
  if (observation.payments < plan.paymentsMin) {
    return {
      verdict: "hold",
      message: `${observation.payments} of ${plan.paymentsMin} payments seen`,
    };
  }
  const subsidyPerPaymentMilliMinor = Math.round(
    (observation.subsidyMinor * 1000) / observation.payments,
  );
  if (beyondTolerance(subsidyPerPaymentMilliMinor, forecast.subsidyPerPaymentMilliMinor, plan)) {
    return {
      verdict: "abort_subsidy_mismatch",
      message: `subsidy per payment ${subsidyPerPaymentMilliMinor / 1000} minor units, forecast ${forecast.subsidyPerPaymentMilliMinor / 1000}`,
    };
  }
  const subsidisedShareBps = Math.round(
    (observation.subsidisedPayments * 10_000) / observation.payments,
  );
  if (beyondTolerance(subsidisedShareBps, forecast.subsidisedShareBps, plan)) {
    return {
      verdict: "abort_coverage_mismatch",
      message: `${subsidisedShareBps} bps of payments subsidised, forecast ${forecast.subsidisedShareBps}`,
    };
  }
  const campaign = campaignMismatch(plan, observation, forecast);
  if (campaign !== undefined) return { verdict: "abort_campaign_mismatch", message: campaign };
  if (stageAgeMs < stage.dwellMinMs) {
    return {
      verdict: "hold",
      message: `stage ${stageIndex + 1} has run ${stageAgeMs} of ${stage.dwellMinMs} ms`,
    };
  }
  const last = stageIndex === plan.stages.length - 1;
  return {
    verdict: last ? "complete" : "advance",
    message: last
      ? "the last stage matched the forecast"
      : `stage ${stageIndex + 1} matched the forecast; next ${plan.stages[stageIndex + 1]!.shareBps} bps`,
  };
}

/** The first touched campaign beyond the tolerance, once it has enough payments to judge. */
function campaignMismatch(
  plan: RolloutPlan,
  observation: StageObservation,
  forecast: RolloutForecast,
): string | undefined {
  for (const expected of forecast.byCampaign ?? []) {
    const seen = observation.byCampaign?.[expected.campaignId] ?? {
      subsidisedPayments: 0,
      subsidyMinor: 0,
    };
    const expectedSubsidised = (expected.subsidisedShareBps * observation.payments) / 10_000;
    if (Math.max(seen.subsidisedPayments, expectedSubsidised) < CAMPAIGN_SAMPLE_MIN) continue;
    const perPayment = Math.round((seen.subsidyMinor * 1000) / observation.payments);
    // One campaign's few hundred payments are a small sample: its tolerance widens by four
    // standard errors of a count of that size, so a stage is not aborted on chance (a 10×
    // mistake is far outside either way).
    const sampleBps = Math.round(
      40_000 / Math.sqrt(Math.max(seen.subsidisedPayments, expectedSubsidised)),
    );
    const widened = { ...plan, toleranceBps: plan.toleranceBps + sampleBps };
    if (beyondTolerance(perPayment, expected.subsidyPerPaymentMilliMinor, widened)) {
      return `campaign ${expected.campaignId}: ${perPayment / 1000} minor units per payment, forecast ${expected.subsidyPerPaymentMilliMinor / 1000}`;
    }
  }
  return undefined;
}

/**
 * Relative to the forecast. A forecast of zero tolerates nothing: a change forecast to give
 * nothing that gives something is exactly the surprise a rollout exists to catch.
 */
function beyondTolerance(observed: number, forecast: number, plan: RolloutPlan): boolean {
  return Math.abs(observed - forecast) * 10_000 > forecast * plan.toleranceBps;
}
