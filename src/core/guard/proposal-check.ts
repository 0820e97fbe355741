/**
 * Guard mode's check (DESIGN §4.7, docs/reference/guard-mode.md): an external promotion engine
 * proposes subsidies for a payment; each is allowed, clamped or refused under the envelope, the
 * kills and the external campaign's registration. Pure and total: bad input is answered as a
 * value with a code, never thrown.
 *
 * The rules, in order (the first that applies is the answer):
 * 1. The request: a proposal list that `checkProposalList` refuses is `proposals.invalid`.
 * 2. The payment, refusing every proposal: `payment.invalid`; a protected scenario (the envelope's
 *    list and the always-protected cash-equivalent set, known even without an envelope); an
 *    individual payee; no envelope served (`guard.envelope_unavailable`, under `refuse`); a
 *    currency without bounds; an amount not above the minimum payable; a stale kill state
 *    (`guard.snapshot_stale`, under `refuse`).
 * 3. Each proposal, in the caller's order: a label that claims another funder; government funding
 *    or label without a registered program covering the payment; a kill naming it; a registered
 *    campaign's declared funding, label, scenarios and regions.
 * 4. What is left is clamped in the caller's order: first by a registered campaign's own
 *    per-payment maximum (across its proposals), then by the envelope's per-payment bound
 *    `min(perPaymentMaxMinor, floor(amount × perPaymentMaxRateBps / 10000), amount −
 *    minPayableMinor)` shared by all proposals, as the evaluator's total bound is. A proposal left
 *    nothing is refused (`registration.cap_reached`, `envelope.total_bound_reached`).
 *
 * Under `whenUnhealthy: "pass"` a missing envelope skips the envelope's bounds (step 2's currency
 * and minimum, step 4's envelope bound) and a stale kill state applies the kills last known; both
 * are reported in `unhealthy`. Nothing else is relaxed: protected scenarios, individual payees,
 * labels, programs, known kills and registrations still refuse.
 */
import type { Decision, Rejection, Subsidy } from "../evaluator/decision.ts";
import { CheckedPayment, fastPaymentCheck } from "../evaluator/fast-payment-check.ts";
import { envelopeBoundsFor } from "../evaluator/snapshot.ts";
import { FUNDING_ALLOWED_BY_LABEL } from "../funding.ts";
import type { Envelope, EnvelopeCurrency } from "../model/envelope.ts";
import type { Payment } from "../model/payment.ts";
import type { Program } from "../model/program.ts";
import { periodInstants } from "../model/schedule.ts";
import { applyRateBpsFloor } from "../money.ts";
import { CASH_EQUIVALENT_SCENARIOS } from "../scenario.ts";
import type { KillMatcher } from "./kill.ts";
import type {
  ClampBound,
  ProposalCheckCode,
  ProposalCheckPaymentCode,
  UnhealthyCode,
} from "./proposal-check-codes.ts";
import {
  checkProposalList,
  EXTERNAL_CAMPAIGN_PREFIX,
  EXTERNAL_CAMPAIGN_VERSION,
  EXTERNAL_TEMPLATE_ID,
  type ExternalCampaign,
  type Proposal,
  type ProposalListProblem,
  type WhenUnhealthy,
} from "./proposal-input.ts";

export interface ProposalCheckContext {
  /** The envelope served now; undefined when no configuration is served. */
  readonly envelope: Envelope | undefined;
  /** The registered subsidy programs served now (empty when none is served). */
  readonly programs: ReadonlyMap<string, Program>;
  /** The kills this process knows, stale or not. */
  readonly kills: KillMatcher;
  /** Registered external campaigns by campaignRef; unregistered ones face the envelope only. */
  readonly externalCampaigns?: ReadonlyMap<string, ExternalCampaign>;
  /** True when the kill state has not been confirmed current within its allowed staleness. */
  readonly killStateStale: boolean;
  readonly whenUnhealthy: WhenUnhealthy;
}

export type ProposalOutcome = "allowed" | "clamped" | "refused";

/** One proposal's answer. Every field is always present (null when it does not apply). */
export interface ProposalAnswer {
  readonly proposalId: string;
  readonly campaignRef: string;
  readonly outcome: ProposalOutcome;
  readonly proposedMinor: number;
  /** What may be granted: the proposal, less when clamped, 0 when refused. */
  readonly amountMinor: number;
  /** The bound that clamped it (`clamped` only). */
  readonly clampedBy: ClampBound | null;
  /** Why it was refused (`refused` only). */
  readonly reason: ProposalCheckCode | null;
}

