/**
 * `simulateChange`: replays payments through the current and the proposed snapshot with the fast
 * evaluator and reports what the change does to the money (docs/reference/simulate.md). Decisions
 * depend on each payment's own `atMs` (schedules), so a replay is reproducible whenever it runs.
 * Recorded samples in files go through `simulatePaymentFiles`, which reads them faster and may
 * use worker threads; the synthetic generator is an iterable of payments like any other.
 */

import {
  createFastEvaluator,
  type FastEvaluator,
  type FastGrants,
} from "../core/evaluator/fast-evaluator.ts";
import { FastIndex } from "../core/evaluator/fast-index.ts";
import { type CheckedPayment, fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
import type { Snapshot, SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import type { Payment } from "../core/model/payment.ts";
import { BPS_PER_UNIT, type Currency } from "../core/money.ts";
import { SimulatedPayment } from "../core/simulation/simulated-payment.ts";
import {
  SimulationAccumulator,
  type SimulationOptions,
} from "../core/simulation/simulation-accumulator.ts";
import type { SimulationReport } from "../core/simulation/simulation-report.ts";

/** What a caller chooses; the protected scenarios come from the two snapshots' envelopes. */
export interface SimulateChangeOptions {
  readonly currency: Currency;
  readonly windowMs?: number;
  readonly spendGrowthThresholdBps?: number;
}

export interface SimulateChangeInput {
  readonly current: Snapshot;
  readonly proposed: Snapshot;
  /** Payments as read or generated; invalid ones are counted, never evaluated into money. */
  readonly payments: AsyncIterable<unknown> | Iterable<unknown>;
  /** The share of all traffic the payments are, in bps; 10,000 (all of it) by default. */
  readonly sampleRateBps?: number;
  readonly options: SimulateChangeOptions;
  /** Called every `PROGRESS_PAYMENTS` payments and at the end with the payments seen so far. */
  readonly onProgress?: (payments: number) => void;
}

/** Payments between two progress calls. */
export const PROGRESS_PAYMENTS = 65_536;

export async function simulateChange(input: SimulateChangeInput): Promise<SimulationReport> {
  const pair = evaluatorPair(input.current, input.proposed);
  const accumulator = new SimulationAccumulator(
    simulationOptionsFor(input.current, input.proposed, input.options, input.sampleRateBps),
  );
  pair.prepare(accumulator);
  let seen = 0;
  const onProgress = input.onProgress;
  const add = (payment: unknown) => {
    pair.evaluate(payment, accumulator);
    seen += 1;
    if (onProgress !== undefined && seen % PROGRESS_PAYMENTS === 0) onProgress(seen);
  };
  if (Symbol.asyncIterator in input.payments) {
    for await (const payment of input.payments) add(payment);
  } else {
    for (const payment of input.payments) add(payment);
  }
  onProgress?.(seen);
  return accumulator.report();
}

/** The accumulator's options for a pair of snapshots. */
export function simulationOptionsFor(
  current: Snapshot,
  proposed: Snapshot,
  options: SimulateChangeOptions,
  sampleRateBps: number = BPS_PER_UNIT,
): SimulationOptions {
  return {
    ...options,
    sampleRateBps,
    // What either envelope protects: a change that unprotects a scenario must still be flagged.
    protectedScenarios: [
      ...new Set([...current.envelope.protectedScenarios, ...proposed.envelope.protectedScenarios]),
    ],
  };
}

/** The two fast evaluators and the step that feeds one payment to both and to an accumulator. */
export interface EvaluatorPair {
  readonly current: FastEvaluator;
  readonly proposed: FastEvaluator;
  /** False when the evaluators found the value is not a valid payment. */
  evaluate(payment: unknown, accumulator: SimulationAccumulator): boolean;
  /**
   * For compiled evaluators: a payment already checked into `payment` (a line parsed straight
   * into it), evaluated into `accumulator` — which the pair prepared with `prepare` first.
   */
  readonly evaluateSimulated?: (
    payment: SimulatedPayment,
    accumulator: SimulationAccumulator,
  ) => void;
  /** Readies an accumulator for `evaluateSimulated`. */
  prepare(accumulator: SimulationAccumulator): void;
}

export function evaluatorPair(current: Snapshot, proposed: Snapshot): EvaluatorPair {
  const currentEvaluator = createFastEvaluator(current);
  const proposedEvaluator = createFastEvaluator(proposed);
  const grantCurrent = currentEvaluator.grantChecked?.bind(currentEvaluator);
  const grantProposed = proposedEvaluator.grantChecked?.bind(proposedEvaluator);
  const currentGrants = currentEvaluator.grants;
  const proposedGrants = proposedEvaluator.grants;
  if (
    grantCurrent !== undefined &&
    grantProposed !== undefined &&
    currentGrants !== undefined &&
    proposedGrants !== undefined
  ) {
    // Both compiled: the payment is checked once, granted under the current snapshot, and under
    // the proposed one only when a campaign the change touches could apply to it. Grants, not
    // decisions: the report needs only the money and which campaigns it went to.
    const simulated = new SimulatedPayment();
    const changed = changedCampaigns(current, proposed);
    const scratch = new Int32Array(Math.max(1, proposed.campaigns.length));
    const evaluateSimulated = (payment: SimulatedPayment, accumulator: SimulationAccumulator) => {
      const checked = payment.checked;
      grantCurrent(checked);
      const untouched = changed !== undefined && !changed.touches(currentGrants, checked, scratch);
      if (!untouched) grantProposed(checked);
      accumulator.addGranted(
        payment,
        currentGrants,
        untouched ? currentGrants : proposedGrants,
        untouched,
      );
    };
    return {
      current: currentEvaluator,
      proposed: proposedEvaluator,
      prepare: (accumulator) => accumulator.useCampaigns(current.campaigns, proposed.campaigns),
      evaluate(payment, accumulator) {
        if (!fastPaymentCheck(payment, simulated.checked)) {
          // The evaluators' own answer for invalid input, which the accumulator counts.
          accumulator.add(
            payment as Payment,
            currentEvaluator.quote(payment),
            proposedEvaluator.quote(payment),
          );
          return false;
        }
        const valid = payment as Payment;
        simulated.identitiesOf(valid.userId, valid.deviceId, valid.cardFingerprint);
        evaluateSimulated(simulated, accumulator);
        return true;
      },
      evaluateSimulated,
    };
  }
  return {
    current: currentEvaluator,
    proposed: proposedEvaluator,
    prepare: () => {},
    evaluate(payment, accumulator) {
      const before = currentEvaluator.quote(payment);
      const after = proposedEvaluator.quote(payment);
      // Invalid input is counted by the accumulator from the decisions' reason.
      accumulator.add(payment as Payment, before, after);
      return before.reason !== "payment.invalid";
    },
  };
}

/** Whether a payment could be decided differently by the two snapshots (see below). */
interface ChangedCampaigns {
  /**
   * `grants` is the current snapshot's answer for `payment`: its candidates are the current
   * campaigns the index admits, so a touched one among them is found without another lookup;
   * the proposed snapshot's touched campaigns are looked up in their own index.
   */
  touches(grants: FastGrants, payment: CheckedPayment, scratch: Int32Array): boolean;
}

/**
 * The campaigns a change touches (added, removed or different in any effective field), as they
 * are before and after it; undefined when the change reaches beyond campaigns (the envelope,
 * programs or the random seed), where every payment is granted under both snapshots. A payment
 * for which the index admits no touched campaign on either side is granted alike by both
 * snapshots: every campaign that could apply to it is the same campaign in both, under the same
 * envelope, so the current snapshot's grants stand for the proposed one's.
 */
function changedCampaigns(current: Snapshot, proposed: Snapshot): ChangedCampaigns | undefined {
  if (
    current.randomSeed !== proposed.randomSeed ||
    JSON.stringify(current.envelope) !== JSON.stringify(proposed.envelope) ||
    JSON.stringify([...current.programs]) !== JSON.stringify([...proposed.programs])
  ) {
    return undefined;
  }
  // Plain JSON, not canonical (which sorts keys and is slower): equal text is equal content, and
  // a campaign whose fields merely come in another order is taken as touched, which costs a
  // quote, never a wrong answer. The same holds for the envelope and programs above.
  const key = (effective: SnapshotCampaign) => JSON.stringify({ ...effective, version: 0 });
  const beforeById = new Map(
    current.campaigns.map((effective) => [effective.campaign.id, effective]),
  );
  const afterById = new Map(
    proposed.campaigns.map((effective) => [effective.campaign.id, effective]),
  );
  const touched = (effective: SnapshotCampaign, other: ReadonlyMap<string, SnapshotCampaign>) => {
    const counterpart = other.get(effective.campaign.id);
    return counterpart === undefined || key(counterpart) !== key(effective);
  };
  const touchedBefore = Uint8Array.from(current.campaigns, (effective) =>
    touched(effective, afterById) ? 1 : 0,
  );
  const after = new FastIndex(
    proposed.campaigns.filter((effective) => touched(effective, beforeById)),
  );
  return {
    touches(grants, payment, scratch) {
      // Refused before the campaigns: the same envelope refuses it under both snapshots.
      const count = grants.candidateCount;
      if (count < 0) return false;
      const candidates = grants.candidates;
      for (let k = 0; k < count; k += 1) if (touchedBefore[candidates[k]!] === 1) return true;
      return after.collect(payment, scratch) !== 0;
    },
  };
}
