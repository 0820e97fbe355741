/**
 * The reference evaluator: the oracle. It reads the model directly, checks every campaign one by
 * one in the documented order and favours obviousness over speed. The fast evaluator must return
 * exactly what this returns (proven by differential property tests).
 *
 * The rules, in order:
 * 1. The payment as a whole: a payment that fails `paymentSchema` gets `payment.invalid`; then a
 *    currency the envelope has no bounds for, a protected scenario (the envelope's list and the
 *    always-protected cash-equivalent set), an individual payee, and an amount not above the
 *    minimum payable each refuse the payment with their code.
 * 2. Each campaign, in id order: the first failing check of `CAMPAIGN_CHECK_ORDER` is its reason.
 *    Failures of indexed checks are counted in `excludedByIndex`; the others are listed.
 * 3. The offer, capped by the campaign's `perPaymentCapMinor`; zero is `offer.nothing_due`.
 * 4. Exclusive groups: one winner per group — higher priority, then larger offer, then smaller id.
 * 5. Winners in priority order (then id) take from the payment's envelope bound,
 *    `min(perPaymentMaxMinor, floor(amount × perPaymentMaxRateBps / 10000), amount − minPayableMinor)`,
 *    each at most its offer; one that gets nothing is `envelope.total_bound_reached`.
 */

import { minutesOfDay } from "../model/fields.ts";
import type { Payment } from "../model/payment.ts";
import { paymentSchema } from "../model/payment.ts";
import { periodInstants } from "../model/schedule.ts";
import { applyRateBpsFloor } from "../money.ts";
import { offerKindOf } from "../offers/registry.ts";
import { CASH_EQUIVALENT_SCENARIOS } from "../scenario.ts";
import { zonedParts } from "../time-zone.ts";
import type { Decision, Explanation, QuoteOptions, Rejection, Subsidy } from "./decision.ts";
import { INDEXED_CHECKS, type PaymentReasonCode, type ReasonCode } from "./reason-codes.ts";
import { envelopeBoundsFor, type Snapshot, type SnapshotCampaign } from "./snapshot.ts";
import { hashString32, unitDraw } from "./stable-hash.ts";

interface Eligible {
  readonly campaign: SnapshotCampaign;
  readonly offerMinor: number;
}

export function quoteReference(
  snapshot: Snapshot,
  input: unknown,
  options: QuoteOptions = {},
): Decision {
  const paymentId = paymentIdOf(input);
  const parsed = paymentSchema.safeParse(input);
  if (!parsed.success) return refused(snapshot, paymentId, "payment.invalid", options);
  const payment = parsed.data;

  const bounds = envelopeBoundsFor(snapshot.envelope, payment.currency);
  if (bounds === undefined)
    return refused(snapshot, paymentId, "payment.currency_without_envelope", options);
  const protectedScenarios: readonly string[] = [
    ...snapshot.envelope.protectedScenarios,
    ...CASH_EQUIVALENT_SCENARIOS,
  ];
  if (protectedScenarios.includes(payment.scenario)) {
    return refused(snapshot, paymentId, "envelope.protected_scenario", options);
  }
  if (payment.payeeKind === "individual")
    return refused(snapshot, paymentId, "envelope.individual_payee", options);
  if (payment.amountMinor <= bounds.minPayableMinor)
    return refused(snapshot, paymentId, "envelope.min_payable", options);

  const outcomes = new Map<string, Explanation["outcome"]>();
  const eligible: Eligible[] = [];
  const paymentHash = hashString32(payment.paymentId, snapshot.randomSeed);
  for (const campaign of snapshot.campaigns) {
    const reason = firstFailingCheck(snapshot, campaign, payment);
    if (reason !== undefined) {
      outcomes.set(campaign.campaign.id, reason);
      continue;
    }
    const offerMinor = offerFor(campaign, payment, paymentHash);
    // Only a positive whole amount is due: a negative one would free room under the envelope bound.
    if (!Number.isSafeInteger(offerMinor) || offerMinor <= 0)
      outcomes.set(campaign.campaign.id, "offer.nothing_due");
    else eligible.push({ campaign, offerMinor });
  }

  const winners = exclusiveGroupWinners(eligible, outcomes);
  winners.sort(byPriorityThenId);

  let remainingMinor = Math.min(
    bounds.perPaymentMaxMinor,
    applyRateBpsFloor(payment.amountMinor, bounds.perPaymentMaxRateBps),
    payment.amountMinor - bounds.minPayableMinor,
  );
  const subsidies: Subsidy[] = [];
  for (const { campaign, offerMinor } of winners) {
    const amountMinor = Math.min(offerMinor, remainingMinor);
    if (amountMinor === 0) {
      outcomes.set(campaign.campaign.id, "envelope.total_bound_reached");
      continue;
    }
    remainingMinor -= amountMinor;
    outcomes.set(campaign.campaign.id, "applied");
    subsidies.push(subsidyOf(campaign, amountMinor, offerMinor));
  }

  const rejected: Rejection[] = [];
  let excludedByIndex = 0;
  for (const campaign of snapshot.campaigns) {
    const outcome = outcomes.get(campaign.campaign.id)!;
    if (outcome === "applied") continue;
    if (INDEXED_CHECKS.has(outcome)) excludedByIndex += 1;
    else rejected.push({ campaignId: campaign.campaign.id, reason: outcome });
  }
  const totalSubsidyMinor = subsidies.reduce((sum, subsidy) => sum + subsidy.amountMinor, 0);
  return {
    paymentId,
    snapshotVersion: snapshot.version,
    reason: null,
    subsidies,
    totalSubsidyMinor,
    rejected,
    excludedByIndex,
    subjectToBudget: subsidies.length > 0,
    ...(options.explain
      ? {
          explanation: snapshot.campaigns.map((c) => ({
            campaignId: c.campaign.id,
            outcome: outcomes.get(c.campaign.id)!,
          })),
        }
      : {}),
  };
}

