/**
 * The ledger of checked subsidies, its pure part (guard mode, ADR 0023,
 * docs/reference/guard-mode-ledger.md): what an external engine was allowed for a payment becomes
 * one ledger request through the same store step as a native `apply`, so exactly-once, durability,
 * limits, refunds, `bursar ledger verify` and the impact report hold for it unchanged.
 *
 * - One entry per external campaign on the payment: `ext:<campaignRef>`, version 1, template
 *   `ext:*`, the sum of its allowed proposals, their funding, label and program. The ledger keeps
 *   one entry per payment and campaign, so a later proposal of the same campaign with another
 *   funding, label or program is refused (`ledger.campaign_mixed`) rather than mislabelled.
 * - Each entry draws on: the registered campaign's total budget (`campaign/ext:<ref>`, funded)
 *   and daily budget (`campaign-day/ext:<ref>/DATE`, DATE in its `dailyBudget.timeZone`); the
 *   subsidy program's budget and per-user maximum, shared with native campaigns; and the
 *   envelope's per-user daily ceiling, shared with native campaigns. An unregistered or unbudgeted
 *   campaign has no budget account of its own.
 * - The request commits at once (`commitAtOnce`): the external engine pays what it was allowed,
 *   and a guard's caller does not call back to settle.
 * - The check's own answer is stored with the ledger's (`check`), so that a replay is answered
 *   from what was stored, whatever the kills or the envelope say now.
 */
import { envelopeBoundsFor } from "../evaluator/snapshot.ts";
import {
  externalCampaignId,
  type ProposalAnswer,
  type ProposalCheck,
} from "../guard/proposal-check.ts";
import type {
  ProposalCheckCode,
  ProposalCheckPaymentCode,
  UnhealthyCode,
} from "../guard/proposal-check-codes.ts";
import {
  EXTERNAL_CAMPAIGN_VERSION,
  EXTERNAL_TEMPLATE_ID,
  type ExternalCampaign,
  type Proposal,
  type ProposalListProblem,
  type WhenUnhealthy,
} from "../guard/proposal-input.ts";
import type { Envelope } from "../model/envelope.ts";
import type { Payment } from "../model/payment.ts";
import type { Program } from "../model/program.ts";
import {
  type CheckedSubsidyCode,
  type CheckLedgerOutcome,
  checkedRefusalOf,
} from "./checked-subsidy-codes.ts";
import {
  bounded,
  identityKeys,
  localDate,
  paymentContentKey,
  perIdentity,
  platformDaySuffix,
  programDebits,
} from "./plan-reservation.ts";
import { REFUND_RESTORES_DEFAULT } from "./refund.ts";
import {
  type Debit,
  IDENTITY_ACCOUNT_PREFIX,
  type PlannedSubsidy,
  type ReservationAnswer,
  type ReservationRequest,
} from "./reservation.ts";

/** One proposal's answer once the ledger has had its say: a check's, or refused by the ledger. */
export interface RecordedProposalAnswer extends Omit<ProposalAnswer, "reason"> {
  readonly reason: ProposalCheckCode | CheckedSubsidyCode | null;
}

/** What the check answered before the ledger's limits, stored with the ledger's answer. */
export interface StoredCheck {
  readonly unhealthy: UnhealthyCode | null;
  readonly answers: readonly RecordedProposalAnswer[];
}

/** A check's answer with its ledger outcome: `ProposalCheck`'s fields, and two more. */
export interface RecordedCheck {
  readonly paymentId: string | null;
  readonly reason: ProposalCheckPaymentCode | null;
  readonly unhealthy: UnhealthyCode | "ledger.unavailable" | null;
  readonly answers: readonly RecordedProposalAnswer[];
  readonly allowedTotalMinor: number;
  readonly problem: ProposalListProblem | null;
  /** What the ledger did with the check; null when the service has no ledger. */
  readonly ledger: CheckLedgerOutcome | null;
  /** True when this is the stored answer to an earlier check with the same id and content. */
  readonly replayed: boolean;
}

/** What planning reads besides the check: the served configuration and the registrations. */
export interface CheckLedgerContext {
  /** The envelope served now, for the per-user daily ceiling; undefined when none is. */
  readonly envelope: Envelope | undefined;
  readonly programs: ReadonlyMap<string, Program>;
  readonly externalCampaigns: ReadonlyMap<string, ExternalCampaign> | undefined;
  readonly snapshotVersion: number;
}

/** The ledger account of a registered external campaign's total budget. */
export function externalBudgetAccount(campaignRef: string): string {
  return `campaign/${externalCampaignId(campaignRef)}`;
}