export interface ProposalCheck {
  /** The payment's id when it has a string one (even if the payment is otherwise invalid). */
  readonly paymentId: string | null;
  /** Set when the request or the payment as a whole gets nothing. */
  readonly reason: ProposalCheckPaymentCode | null;
  /** Set when Bursar answered by the caller's `whenUnhealthy` default. */
  readonly unhealthy: UnhealthyCode | null;
  /** One per proposal, in the caller's order; empty when the request itself is invalid. */
  readonly answers: readonly ProposalAnswer[];
  /** Sum of `amountMinor` over the answers: never above the envelope's per-payment bound. */
  readonly allowedTotalMinor: number;
  /** Where the request was invalid (`request.invalid`, `proposals.invalid`, `payment.invalid`). */
  readonly problem: ProposalListProblem | null;
}

/**
 * Checks `proposals` for `payment` under `context`. `checked` is scratch space a hot caller
 * reuses between calls; nothing of it is read afterwards.
 */
export function checkProposals(
  payment: unknown,
  proposals: unknown,
  context: ProposalCheckContext,
  checked: CheckedPayment = new CheckedPayment(),
): ProposalCheck {
  const paymentId = paymentIdOf(payment);
  const listProblem = checkProposalList(proposals);
  if (listProblem !== undefined) {
    return invalidRequest(paymentId, "proposals.invalid", listProblem);
  }
  const list = proposals as readonly Proposal[];
  if (!fastPaymentCheck(payment, checked)) {
    return refuseAll(paymentId, list, "payment.invalid", null, {
      path: "payment",
      message: "the payment does not match the payment schema",
    });
  }
  const valid = payment as Payment;
  const gate = paymentGate(valid, context);
  if (gate.reason !== null) return refuseAll(paymentId, list, gate.reason, gate.unhealthy, null);
  return checkEach(paymentId, valid, list, context, gate);
}

/**
 * A whole request, `guardCheckRequestSchema`'s shape, checked by hand: `{payment, proposals,
 * whenUnhealthy?}`; the request's `whenUnhealthy` replaces the context's.
 */
export function checkGuardRequest(
  input: unknown,
  context: ProposalCheckContext,
  checked: CheckedPayment = new CheckedPayment(),
): ProposalCheck {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return invalidRequest(null, "request.invalid", { path: "", message: "expected an object" });
  }
  const request = input as Record<string, unknown>;
  for (const key in request) {
    if (key !== "payment" && key !== "proposals" && key !== "whenUnhealthy") {
      return invalidRequest(paymentIdOf(request.payment), "request.invalid", {
        path: key,
        message: "unknown field",
      });
    }
  }
  const whenUnhealthy = request.whenUnhealthy;
  if (whenUnhealthy === undefined || whenUnhealthy === context.whenUnhealthy) {
    return checkProposals(request.payment, request.proposals, context, checked);
  }
  if (whenUnhealthy !== "refuse" && whenUnhealthy !== "pass") {
    return invalidRequest(paymentIdOf(request.payment), "request.invalid", {
      path: "whenUnhealthy",
      message: "expected refuse or pass",
    });
  }
  return checkProposals(request.payment, request.proposals, { ...context, whenUnhealthy }, checked);
}

/** A request that could not be read at all: nothing answered per proposal. */
export function invalidRequest(
  paymentId: string | null,
  reason: "request.invalid" | "proposals.invalid",
  problem: ProposalListProblem,
): ProposalCheck {
  return { paymentId, reason, unhealthy: null, answers: [], allowedTotalMinor: 0, problem };
}

interface PaymentGate {
  readonly reason: ProposalCheckPaymentCode | null;
  readonly unhealthy: UnhealthyCode | null;
  /** Undefined when no envelope is served and the caller chose to pass. */
  readonly bounds: EnvelopeCurrency | undefined;
}

function paymentGate(payment: Payment, context: ProposalCheckContext): PaymentGate {
  const { envelope, whenUnhealthy } = context;
  if (isProtected(payment.scenario, envelope)) return refusal("envelope.protected_scenario");
  if (payment.payeeKind === "individual") return refusal("envelope.individual_payee");
  let unhealthy: UnhealthyCode | null = null;
  let bounds: EnvelopeCurrency | undefined;
  if (envelope === undefined) {
    if (whenUnhealthy === "refuse") return refusal("guard.envelope_unavailable", true);
    unhealthy = "guard.envelope_unavailable";
  } else {
    bounds = envelopeBoundsFor(envelope, payment.currency);
    if (bounds === undefined) return refusal("payment.currency_without_envelope");
    if (payment.amountMinor <= bounds.minPayableMinor) return refusal("envelope.min_payable");
  }
  if (context.killStateStale) {
    if (whenUnhealthy === "refuse") return refusal("guard.snapshot_stale", true);
    unhealthy ??= "guard.snapshot_stale";
  }
  return { reason: null, unhealthy, bounds };
}

