/**
 * `simulateChange`: replays payments through the current and the proposed snapshot with the fast
 * evaluator and reports what the change does to the money (docs/reference/simulate.md). Decisions
 * depend on each payment's own `atMs` (schedules), so a replay is reproducible whenever it runs.
 * Recorded samples in files go through `simulatePaymentFiles`, which reads them faster and may
 * use worker threads; the synthetic generator is an iterable of payments like any other.
 */
import { createFastEvaluator, type FastEvaluator } from "../core/evaluator/fast-evaluator.ts";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
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