/**
 * The canonical content of a check for idempotency: the payment's content key (every field but
 * `atMs`) and every proposal, in order. `whenUnhealthy` is the caller's policy, not content.
 * Never equal to a native payment's content key (`paymentContentKey`): the ledger service keys
 * checks by a digest of this text under its own prefix.
 */
export function checkContentText(payment: Payment, proposals: readonly Proposal[]): string {
  const listed: unknown[] = [];
  for (const proposal of proposals) {
    listed.push([
      proposal.proposalId,
      proposal.campaignRef,
      proposal.amountMinor,
      proposal.funding,
      proposal.label,
      proposal.programId ?? null,
    ]);
  }
  return JSON.stringify([paymentContentKey(payment), listed]);
}

/** One campaign's allowed proposals on the payment: one ledger entry. */
interface CampaignGroup {
  readonly proposal: Proposal;
  amountMinor: number;
}

/**
 * The ledger request for a check that allowed something, or undefined when it allowed nothing
 * (nothing to account for, nothing stored). `payment` and `proposals` are the ones the check
 * accepted as valid. `owner`, the principal the check is made for, owns the recorded payment as
 * it owns an applied one: only it may refund it (`ReservationRequest.owner`).
 */
export function planCheckedReservation(
  payment: Payment,
  proposals: readonly Proposal[],
  check: ProposalCheck,
  context: CheckLedgerContext,
  contentKey: string,
  owner?: string,
): ReservationRequest | undefined {
  if (check.allowedTotalMinor === 0) return undefined;
  const answers: RecordedProposalAnswer[] = [...check.answers];
  const groups = new Map<string, CampaignGroup>();
  for (let index = 0; index < answers.length; index += 1) {
    const answer = answers[index]!;
    if (answer.amountMinor === 0) continue;
    const proposal = proposals[index]!;
    const group = groups.get(proposal.campaignRef);
    if (group === undefined) {
      groups.set(proposal.campaignRef, { proposal, amountMinor: answer.amountMinor });
    } else if (
      group.proposal.funding !== proposal.funding ||
      group.proposal.label !== proposal.label ||
      group.proposal.programId !== proposal.programId
    ) {
      answers[index] = refusedBy(answer, "ledger.campaign_mixed");
    } else {
      group.amountMinor += answer.amountMinor;
    }
  }
  const prefixes = identityKeys(payment).map((key) => `${IDENTITY_ACCOUNT_PREFIX}${key}/`);
  const envelope = context.envelope;
  const ceilingMinor =
    envelope === undefined
      ? undefined
      : envelopeBoundsFor(envelope, payment.currency)?.perUserDailyMaxMinor;
  const platformDay =
    envelope === undefined
      ? ""
      : platformDaySuffix(payment.currency, localDate(payment.atMs, envelope.timeZone));
  const subsidies: PlannedSubsidy[] = [];
  for (const { proposal, amountMinor } of groups.values()) {
    const registered = context.externalCampaigns?.get(proposal.campaignRef);
    const debits = campaignDebits(proposal.campaignRef, registered, payment.atMs, amountMinor);
    if (proposal.programId !== undefined) {
      programDebits(debits, context.programs, proposal.programId, prefixes, amountMinor);
    }
    if (ceilingMinor !== undefined) {
      for (const prefix of prefixes) {
        debits.push(
          perIdentity(
            prefix,
            platformDay,
            amountMinor,
            ceilingMinor,
            null,
            "platform_ceiling_reached",
          ),
        );
      }
    }
    const planned: PlannedSubsidy = {
      campaignId: externalCampaignId(proposal.campaignRef),
      campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
      amountMinor,
      funding: proposal.funding,
      label: proposal.label,
      refundRestores: REFUND_RESTORES_DEFAULT,
      templateId: EXTERNAL_TEMPLATE_ID,
      debits,
    };
    subsidies.push(
      proposal.programId === undefined ? planned : { ...planned, programId: proposal.programId },
    );
  }
  return {
    paymentId: payment.paymentId,
    contentKey,
    paymentAmountMinor: payment.amountMinor,
    atMs: payment.atMs,
    // Committed at once: nothing expires (the field is required of every request).
    expiresAtMs: payment.atMs,
    snapshotVersion: context.snapshotVersion,
    userId: payment.userId,
    scenario: payment.scenario,
    region: payment.region,
    owner,
    subsidies,
    commitAtOnce: true,
    check: { unhealthy: check.unhealthy, answers },
  };
}