/** The payment id to echo back, when the input has a string one (even if otherwise invalid). */
export function paymentIdOf(input: unknown): string | null {
  if (typeof input !== "object" || input === null) return null;
  const paymentId = (input as { paymentId?: unknown }).paymentId;
  return typeof paymentId === "string" ? paymentId : null;
}

function refused(
  snapshot: Snapshot,
  paymentId: string | null,
  reason: PaymentReasonCode,
  options: QuoteOptions,
): Decision {
  return {
    paymentId,
    snapshotVersion: snapshot.version,
    reason,
    subsidies: [],
    totalSubsidyMinor: 0,
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: false,
    ...(options.explain
      ? {
          explanation: snapshot.campaigns.map((campaign) => ({
            campaignId: campaign.campaign.id,
            outcome: reason,
          })),
        }
      : {}),
  };
}

function firstFailingCheck(
  snapshot: Snapshot,
  effective: SnapshotCampaign,
  payment: Payment,
): ReasonCode | undefined {
  const { campaign } = effective;
  const scope = campaign.scope;
  if (campaign.currency !== payment.currency) return "scope.currency";
  if (!effective.scenarios.includes(payment.scenario)) return "scope.scenario";
  if (!scope.regions.includes(payment.region)) return "scope.region";
  if (scope.channels !== undefined && !scope.channels.includes(payment.channel))
    return "scope.channel";
  if (scope.paymentMethods !== undefined && !scope.paymentMethods.includes(payment.paymentMethod)) {
    return "scope.payment_method";
  }
  if (
    scope.merchantCategories !== undefined &&
    (payment.merchantCategory === undefined ||
      !scope.merchantCategories.includes(payment.merchantCategory))
  ) {
    return "scope.merchant_category";
  }
  if (scope.merchantIds !== undefined && !scope.merchantIds.includes(payment.merchantId))
    return "scope.merchant";
  if (
    scope.segments !== undefined &&
    !scope.segments.some((segment) => payment.segments?.includes(segment))
  ) {
    return "scope.segment";
  }
  const range = scope.amountRange;
  if (
    range !== undefined &&
    (payment.amountMinor < (range.minMinor ?? 0) ||
      payment.amountMinor > (range.maxMinor ?? Number.MAX_SAFE_INTEGER))
  ) {
    return "scope.amount_range";
  }
  const { startMs, endMs } = periodInstants(campaign.schedule);
  if (payment.atMs < startMs || payment.atMs >= endMs) return "schedule.outside_period";
  const local = zonedParts(payment.atMs, campaign.schedule.timeZone);
  const minuteOfDay = local.hour * 60 + local.minute;
  const daily = campaign.schedule.daily;
  if (
    daily !== undefined &&
    !daily.some(
      (window) => minutesOfDay(window.from) <= minuteOfDay && minuteOfDay < minutesOfDay(window.to),
    )
  ) {
    return "schedule.outside_daily_window";
  }
  if (
    campaign.schedule.weekdays !== undefined &&
    !campaign.schedule.weekdays.includes(local.weekday)
  ) {
    return "schedule.outside_weekdays";
  }
  return programCheck(snapshot, effective, payment);
}

