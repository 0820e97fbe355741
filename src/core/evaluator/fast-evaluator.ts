/**
 * The fast evaluator: the same decisions as `quoteReference` (proven by differential property
 * tests), computed from a snapshot compiled once.
 *
 * Per payment: a hand-written check that accepts exactly what `paymentSchema` accepts
 * (`fastPaymentCheck`); the payment-level refusals; the scope index (`FastIndex`), which yields
 * the campaigns passing every indexed check in position order; for each of those, the remaining
 * checks against precompiled arrays (`FastCampaignTable`) with local times from a cached UTC
 * offset (`FastZoneClock`); then stacking and the envelope as the reference does them.
 * Campaigns the index excludes are only counted, so a quote costs the candidates, not the
 * snapshot — except with `explain`, which lists every campaign and is not the hot path.
 *
 * Besides the decision and its arrays, a quote allocates only subsidies: rejections are shared
 * frozen objects, scratch arrays are reused. Caller code (a getter or proxy on the input) can
 * run only while the input is read, before any scratch state is touched, so even a quote from
 * inside such a getter leaves the outer one intact.
 *
 * Snapshots no configuration can produce — duplicate or non-string campaign ids, priorities
 * that are not finite numbers, scope lists that are not arrays — would make the tie-breaks or
 * the index disagree with the reference in ways not worth mirroring; for those the evaluator
 * simply delegates every quote to `quoteReference`.
 */
import type { EnvelopeCurrency } from "../model/envelope.ts";
import { CHANNELS, PAYMENT_METHODS, type Payment } from "../model/payment.ts";
import { periodInstants } from "../model/schedule.ts";
import { applyRateBpsFloor, CURRENCIES } from "../money.ts";
import { CASH_EQUIVALENT_SCENARIOS, SCENARIOS } from "../scenario.ts";
import type { Decision, Explanation, QuoteOptions, Rejection, Subsidy } from "./decision.ts";
import {
  AMOUNT_MAX_MINOR,
  AMOUNT_MIN_MINOR,
  BOUNDS_STRIDE,
  END_MS,
  FastCampaignTable,
  OUTCOME_APPLIED,
  OUTCOME_ELIGIBLE,
  outcomeCode,
  PROGRAM_CHECKED,
  PROGRAM_MISSING,
  START_MS,
} from "./fast-campaign-table.ts";
import { FastIndex } from "./fast-index.ts";
import {
  CheckedPayment,
  fastPaymentCheck,
  SEGMENT_IDS,
  vocabularyId,
} from "./fast-payment-check.ts";
import { FastZoneClock } from "./fast-zone-clock.ts";
import { CAMPAIGN_CHECK_ORDER, type PaymentReasonCode, type ReasonCode } from "./reason-codes.ts";
import { paymentIdOf, quoteReference } from "./reference-evaluator.ts";
import { envelopeBoundsFor, type Snapshot, type SnapshotCampaign } from "./snapshot.ts";
import { hashString32, unitDraw } from "./stable-hash.ts";

export interface FastEvaluator {
  readonly snapshot: Snapshot;
  /** False when the snapshot is one `quoteReference` answers for (see the file comment). */
  readonly compiled: boolean;
  quote(input: unknown, options?: QuoteOptions): Decision;
  /**
   * `quote` for a payment `fastPaymentCheck` accepted; compiled evaluators only. A checked
   * payment holds vocabulary ids, not snapshot ids, so one check serves several evaluators (a
   * simulation quotes every payment under two snapshots).
   */
  quoteChecked?(payment: CheckedPayment, options?: QuoteOptions): Decision;
  /**
   * What `quoteChecked` would grant, without a decision: compiled evaluators only. The grants
   * are left in `grants` until the next call (see `FastGrants`); returns how many there are.
   */
  grantChecked?(payment: CheckedPayment): number;
  /** The last `grantChecked`'s answer. */
  readonly grants?: FastCandidateGrants;
}

/**
 * The subsidies one payment was granted under one snapshot, in grant order, as the decision's
 * `subsidies` would list them: `positions[i]` is the campaign's position in the snapshot,
 * `amountsMinor[i]` what it was granted. Overwritten by the next call. For a simulation, which
 * sums money and needs no decision objects, rejection lists or subsidy objects.
 */
export interface FastGrants {
  /** Granted subsidies; 0 when refused or nothing applies. */
  count: number;
  totalMinor: number;
  readonly positions: Int32Array;
  readonly amountsMinor: Float64Array;
}