/** The registered campaign's own budgets: total (funded) and daily (bounded). */
function campaignDebits(
  campaignRef: string,
  registered: ExternalCampaign | undefined,
  atMs: number,
  amountMinor: number,
): Debit[] {
  const debits: Debit[] = [];
  if (registered?.budgetMinor !== undefined) {
    debits.push({
      account: externalBudgetAccount(campaignRef),
      amountMinor,
      count: 1,
      funded: true,
      capacityMinor: null,
      countCapacity: null,
      refusal: "budget_exhausted",
    });
  }
  const daily = registered?.dailyBudget;
  if (daily !== undefined) {
    const date = localDate(atMs, daily.timeZone);
    debits.push(
      bounded(
        `campaign-day/${externalCampaignId(campaignRef)}/${date}`,
        amountMinor,
        daily.amountMinor,
        null,
        "daily_budget_exhausted",
      ),
    );
  }
  return debits;
}

/**
 * The answer of a recorded check from the ledger's stored answer alone — the first time and on
 * every replay alike: the check's stored answers, less what the ledger refused (every proposal of
 * a campaign whose entry a limit refused).
 */
export function recordedCheckOf(answer: ReservationAnswer, replayed: boolean): RecordedCheck {
  const stored = answer.check;
  if (stored === undefined) {
    throw new Error(`payment ${answer.paymentId}'s stored answer is not a check's`);
  }
  const codes = new Map<string, string>();
  for (const subsidy of answer.subsidies) codes.set(subsidy.campaignId, subsidy.code);
  let allowedTotalMinor = 0;
  const answers = stored.answers.map((proposalAnswer) => {
    if (proposalAnswer.amountMinor === 0) return proposalAnswer;
    const code = codes.get(externalCampaignId(proposalAnswer.campaignRef));
    if (code === undefined) {
      throw new Error(
        `payment ${answer.paymentId}: no ledger answer for ${proposalAnswer.campaignRef}`,
      );
    }
    if (code !== "reserved") {
      return refusedBy(
        proposalAnswer,
        checkedRefusalOf(code as Parameters<typeof checkedRefusalOf>[0]),
      );
    }
    allowedTotalMinor += proposalAnswer.amountMinor;
    return proposalAnswer;
  });
  return {
    paymentId: answer.paymentId,
    reason: null,
    unhealthy: stored.unhealthy,
    answers,
    allowedTotalMinor,
    problem: null,
    ledger: "ledger.recorded",
    replayed,
  };
}

/**
 * The answer when the ledger could not record the check (it failed, or missed its deadline):
 * under `refuse` every allowed proposal is refused; under `pass` only those whose limits live in
 * the ledger — a registered budget or a program's budget — since those must never be overspent.
 */
export function unrecordedCheckOf(
  check: ProposalCheck,
  proposals: readonly Proposal[],
  externalCampaigns: ReadonlyMap<string, ExternalCampaign> | undefined,
  whenUnhealthy: WhenUnhealthy,
): RecordedCheck {
  return refuseWhere(check, "ledger.unavailable", "ledger.unavailable", (index) => {
    if (whenUnhealthy === "refuse") return true;
    const proposal = proposals[index]!;
    const registered = externalCampaigns?.get(proposal.campaignRef);
    return (
      proposal.programId !== undefined ||
      registered?.budgetMinor !== undefined ||
      registered?.dailyBudget !== undefined
    );
  });
}

/** The answer when the payment id was recorded before with other content: nothing allowed. */
export function conflictingCheckOf(check: ProposalCheck): RecordedCheck {
  return refuseWhere(check, "ledger.idempotency_conflict", null, () => true);
}

/** A check with nothing to record (nothing allowed), or recorded without a ledger. */
export function unstoredCheckOf(
  check: ProposalCheck,
  ledger: "ledger.nothing_allowed" | null,
): RecordedCheck {
  return { ...check, ledger, replayed: false };
}

function refuseWhere(
  check: ProposalCheck,
  code: "ledger.unavailable" | "ledger.idempotency_conflict",
  unhealthy: "ledger.unavailable" | null,
  refuses: (index: number) => boolean,
): RecordedCheck {
  let allowedTotalMinor = 0;
  const answers = check.answers.map((answer, index): RecordedProposalAnswer => {
    if (answer.amountMinor === 0) return answer;
    if (refuses(index)) return refusedBy(answer, code);
    allowedTotalMinor += answer.amountMinor;
    return answer;
  });
  return {
    ...check,
    unhealthy: unhealthy ?? check.unhealthy,
    answers,
    allowedTotalMinor,
    ledger: code,
    replayed: false,
  };
}

function refusedBy(
  answer: RecordedProposalAnswer,
  reason: CheckedSubsidyCode,
): RecordedProposalAnswer {
  return { ...answer, outcome: "refused", amountMinor: 0, clampedBy: null, reason };
}
