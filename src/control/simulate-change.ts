/**
 * `simulateChange`: replays payments through the current and the proposed snapshot with the fast
 * evaluator and reports what the change does to the money (docs/reference/simulate.md). Decisions
 * depend on each payment's own `atMs` (schedules), so a replay is reproducible whenever it runs.
 * Recorded samples in files go through `simulatePaymentFiles`, which reads them faster and may
 * use worker threads; the synthetic generator is an iterable of payments like any other.
 */

import {
  createFastEvaluator,
  createFastGrantPair,
  type FastEvaluator,
  type FastGrantPair,
} from "../core/evaluator/fast-evaluator.ts";
import { fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
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

/** The step that feeds one payment to both snapshots' evaluators and to an accumulator. */
export interface EvaluatorPair {
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
  // A change of campaigns only: one pass for both snapshots. The evaluators of each snapshot are
  // then needed only to answer for invalid input, and compiled when some arrives (compiling
  // costs each thread of a simulation tens of milliseconds).
  const pair = createFastGrantPair(current, proposed, unchangedPositions(current, proposed));
  let evaluators: readonly [FastEvaluator, FastEvaluator] | undefined;
  const evaluatorsOf = () => {
    evaluators ??= [createFastEvaluator(current), createFastEvaluator(proposed)];
    return evaluators;
  };
  const evaluateSimulated =
    pair === undefined ? grantedOneByOne(...evaluatorsOf()) : grantedInOnePass(pair);
  if (evaluateSimulated !== undefined) {
    const simulated = new SimulatedPayment();
    return {
      prepare: (accumulator) => accumulator.useCampaigns(current.campaigns, proposed.campaigns),
      evaluate(payment, accumulator) {
        if (!fastPaymentCheck(payment, simulated.checked)) {
          // The evaluators' own answer for invalid input, which the accumulator counts.
          const [currentEvaluator, proposedEvaluator] = evaluatorsOf();
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
  const [currentEvaluator, proposedEvaluator] = evaluatorsOf();
  return {
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

/**
 * A checked payment to the accumulator through a `FastGrantPair`: grants, not decisions (the
 * report needs only the money and which campaigns it went to), for both snapshots in one pass
 * over one index (the campaigns the change leaves alone checked once, their offers computed once).
 */
function grantedInOnePass(pair: FastGrantPair): NonNullable<EvaluatorPair["evaluateSimulated"]> {
  const pairCurrent = pair.current;
  const pairProposed = pair.proposed;
  return (payment, accumulator) => {
    // Alike on both sides: the current grants, in current positions, stand for the proposed.
    const alike = pair.grantBoth(payment.checked);
    accumulator.addGranted(payment, pairCurrent, alike ? pairCurrent : pairProposed, alike);
  };
}

/**
 * The same for a change beyond campaigns (the envelope, programs or the random seed): granted
 * under each snapshot in turn. Undefined when an evaluator is not compiled.
 */
function grantedOneByOne(
  currentEvaluator: FastEvaluator,
  proposedEvaluator: FastEvaluator,
): EvaluatorPair["evaluateSimulated"] {
  const grantCurrent = currentEvaluator.grantChecked?.bind(currentEvaluator);
  const grantProposed = proposedEvaluator.grantChecked?.bind(proposedEvaluator);
  const currentGrants = currentEvaluator.grants;
  const proposedGrants = proposedEvaluator.grants;
  if (
    grantCurrent === undefined ||
    grantProposed === undefined ||
    currentGrants === undefined ||
    proposedGrants === undefined
  ) {
    return undefined;
  }
  return (payment, accumulator) => {
    const checked = payment.checked;
    grantCurrent(checked);
    grantProposed(checked);
    accumulator.addGranted(payment, currentGrants, proposedGrants);
  };
}

/**
 * For each campaign of the current snapshot, the position in the proposed one of the same
 * campaign unchanged in every effective field, or -1 when the change touches it (edits it or
 * removes it). Plain JSON, not canonical (which sorts keys and is slower): equal text is equal
 * content, and a campaign whose fields merely come in another order is taken as touched, which
 * costs its checks twice, never a wrong answer.
 */
function unchangedPositions(current: Snapshot, proposed: Snapshot): Int32Array {
  const key = (effective: SnapshotCampaign) => JSON.stringify({ ...effective, version: 0 });
  const afterById = new Map(
    proposed.campaigns.map((effective, position) => [effective.campaign.id, position]),
  );
  return Int32Array.from(current.campaigns, (effective) => {
    const position = afterById.get(effective.campaign.id);
    if (position === undefined) return -1;
    return key(proposed.campaigns[position]!) === key(effective) ? position : -1;
  });
}