function refusal(
  reason: ProposalCheckPaymentCode,
  unhealthy = false,
): PaymentGate & { reason: ProposalCheckPaymentCode } {
  return {
    reason,
    unhealthy: unhealthy ? (reason as UnhealthyCode) : null,
    bounds: undefined,
  };
}

function isProtected(scenario: string, envelope: Envelope | undefined): boolean {
  return (
    (CASH_EQUIVALENT_SCENARIOS as readonly string[]).includes(scenario) ||
    (envelope !== undefined &&
      (envelope.protectedScenarios as readonly string[]).includes(scenario))
  );
}

function checkEach(
  paymentId: string | null,
  payment: Payment,
  proposals: readonly Proposal[],
  context: ProposalCheckContext,
  gate: PaymentGate,
): ProposalCheck {
  const { bounds } = gate;
  let remainingMinor = Number.POSITIVE_INFINITY;
  let envelopeBound: ClampBound = "per_payment_max";
  if (bounds !== undefined) {
    const rateMinor = applyRateBpsFloor(payment.amountMinor, bounds.perPaymentMaxRateBps);
    const payableMinor = payment.amountMinor - bounds.minPayableMinor;
    remainingMinor = bounds.perPaymentMaxMinor;
    if (rateMinor < remainingMinor) {
      remainingMinor = rateMinor;
      envelopeBound = "per_payment_rate";
    }
    if (payableMinor < remainingMinor) {
      remainingMinor = payableMinor;
      envelopeBound = "min_payable";
    }
  }
  const answers: ProposalAnswer[] = new Array(proposals.length);
  let allowedTotalMinor = 0;
  for (let index = 0; index < proposals.length; index += 1) {
    const proposal = proposals[index]!;
    const registered = context.externalCampaigns?.get(proposal.campaignRef);
    const reason = proposalReason(proposal, payment, registered, context);
    if (reason !== undefined) {
      answers[index] = refused(proposal, reason);
      continue;
    }
    let amountMinor = proposal.amountMinor;
    let clampedBy: ClampBound | null = null;
    const registeredMaxMinor = registered?.perPaymentMaxMinor;
    if (registeredMaxMinor !== undefined) {
      const roomMinor = registeredMaxMinor - usedBy(answers, index, proposal.campaignRef);
      if (roomMinor <= 0) {
        answers[index] = refused(proposal, "registration.cap_reached");
        continue;
      }
      if (amountMinor > roomMinor) {
        amountMinor = roomMinor;
        clampedBy = "registered_max";
      }
    }
    if (remainingMinor <= 0) {
      answers[index] = refused(proposal, "envelope.total_bound_reached");
      continue;
    }
    if (amountMinor > remainingMinor) {
      amountMinor = remainingMinor;
      clampedBy = envelopeBound;
    }
    remainingMinor -= amountMinor;
    allowedTotalMinor += amountMinor;
    answers[index] = {
      proposalId: proposal.proposalId,
      campaignRef: proposal.campaignRef,
      outcome: clampedBy === null ? "allowed" : "clamped",
      proposedMinor: proposal.amountMinor,
      amountMinor,
      clampedBy,
      reason: null,
    };
  }
  return {
    paymentId,
    reason: null,
    unhealthy: gate.unhealthy,
    answers,
    allowedTotalMinor,
    problem: null,
  };
}

function proposalReason(
  proposal: Proposal,
  payment: Payment,
  registered: ExternalCampaign | undefined,
  context: ProposalCheckContext,
): ProposalCheckCode | undefined {
  if (!FUNDING_ALLOWED_BY_LABEL[proposal.label].includes(proposal.funding)) {
    return "proposal.label_not_allowed";
  }
  if (proposal.funding === "government" || proposal.label === "government_subsidy") {
    const programReason = programCheck(proposal.programId, payment, context.programs);
    if (programReason !== undefined) return programReason;
  }
  if (!context.kills.empty && context.kills.kills(killProbeOf(proposal))) return "guard.killed";
  if (registered === undefined) return undefined;
  if (registered.funding !== proposal.funding) return "registration.funding_mismatch";
  if (registered.label !== proposal.label) return "registration.label_mismatch";
  if (!registered.scope.scenarios.includes(payment.scenario)) {
    return "registration.scenario_outside";
  }
  if (!registered.scope.regions.includes(payment.region)) return "registration.region_outside";
  return undefined;
}

/** The same coverage the evaluator asks of a native campaign's program. */
function programCheck(
  programId: string | undefined,
  payment: Payment,
  programs: ReadonlyMap<string, Program>,
): ProposalCheckCode | undefined {
  const program = programId === undefined ? undefined : programs.get(programId);
  if (program === undefined) return "envelope.program_missing";
  const { startMs, endMs } = validityOf(program);
  const covers =
    program.currency === payment.currency &&
    payment.atMs >= startMs &&
    payment.atMs < endMs &&
    program.regions.includes(payment.region) &&
    payment.merchantCategory !== undefined &&
    program.merchantCategories.includes(payment.merchantCategory);
  return covers ? undefined : "envelope.program_mismatch";
}