/** `grantChecked`'s grants, with the candidates the index admitted. */
export interface FastCandidateGrants extends FastGrants {
  /** Campaigns the index admitted (and whose positions are in `candidates`); -1 when refused. */
  candidateCount: number;
  readonly candidates: Int32Array;
}

/**
 * Both snapshots of a change granting one payment in one pass (`createFastGrantPair`): what two
 * `grantChecked` calls, one per snapshot, would leave in their grants.
 */
export interface FastGrantPair {
  /**
   * Grants a checked payment under both snapshots. True when the proposed snapshot grants exactly
   * what the current one does (every campaign that could reach the payment is in both): `proposed`
   * is then left stale and `current`'s grants, with current positions, stand for both.
   */
  grantBoth(payment: CheckedPayment): boolean;
  readonly current: FastGrants;
  /** Positions in the proposed snapshot. */
  readonly proposed: FastGrants;
}

/** Which snapshots of a pair a campaign of their union belongs to (bits). */
const IN_CURRENT = 1;
const IN_PROPOSED = 2;
const IN_BOTH = IN_CURRENT | IN_PROPOSED;

const AMOUNT_RANGE = outcomeCode("scope.amount_range");
const OUTSIDE_PERIOD = outcomeCode("schedule.outside_period");
const OUTSIDE_DAILY_WINDOW = outcomeCode("schedule.outside_daily_window");
const OUTSIDE_WEEKDAYS = outcomeCode("schedule.outside_weekdays");
const PROGRAM_MISSING_CODE = outcomeCode("envelope.program_missing");
const PROGRAM_MISMATCH = outcomeCode("envelope.program_mismatch");
const NOTHING_DUE = outcomeCode("offer.nothing_due");
const EXCLUSIVE_GROUP_LOST = outcomeCode("stacking.exclusive_group_lost");
const TOTAL_BOUND_REACHED = outcomeCode("envelope.total_bound_reached");

const NO_SUBSIDIES: readonly Subsidy[] = Object.freeze([]);
const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

export function createFastEvaluator(snapshot: Snapshot): FastEvaluator {
  if (!isOrdinary(snapshot.campaigns)) {
    return {
      snapshot,
      compiled: false,
      quote: (input, options = {}) => quoteReference(snapshot, input, options),
    };
  }
  return new CompiledEvaluator(snapshot);
}

/**
 * One pass over one index for both snapshots of a change: the campaigns of both, those the change
 * leaves alone once, are compiled together; a payment's candidates are collected and checked once
 * (their offers computed once), and only stacking and the envelope run per side, over the
 * eligible campaigns of that side. `proposedPositions[p]` is the position in `proposed` of a
 * campaign equal in every effective field to the current snapshot's campaign `p`, or -1 when the
 * change touches it: only equal campaigns may be shared, as their checks and offers are computed
 * once for both. Undefined when the snapshots differ beyond their campaigns (envelope, programs,
 * random seed), or either is one the fast evaluator does not compile: grant them one by one then.
 */
export function createFastGrantPair(
  current: Snapshot,
  proposed: Snapshot,
  proposedPositions: Int32Array,
): FastGrantPair | undefined {
  if (
    !isOrdinary(current.campaigns) ||
    !isOrdinary(proposed.campaigns) ||
    current.randomSeed !== proposed.randomSeed ||
    JSON.stringify(current.envelope) !== JSON.stringify(proposed.envelope) ||
    JSON.stringify([...current.programs]) !== JSON.stringify([...proposed.programs])
  ) {
    return undefined;
  }
  if (proposedPositions.length !== current.campaigns.length)
    throw new RangeError("proposedPositions needs one entry per current campaign");
  const sharedInProposed = new Uint8Array(proposed.campaigns.length);
  const union: SnapshotCampaign[] = [...current.campaigns];
  const sides: number[] = [];
  const unionProposedPositions: number[] = [];
  proposedPositions.forEach((position, currentPosition) => {
    const shared = position >= 0;
    if (shared) {
      const counterpart = proposed.campaigns[position];
      if (
        counterpart === undefined ||
        sharedInProposed[position] === 1 ||
        counterpart.campaign.id !== current.campaigns[currentPosition]!.campaign.id
      )
        throw new RangeError(`proposedPositions[${currentPosition}] names no counterpart`);
      sharedInProposed[position] = 1;
    }
    sides.push(shared ? IN_BOTH : IN_CURRENT);
    unionProposedPositions.push(position);
  });
  proposed.campaigns.forEach((effective, position) => {
    if (sharedInProposed[position] === 1) return;
    union.push(effective);
    sides.push(IN_PROPOSED);
    unionProposedPositions.push(position);
  });
  // Campaign ids repeat in the union (a touched campaign before and after), but never within
  // one side, and ties are only ever broken within one side: ranks by id stay a total order there.
  const evaluator = new CompiledEvaluator({ ...current, campaigns: union });
  return evaluator.pairWith(Uint8Array.from(sides), Int32Array.from(unionProposedPositions));
}

