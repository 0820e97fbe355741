/**
 * `simulateChange`: replays payments through the current and the proposed snapshot with the fast
 * evaluator and reports what the change does to the money (docs/reference/simulate.md). Decisions
 * depend on each payment's own `atMs` (schedules), so a replay is reproducible whenever it runs.
 * Recorded samples in files go through `simulatePaymentFiles`, which reads them faster and may
 * use worker threads; the synthetic generator is an iterable of payments like any other.
 */

import { createFastEvaluator, type FastEvaluator } from "../core/evaluator/fast-evaluator.ts";
import { FastIndex } from "../core/evaluator/fast-index.ts";
import { CheckedPayment, fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
import type { Snapshot, SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import type { Payment } from "../core/model/payment.ts";
import { BPS_PER_UNIT, type Currency } from "../core/money.ts";
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
}

export function evaluatorPair(current: Snapshot, proposed: Snapshot): EvaluatorPair {
  const currentEvaluator = createFastEvaluator(current);
  const proposedEvaluator = createFastEvaluator(proposed);
  const quoteCurrent = currentEvaluator.quoteChecked?.bind(currentEvaluator);
  const quoteProposed = proposedEvaluator.quoteChecked?.bind(proposedEvaluator);
  if (quoteCurrent !== undefined && quoteProposed !== undefined) {
    // Both compiled: the payment is checked once, quoted under the current snapshot, and under
    // the proposed one only when a campaign the change touches could apply to it.
    const checked = new CheckedPayment();
    const changed = changedCampaignIndexes(current, proposed);
    const scratch = new Int32Array(
      Math.max(1, current.campaigns.length, proposed.campaigns.length),
    );
    return {
      current: currentEvaluator,
      proposed: proposedEvaluator,
      evaluate(payment, accumulator) {
        if (!fastPaymentCheck(payment, checked)) {
          // The evaluators' own answer for invalid input, which the accumulator counts.
          accumulator.add(
            payment as Payment,
            currentEvaluator.quote(payment),
            proposedEvaluator.quote(payment),
          );
          return false;
        }
        const before = quoteCurrent(checked);
        const untouched =
          changed !== undefined &&
          changed.before.collect(checked, scratch) === 0 &&
          changed.after.collect(checked, scratch) === 0;
        accumulator.add(payment as Payment, before, untouched ? before : quoteProposed(checked));
        return true;
      },
    };
  }
  return {
    current: currentEvaluator,
    proposed: proposedEvaluator,
    evaluate(payment, accumulator) {
      const before = currentEvaluator.quote(payment);
      const after = proposedEvaluator.quote(payment);
      // Invalid input is counted by the accumulator from the decisions' reason.
      accumulator.add(payment as Payment, before, after);
      return before.reason !== "payment.invalid";
    },
  };
}

/**
 * The scope indexes of the campaigns a change touches (added, removed or different in any
 * effective field), as they are before and after it; undefined when the change reaches beyond
 * campaigns (the envelope, programs or the random seed), where every payment is quoted twice.
 * A payment neither index admits is decided alike by both snapshots: every campaign that could
 * apply to it is the same campaign in both, under the same envelope. The accumulator reads a
 * decision's reason, subsidies and total, which are then equal; only the snapshot version and
 * the count of campaigns the index excluded would differ.
 */
function changedCampaignIndexes(
  current: Snapshot,
  proposed: Snapshot,
): { before: FastIndex; after: FastIndex } | undefined {
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
  return {
    before: new FastIndex(current.campaigns.filter((effective) => touched(effective, afterById))),
    after: new FastIndex(proposed.campaigns.filter((effective) => touched(effective, beforeById))),
  };
}