/**
 * A program's validity as instants, computed once per program object: `periodInstants` reads
 * the time zone's offsets (about 30 µs), and every government proposal asks. Programs are
 * immutable parts of a served configuration, so the instants never change for one object.
 */
function validityOf(program: Program): { readonly startMs: number; readonly endMs: number } {
  let instants = VALIDITY_BY_PROGRAM.get(program);
  if (instants === undefined) {
    instants = periodInstants(program.validity);
    VALIDITY_BY_PROGRAM.set(program, instants);
  }
  return instants;
}

const VALIDITY_BY_PROGRAM = new WeakMap<
  Program,
  { readonly startMs: number; readonly endMs: number }
>();

/** What a kill matcher reads of a subsidy, for an external campaign. */
function killProbeOf(proposal: Proposal): Subsidy {
  return {
    campaignId: externalCampaignId(proposal.campaignRef),
    campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
    templateId: EXTERNAL_TEMPLATE_ID,
    amountMinor: 0,
    offerMinor: 0,
    funding: proposal.funding,
    label: proposal.label,
  };
}

/** The id kills, breakers and the ledger know an external campaign by. */
export function externalCampaignId(campaignRef: string): string {
  return EXTERNAL_CAMPAIGN_PREFIX + campaignRef;
}

/** What earlier proposals of the same campaign were allowed on this payment. */
function usedBy(answers: readonly ProposalAnswer[], before: number, campaignRef: string): number {
  let usedMinor = 0;
  for (let index = 0; index < before; index += 1) {
    const answer = answers[index]!;
    if (answer.campaignRef === campaignRef) usedMinor += answer.amountMinor;
  }
  return usedMinor;
}

function refused(proposal: Proposal, reason: ProposalCheckCode): ProposalAnswer {
  return {
    proposalId: proposal.proposalId,
    campaignRef: proposal.campaignRef,
    outcome: "refused",
    proposedMinor: proposal.amountMinor,
    amountMinor: 0,
    clampedBy: null,
    reason,
  };
}

function refuseAll(
  paymentId: string | null,
  proposals: readonly Proposal[],
  reason: ProposalCheckPaymentCode,
  unhealthy: UnhealthyCode | null,
  problem: ProposalListProblem | null,
): ProposalCheck {
  return {
    paymentId,
    reason,
    unhealthy,
    answers: proposals.map((proposal) => refused(proposal, reason)),
    allowedTotalMinor: 0,
    problem,
  };
}

function paymentIdOf(input: unknown): string | null {
  if (typeof input !== "object" || input === null) return null;
  const paymentId = (input as { paymentId?: unknown }).paymentId;
  return typeof paymentId === "string" ? paymentId : null;
}

/**
 * What the runtime guard records of a check: a decision whose subsidies are the allowed and
 * clamped proposals, as external campaigns (`ext:<campaignRef>`, template `ext:*`, version 1),
 * so the same monitors and breakers see them. `rejected` stays empty: guard mode's codes are not
 * the evaluator's, and the guard reads only what was granted.
 */
export function decisionOfCheck(
  check: ProposalCheck,
  proposals: readonly Proposal[],
  snapshotVersion: number,
): Decision {
  // Most checked payments get nothing: they share one empty list (the guard keeps none of it).
  let subsidies: readonly Subsidy[] = NO_SUBSIDIES;
  if (check.allowedTotalMinor > 0) {
    const granted: Subsidy[] = [];
    for (let index = 0; index < check.answers.length; index += 1) {
      const answer = check.answers[index]!;
      if (answer.amountMinor === 0) continue;
      granted.push(subsidyOf(proposals[index]!, answer.amountMinor));
    }
    subsidies = granted;
  }
  return {
    paymentId: check.paymentId,
    snapshotVersion,
    reason: null,
    subsidies,
    totalSubsidyMinor: check.allowedTotalMinor,
    rejected: NO_REJECTIONS,
    excludedByIndex: 0,
    subjectToBudget: false,
  };
}

const NO_SUBSIDIES: readonly Subsidy[] = Object.freeze([]);
const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

function subsidyOf(proposal: Proposal, amountMinor: number): Subsidy {
  const subsidy = {
    campaignId: externalCampaignId(proposal.campaignRef),
    campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
    templateId: EXTERNAL_TEMPLATE_ID,
    amountMinor,
    offerMinor: proposal.amountMinor,
    funding: proposal.funding,
    label: proposal.label,
  };
  return proposal.programId === undefined ? subsidy : { ...subsidy, programId: proposal.programId };
}