/** Unique string ids, finite priorities and array scope lists: what validated configs give. */
function isOrdinary(campaigns: readonly SnapshotCampaign[]): boolean {
  const ids = new Set<string>();
  for (const effective of campaigns) {
    const { campaign } = effective;
    if (typeof campaign.id !== "string" || ids.has(campaign.id)) return false;
    ids.add(campaign.id);
    const priority: unknown = campaign.stacking.priority;
    if (typeof priority !== "number" || !Number.isFinite(priority)) return false;
    const scope = campaign.scope;
    const lists: unknown[] = [
      effective.scenarios,
      scope.regions,
      scope.channels ?? [],
      scope.paymentMethods ?? [],
      scope.merchantCategories ?? [],
      scope.merchantIds ?? [],
      scope.segments ?? [],
    ];
    if (!lists.every(Array.isArray)) return false;
  }
  return true;
}

class CompiledEvaluator implements FastEvaluator {
  readonly snapshot: Snapshot;
  readonly compiled = true;
  private readonly index: FastIndex;
  private readonly table: FastCampaignTable;
  private readonly clock: FastZoneClock;
  /** Where `quote` checks its input. */
  private readonly payment = new CheckedPayment();
  /** The payment being quoted: `payment`, or the one given to `quoteChecked`. */
  private checked = this.payment;
  /** Envelope bounds by currency id (the first entry for the currency, as `find` gives). */
  private readonly bounds: ReturnType<typeof envelopeBoundsFor>[];
  /** By scenario id: protected by the envelope's list or the cash-equivalent set. */
  private readonly protectedScenarios: Uint8Array;
  // Scratch, reused by every quote: candidates by candidate number k, and per-group state.
  private readonly candidates: Int32Array;
  private readonly outcomes: Uint8Array;
  private readonly offersMinor: Float64Array;
  private readonly eligible: Int32Array;
  /** Candidate numbers within their campaign's amount range, in order. */
  private readonly inRange: Int32Array;
  private readonly winners: Int32Array;
  /** `grantRanks` of `winners`, side by side, so that the insertion sort compares one load. */
  private readonly winnerGrantRanks: Int32Array;
  /** What each winner, by rank, is granted under the envelope bound. */
  private readonly grantsMinor: Float64Array;
  /** Best candidate number per exclusive group while `stack` runs; -1 between payments. */
  private readonly groupBest: Int32Array;
  /** Zone whose local time `clock` holds for the payment being quoted; -1 when none yet. */
  private clockZoneId = -1;
  /** Set by `grantWinners`: what the winners were granted in total. */
  private grantedTotalMinor = 0;
  readonly grants: FastCandidateGrants;

  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
    this.index = new FastIndex(snapshot.campaigns);
    this.table = new FastCampaignTable(snapshot);
    this.clock = new FastZoneClock(this.table.zones);
    this.bounds = CURRENCIES.map((currency) => envelopeBoundsFor(snapshot.envelope, currency));
    const protectedScenarios: readonly string[] = [
      ...snapshot.envelope.protectedScenarios,
      ...CASH_EQUIVALENT_SCENARIOS,
    ];
    this.protectedScenarios = Uint8Array.from(SCENARIOS, (scenario) =>
      protectedScenarios.includes(scenario) ? 1 : 0,
    );
    const size = Math.max(1, this.table.size);
    this.candidates = new Int32Array(size);
    this.outcomes = new Uint8Array(size);
    this.offersMinor = new Float64Array(size);
    this.eligible = new Int32Array(size);
    this.inRange = new Int32Array(size);
    this.winners = new Int32Array(size);
    this.winnerGrantRanks = new Int32Array(size);
    this.grantsMinor = new Float64Array(size);
    this.groupBest = new Int32Array(Math.max(1, this.table.groupCount)).fill(-1);
    this.grants = {
      count: 0,
      totalMinor: 0,
      candidateCount: -1,
      positions: new Int32Array(size),
      amountsMinor: new Float64Array(size),
      candidates: this.candidates,
    };
  }

  quote(input: unknown, options?: QuoteOptions): Decision {
    const payment = this.payment;
    if (!fastPaymentCheck(input, payment)) {
      return this.refused(paymentIdOf(input), "payment.invalid", options);
    }
    return this.quoteChecked(payment, options);
  }

  quoteChecked(payment: CheckedPayment, options?: QuoteOptions): Decision {
    this.checked = payment;
    const bounds = this.bounds[payment.currencyId];
    if (bounds === undefined) {
      return this.refused(payment.paymentId, "payment.currency_without_envelope", options);
    }
    if (this.protectedScenarios[payment.scenarioId] === 1) {
      return this.refused(payment.paymentId, "envelope.protected_scenario", options);
    }
    if (payment.individualPayee) {
      return this.refused(payment.paymentId, "envelope.individual_payee", options);
    }
    if (payment.amountMinor <= bounds.minPayableMinor) {
      return this.refused(payment.paymentId, "envelope.min_payable", options);
    }

    const candidates = this.candidates;
    const count = this.index.collect(payment, candidates);
    const eligibleCount = this.checkCandidates(count);
    const winnerCount = eligibleCount === 0 ? 0 : this.stack(this.eligible, eligibleCount);
    // Grants first, subsidies after: the array is then allocated at its final length.
    const appliedCount = this.grantWinners(winnerCount, bounds);
    const totalSubsidyMinor = this.grantedTotalMinor;
    const subsidies = appliedCount === 0 ? NO_SUBSIDIES : this.subsidies(winnerCount, appliedCount);

    const table = this.table;
    const rejectedCount = count - appliedCount;
    const rejected =
      rejectedCount === 0
        ? NO_REJECTIONS
        : table.rejectedList(candidates, this.outcomes, rejectedCount);

    const decision: Decision = {
      paymentId: payment.paymentId,
      snapshotVersion: this.snapshot.version,
      reason: null,
      subsidies,
      totalSubsidyMinor,
      rejected,
      excludedByIndex: table.size - count,
      subjectToBudget: appliedCount > 0,
    };
    // No default `{}` for `options`: it would be allocated on every call that omits it.
    if (options === undefined || !options.explain) return decision;
    return { ...decision, explanation: this.explain(count) };
  }

  grantChecked(payment: CheckedPayment): number {
    this.checked = payment;
    const grants = this.grants;
    grants.count = 0;
    grants.totalMinor = 0;
    grants.candidateCount = -1;
    const bounds = this.bounds[payment.currencyId];
    // The payment-level refusals of `quoteChecked`, in its order: none grants anything.
    if (
      bounds === undefined ||
      this.protectedScenarios[payment.scenarioId] === 1 ||
      payment.individualPayee ||
      payment.amountMinor <= bounds.minPayableMinor
    ) {
      return 0;
    }
    const count = this.index.collect(payment, this.candidates);
    grants.candidateCount = count;
    const eligibleCount = this.checkCandidates(count);
    if (eligibleCount === 0) return 0;
    return this.grantEligible(this.eligible, eligibleCount, bounds, grants, undefined);
  }

  /**
   * Stacking and the envelope over `eligible[0..eligibleCount)`, the granted campaigns written
   * to `grants` (their positions through `positionMap` when given); returns how many.
   */
  private grantEligible(
    eligible: Int32Array,
    eligibleCount: number,
    bounds: EnvelopeCurrency,
    grants: FastGrants,
    positionMap: Int32Array | undefined,
  ): number {
    const winnerCount = this.stack(eligible, eligibleCount);
    const appliedCount = this.grantWinners(winnerCount, bounds);
    const winners = this.winners;
    const outcomes = this.outcomes;
    const candidates = this.candidates;
    const grantsMinor = this.grantsMinor;
    const positions = grants.positions;
    const amountsMinor = grants.amountsMinor;
    for (let rank = 0, listed = 0; rank < winnerCount; rank += 1) {
      const k = winners[rank]!;
      if (outcomes[k] !== OUTCOME_APPLIED) continue;
      const position = candidates[k]!;
      positions[listed] = positionMap === undefined ? position : positionMap[position]!;
      amountsMinor[listed] = grantsMinor[rank]!;
      listed += 1;
    }
    grants.count = appliedCount;
    grants.totalMinor = this.grantedTotalMinor;
    return appliedCount;
  }

  /**
   * This evaluator, compiled over the union of two snapshots' campaigns (the current snapshot's
   * first, in its order), as a `FastGrantPair`: `sides` says which snapshots each campaign is in,
   * `proposedPositions` where it is in the proposed one. Never exposed as an evaluator: its
   * campaign ids repeat.
   */
  pairWith(sides: Uint8Array, proposedPositions: Int32Array): FastGrantPair {
    const size = Math.max(1, this.table.size);
    const current: FastGrants = {
      count: 0,
      totalMinor: 0,
      positions: new Int32Array(size),
      amountsMinor: new Float64Array(size),
    };
    const proposed: FastGrants = {
      count: 0,
      totalMinor: 0,
      positions: new Int32Array(size),
      amountsMinor: new Float64Array(size),
    };
    const sideEligible = new Int32Array(size);
    return {
      current,
      proposed,
      grantBoth: (payment) =>
        this.grantBoth(payment, sides, proposedPositions, sideEligible, current, proposed),
    };
  }

  /** `FastGrantPair.grantBoth` (see `pairWith`). */
  private grantBoth(
    payment: CheckedPayment,
    sides: Uint8Array,
    proposedPositions: Int32Array,
    sideEligible: Int32Array,
    current: FastGrants,
    proposed: FastGrants,
  ): boolean {
    this.checked = payment;
    current.count = 0;
    current.totalMinor = 0;
    const bounds = this.bounds[payment.currencyId];
    // The payment-level refusals depend on the envelope alone, which both snapshots share.
    if (
      bounds === undefined ||
      this.protectedScenarios[payment.scenarioId] === 1 ||
      payment.individualPayee ||
      payment.amountMinor <= bounds.minPayableMinor
    ) {
      return true;
    }
    const candidates = this.candidates;
    const count = this.index.collect(payment, candidates);
    const eligibleCount = this.checkCandidates(count);
    if (eligibleCount === 0) return true;
    const eligible = this.eligible;
    let shared = true;
    for (let index = 0; index < eligibleCount; index += 1) {
      if (sides[candidates[eligible[index]!]!] !== IN_BOTH) {
        shared = false;
        break;
      }
    }
    // Every eligible campaign in both snapshots: both stack and bound them alike. (A touched
    // campaign that is not eligible changes nothing: stacking sees only eligible ones.)
    if (shared) {
      this.grantEligible(eligible, eligibleCount, bounds, current, undefined);
      return true;
    }
    // The union lists the current snapshot's campaigns first, at their own positions.
    let sideCount = 0;
    for (let index = 0; index < eligibleCount; index += 1) {
      const k = eligible[index]!;
      sideEligible[sideCount] = k;
      sideCount += sides[candidates[k]!]! & IN_CURRENT;
    }
    if (sideCount > 0) this.grantEligible(sideEligible, sideCount, bounds, current, undefined);
    proposed.count = 0;
    proposed.totalMinor = 0;
    sideCount = 0;
    for (let index = 0; index < eligibleCount; index += 1) {
      const k = eligible[index]!;
      sideEligible[sideCount] = k;
      sideCount += (sides[candidates[k]!]! & IN_PROPOSED) >>> 1;
    }
    if (sideCount > 0)
      this.grantEligible(sideEligible, sideCount, bounds, proposed, proposedPositions);
    return false;
  }

  /**
   * The envelope over the winners in grant order: each takes what it offers, up to what the
   * payment's bound leaves. Sets each winner's outcome and grant; returns how many were granted
   * something, their total in `grantedTotalMinor`.
   */
  private grantWinners(winnerCount: number, bounds: EnvelopeCurrency): number {
    const amountMinor = this.checked.amountMinor;
    let remainingMinor = Math.min(
      bounds.perPaymentMaxMinor,
      applyRateBpsFloor(amountMinor, bounds.perPaymentMaxRateBps),
      amountMinor - bounds.minPayableMinor,
    );
    const outcomes = this.outcomes;
    const winners = this.winners;
    const offersMinor = this.offersMinor;
    const grantsMinor = this.grantsMinor;
    let appliedCount = 0;
    let totalSubsidyMinor = 0;
    for (let rank = 0; rank < winnerCount; rank += 1) {
      const k = winners[rank]!;
      const offerMinor = offersMinor[k]!;
      const grantedMinor = Math.min(offerMinor, remainingMinor);
      if (grantedMinor === 0) {
        outcomes[k] = TOTAL_BOUND_REACHED;
        continue;
      }
      remainingMinor -= grantedMinor;
      outcomes[k] = OUTCOME_APPLIED;
      grantsMinor[rank] = grantedMinor;
      appliedCount += 1;
      totalSubsidyMinor += grantedMinor;
    }
    this.grantedTotalMinor = totalSubsidyMinor;
    return appliedCount;
  }

  /** The subsidies of the winners that were granted something, in grant order. */
  private subsidies(winnerCount: number, appliedCount: number): Subsidy[] {
    const winners = this.winners;
    const outcomes = this.outcomes;
    const candidates = this.candidates;
    const subsidies = new Array<Subsidy>(appliedCount);
    for (let rank = 0, listed = 0; rank < winnerCount; rank += 1) {
      const k = winners[rank]!;
      if (outcomes[k] !== OUTCOME_APPLIED) continue;
      subsidies[listed] = this.subsidyOf(
        candidates[k]!,
        this.grantsMinor[rank]!,
        this.offersMinor[k]!,
      );
      listed += 1;
    }
    return subsidies;
  }

  /**
   * Runs the non-indexed checks and the offer for candidates 0..count-1, leaving each one's
   * outcome in `outcomes` (and its offer in `offersMinor` when eligible) and the eligible ones,
   * in order, in `eligible`; returns how many are eligible.
   */
  private checkCandidates(count: number): number {
    // Fields read into locals once: the offer call inside the loop could, as far as the
    // compiler knows, change them, so it would otherwise reload them for every candidate.
    const table = this.table;
    const candidates = this.candidates;
    const outcomes = this.outcomes;
    const offersMinor = this.offersMinor;
    const eligible = this.eligible;
    const bounds = table.bounds;
    const amountMinor = this.checked.amountMinor;
    const atMs = this.checked.atMs;

    // First the amount range, which about half the candidates fail, without a branch: a
    // mispredicted one per candidate cost more than the check. Those in range are listed in
    // `inRange` (the slot is written every time; the count moves only when the check holds).
    const inRange = this.inRange;
    let inRangeCount = 0;
    for (let k = 0; k < count; k += 1) {
      const base = candidates[k]! * BOUNDS_STRIDE;
      outcomes[k] = AMOUNT_RANGE;
      inRange[inRangeCount] = k;
      inRangeCount +=
        +(amountMinor >= bounds[base + AMOUNT_MIN_MINOR]!) &
        +(amountMinor <= bounds[base + AMOUNT_MAX_MINOR]!);
    }

    this.clockZoneId = -1;
    let paymentHash = -1;
    let eligibleCount = 0;
    for (let index = 0; index < inRangeCount; index += 1) {
      const k = inRange[index]!;
      const position = candidates[k]!;
      const base = position * BOUNDS_STRIDE;
      let outcome: number;
      if (atMs >= bounds[base + START_MS]! && atMs < bounds[base + END_MS]!) {
        outcome = this.localTimeAndProgramOutcome(position, atMs);
      } else {
        // An unreadable period is NaN and lands here: re-run the helper so that it throws
        // exactly when the reference's would.
        if (table.scheduleReadable[position] === 0) {
          periodInstants(table.campaigns[position]!.campaign.schedule);
        }
        outcome = OUTSIDE_PERIOD;
      }
      if (outcome === OUTCOME_ELIGIBLE) {
        let draw = 0;
        if (table.drawsRandom[position] === 1) {
          if (paymentHash < 0) {
            paymentHash = hashString32(this.checked.paymentId, this.snapshot.randomSeed);
          }
          draw = unitDraw(paymentHash, table.salts[position]!);
        }
        const offerMinor = Math.min(
          table.offerKinds[position]!.subsidyMinor(
            table.offers[position] as never,
            amountMinor,
            draw,
          ),
          table.capMinor[position]!,
        );
        // Whatever an offer computes, only a positive whole amount is due: a negative one would
        // free room under the envelope bound for the next campaign.
        if (!Number.isSafeInteger(offerMinor) || offerMinor <= 0) outcome = NOTHING_DUE;
        else {
          offersMinor[k] = offerMinor;
          eligible[eligibleCount] = k;
          eligibleCount += 1;
        }
      }
      outcomes[k] = outcome;
    }
    return eligibleCount;
  }

  /** The checks after the period and before the offer, in `CAMPAIGN_CHECK_ORDER`. */
  private localTimeAndProgramOutcome(position: number, atMs: number): number {
    const table = this.table;
    const zoneId = table.zoneIds[position]!;
    if (zoneId >= 0) {
      const clock = this.clock;
      // A payment has one instant: its local time in a zone is read once, not per candidate.
      if (zoneId !== this.clockZoneId) {
        clock.read(zoneId, atMs);
        this.clockZoneId = zoneId;
      }
      const windowCount = table.dailyCounts[position]!;
      if (windowCount >= 0) {
        const minuteOfDay = clock.minuteOfDay;
        const minutes = table.dailyMinutes;
        let inside = false;
        for (
          let window = table.dailyStarts[position]! * 2, end = window + windowCount * 2;
          window < end;
          window += 2
        ) {
          if (minutes[window]! <= minuteOfDay && minuteOfDay < minutes[window + 1]!) {
            inside = true;
            break;
          }
        }
        if (!inside) return OUTSIDE_DAILY_WINDOW;
      }
      // A campaign without a weekday list has the mask -1: every bit, every day.
      if ((table.weekdayMasks[position]! & (1 << clock.weekday)) === 0) return OUTSIDE_WEEKDAYS;
    }
    const programMode = table.programModes[position]!;
    if (programMode === PROGRAM_MISSING) return PROGRAM_MISSING_CODE;
    if (programMode === PROGRAM_CHECKED) {
      const program = table.programs[table.programRefs[position]!]!;
      if (!program.readable) periodInstants(program.program.validity);
      const payment = this.checked;
      const covers =
        program.currency === payment.currency &&
        atMs >= program.startMs &&
        atMs < program.endMs &&
        program.regions[payment.regionId] === 1 &&
        payment.merchantCategory !== undefined &&
        program.merchantCategories.has(payment.merchantCategory);
      if (!covers) return PROGRAM_MISMATCH;
    }
    return OUTCOME_ELIGIBLE;
  }

  /**
   * Exclusive groups, then the order winners take from the envelope, over the candidate numbers
   * `eligible[0..eligibleCount)`: fills `winners` with them by priority (descending) then id,
   * and returns how many there are.
   */
  private stack(eligible: Int32Array, eligibleCount: number): number {
    const winners = this.winners;
    // One eligible campaign, the most common case, wins its group (if any) and needs no order.
    if (eligibleCount === 1) {
      winners[0] = eligible[0]!;
      return 1;
    }
    const table = this.table;
    const groupIds = table.groupIds;
    const grantRanks = table.grantRanks;
    const candidates = this.candidates;
    const outcomes = this.outcomes;
    const winnerGrantRanks = this.winnerGrantRanks;
    const groupBest = this.groupBest;
    let grouped = false;
    for (let index = 0; index < eligibleCount; index += 1) {
      const k = eligible[index]!;
      const group = groupIds[candidates[k]!]!;
      if (group < 0) continue;
      grouped = true;
      const best = groupBest[group]!;
      if (best < 0 || this.beats(k, best)) groupBest[group] = k;
    }
    let winnerCount = 0;
    for (let index = 0; index < eligibleCount; index += 1) {
      const k = eligible[index]!;
      const position = candidates[k]!;
      if (grouped) {
        const group = groupIds[position]!;
        if (group >= 0 && groupBest[group] !== k) {
          outcomes[k] = EXCLUSIVE_GROUP_LOST;
          continue;
        }
      }
      // Insertion sort on the grant rank (priority, then id): winners are few.
      const grantRank = grantRanks[position]!;
      let slot = winnerCount;
      while (slot > 0 && grantRank < winnerGrantRanks[slot - 1]!) {
        winners[slot] = winners[slot - 1]!;
        winnerGrantRanks[slot] = winnerGrantRanks[slot - 1]!;
        slot -= 1;
      }
      winners[slot] = k;
      winnerGrantRanks[slot] = grantRank;
      winnerCount += 1;
    }
    if (grouped) {
      // Leave every group without a best for the next payment.
      for (let index = 0; index < eligibleCount; index += 1) {
        const group = groupIds[candidates[eligible[index]!]!]!;
        if (group >= 0) groupBest[group] = -1;
      }
    }
    return winnerCount;
  }

  /** The reference's `beats`: higher priority, then larger offer, then smaller id. */
  private beats(left: number, right: number): boolean {
    const table = this.table;
    const leftPosition = this.candidates[left]!;
    const rightPosition = this.candidates[right]!;
    const leftPriority = table.priorities[leftPosition]!;
    const rightPriority = table.priorities[rightPosition]!;
    if (leftPriority !== rightPriority) return leftPriority > rightPriority;
    const leftOfferMinor = this.offersMinor[left]!;
    const rightOfferMinor = this.offersMinor[right]!;
    if (leftOfferMinor !== rightOfferMinor) return leftOfferMinor > rightOfferMinor;
    return table.idRanks[leftPosition]! < table.idRanks[rightPosition]!;
  }

  /**
   * Two literals rather than a conditional spread: a subsidy without a program has no `programId`
   * key at all (as the reference's), and each literal keeps one object shape without the spread's
   * allocation on the hot path.
   */
  private subsidyOf(position: number, amountMinor: number, offerMinor: number): Subsidy {
    const parts = this.table.subsidyParts[position]!;
    if (parts.programId === undefined) {
      return {
        campaignId: parts.campaignId,
        campaignVersion: parts.campaignVersion,
        templateId: parts.templateId,
        amountMinor,
        offerMinor,
        funding: parts.funding,
        label: parts.label,
      };
    }
    return {
      campaignId: parts.campaignId,
      campaignVersion: parts.campaignVersion,
      templateId: parts.templateId,
      amountMinor,
      offerMinor,
      funding: parts.funding,
      programId: parts.programId,
      label: parts.label,
    };
  }

  private refused(
    paymentId: string | null,
    reason: PaymentReasonCode,
    options: QuoteOptions | undefined,
  ): Decision {
    const decision: Decision = {
      paymentId,
      snapshotVersion: this.snapshot.version,
      reason,
      subsidies: NO_SUBSIDIES,
      totalSubsidyMinor: 0,
      rejected: NO_REJECTIONS,
      excludedByIndex: 0,
      subjectToBudget: false,
    };
    if (options === undefined || !options.explain) return decision;
    return {
      ...decision,
      explanation: this.snapshot.campaigns.map((effective) => ({
        campaignId: effective.campaign.id,
        outcome: reason,
      })),
    };
  }

  /** Every campaign's outcome in position order: candidates from the quote, the rest recomputed. */
  private explain(count: number): Explanation[] {
    const explanation: Explanation[] = [];
    let k = 0;
    this.snapshot.campaigns.forEach((effective, position) => {
      let outcome: Explanation["outcome"];
      if (k < count && this.candidates[k] === position) {
        const code = this.outcomes[k]!;
        outcome = code === OUTCOME_APPLIED ? "applied" : CAMPAIGN_CHECK_ORDER[code]!;
        k += 1;
      } else {
        outcome = firstFailingIndexedCheck(effective, this.checked);
      }
      explanation.push({ campaignId: effective.campaign.id, outcome });
    });
    return explanation;
  }
}