/** Government funding and the government label need a registered program that covers the payment. */
function programCheck(
  snapshot: Snapshot,
  effective: SnapshotCampaign,
  payment: Payment,
): ReasonCode | undefined {
  const needsProgram =
    effective.funding.source === "government" || effective.label === "government_subsidy";
  if (!needsProgram) return undefined;
  const programId = effective.funding.programId;
  const program = programId === undefined ? undefined : snapshot.programs.get(programId);
  if (program === undefined) return "envelope.program_missing";
  const { startMs, endMs } = periodInstants(program.validity);
  const covers =
    program.currency === payment.currency &&
    payment.atMs >= startMs &&
    payment.atMs < endMs &&
    program.regions.includes(payment.region) &&
    payment.merchantCategory !== undefined &&
    program.merchantCategories.includes(payment.merchantCategory);
  return covers ? undefined : "envelope.program_mismatch";
}

function offerFor(effective: SnapshotCampaign, payment: Payment, paymentHash: number): number {
  const draw = unitDraw(paymentHash, hashString32(effective.campaign.id, 0));
  const offerMinor = offerKindOf(effective.offer).subsidyMinor(
    effective.offer,
    payment.amountMinor,
    draw,
  );
  const capMinor = effective.campaign.limits.perPaymentCapMinor;
  return capMinor === undefined ? offerMinor : Math.min(offerMinor, capMinor);
}

function exclusiveGroupWinners(
  eligible: readonly Eligible[],
  outcomes: Map<string, Explanation["outcome"]>,
): Eligible[] {
  const winners: Eligible[] = [];
  const bestByGroup = new Map<string, Eligible>();
  for (const candidate of eligible) {
    const group = candidate.campaign.campaign.stacking.exclusiveGroup;
    if (group === undefined) {
      winners.push(candidate);
      continue;
    }
    const best = bestByGroup.get(group);
    if (best === undefined || beats(candidate, best)) bestByGroup.set(group, candidate);
  }
  for (const candidate of eligible) {
    const group = candidate.campaign.campaign.stacking.exclusiveGroup;
    if (group === undefined) continue;
    if (bestByGroup.get(group) === candidate) winners.push(candidate);
    else outcomes.set(candidate.campaign.campaign.id, "stacking.exclusive_group_lost");
  }
  return winners;
}

function beats(left: Eligible, right: Eligible): boolean {
  const leftPriority = left.campaign.campaign.stacking.priority;
  const rightPriority = right.campaign.campaign.stacking.priority;
  if (leftPriority !== rightPriority) return leftPriority > rightPriority;
  if (left.offerMinor !== right.offerMinor) return left.offerMinor > right.offerMinor;
  return left.campaign.campaign.id < right.campaign.campaign.id;
}

function byPriorityThenId(left: Eligible, right: Eligible): number {
  const difference =
    right.campaign.campaign.stacking.priority - left.campaign.campaign.stacking.priority;
  if (difference !== 0) return difference;
  return left.campaign.campaign.id < right.campaign.campaign.id ? -1 : 1;
}

function subsidyOf(effective: SnapshotCampaign, amountMinor: number, offerMinor: number): Subsidy {
  return {
    campaignId: effective.campaign.id,
    campaignVersion: effective.version,
    templateId: effective.template.id,
    amountMinor,
    offerMinor,
    funding: effective.funding.source,
    ...(effective.funding.programId === undefined
      ? {}
      : { programId: effective.funding.programId }),
    label: effective.label,
  };
}