/**
 * The indexed check a campaign the index excluded fails first, asked of the campaign itself
 * (as the reference does) so that `explain` also cross-checks the index.
 */
function firstFailingIndexedCheck(
  effective: SnapshotCampaign,
  payment: CheckedPayment,
): ReasonCode {
  const { campaign } = effective;
  const scope = campaign.scope;
  const scenario = SCENARIOS[payment.scenarioId]! as Payment["scenario"];
  if (campaign.currency !== payment.currency) return "scope.currency";
  if (!effective.scenarios.includes(scenario)) return "scope.scenario";
  if (!scope.regions.includes(payment.region as Payment["region"])) return "scope.region";
  if (scope.channels !== undefined && !scope.channels.includes(CHANNELS[payment.channelId]!))
    return "scope.channel";
  if (
    scope.paymentMethods !== undefined &&
    !scope.paymentMethods.includes(PAYMENT_METHODS[payment.paymentMethodId]!)
  )
    return "scope.payment_method";
  if (
    scope.merchantCategories !== undefined &&
    (payment.merchantCategory === undefined ||
      !scope.merchantCategories.includes(payment.merchantCategory))
  )
    return "scope.merchant_category";
  if (scope.merchantIds !== undefined && !scope.merchantIds.includes(payment.merchantId))
    return "scope.merchant";
  if (
    scope.segments !== undefined &&
    !scope.segments.some((segment) => (payment.segmentBits & segmentBit(segment)) !== 0)
  )
    return "scope.segment";
  throw new Error(`the index excluded campaign ${campaign.id}, yet it passes every indexed check`);
}

function segmentBit(segment: unknown): number {
  const id = vocabularyId(SEGMENT_IDS, segment);
  return id === undefined ? 0 : 1 << id;
}
