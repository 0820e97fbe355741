/**
 * The ledger of checked subsidies (guard mode, ADR 0023, docs/reference/guard-mode-ledger.md):
 * what a guard check allowed is recorded through the ledger store's own `reserve` step, committed
 * at once, so that exactly-once per payment id, durability before the answer, budgets that are
 * never overspent, refunds, `bursar ledger verify` and the impact report hold for external
 * engines as they do for native campaigns. The planning is pure
 * (`src/core/ledger/checked-subsidies.ts`); this adds the store, its deadline and the content
 * key's digest.
 *
 * Never throws for a store failure: past the deadline, or when the store fails, the check is
 * answered by the caller's `whenUnhealthy` (`unrecordedCheckOf`), as `apply` answers
 * `ledger_unavailable`.
 */
import { hash } from "node:crypto";
import type { ProposalCheck } from "../core/guard/proposal-check.ts";
import type { ExternalCampaign, Proposal, WhenUnhealthy } from "../core/guard/proposal-input.ts";
import {
  type CheckLedgerContext,
  checkContentText,
  conflictingCheckOf,
  externalBudgetAccount,
  planCheckedReservation,
  type RecordedCheck,
  recordedCheckOf,
  unrecordedCheckOf,
  unstoredCheckOf,
} from "../core/ledger/checked-subsidies.ts";
import type { Payment } from "../core/model/payment.ts";
import type { FundAnswer, LedgerStore } from "./ledger-store.ts";
import { STORE_DEADLINE_MS_DEFAULT, withinDeadline } from "./store-deadline.ts";

/**
 * How a check's content key starts. A native payment's key is a JSON array (`[`…), so a payment
 * id used by an `apply` and by a check never matches: the second is an idempotency conflict.
 */
export const CHECK_CONTENT_KEY_PREFIX = "guard-check/v1:";

/** Why the ledger was funded for registered external budgets, in the fundings it records. */
export const EXTERNAL_FUNDING_REASON = "external campaign registrations: registered budgets";

export interface CheckedSubsidyLedgerOptions {
  readonly store: LedgerStore;
  readonly nowMs: () => number;
  /**
   * How long a check waits for the store before it is answered by `whenUnhealthy` (default
   * 50 ms, as `apply`); `null` waits as long as the store takes.
   */
  readonly storeDeadlineMs?: number | null;
  /** Told about every store failure turned into `ledger.unavailable` (for logs and metrics). */
  readonly onStoreFailure?: (cause: unknown) => void;
}

/** One valid check to record: the request as checked, and what planning reads. */
export interface CheckToRecord {
  readonly payment: Payment;
  readonly proposals: readonly Proposal[];
  readonly check: ProposalCheck;
  readonly context: CheckLedgerContext;
  /** The request's `whenUnhealthy`, else the service's. */
  readonly whenUnhealthy: WhenUnhealthy;
  /**
   * The principal the check is made for (the HTTP caller's): it owns the recorded payment, so
   * only it may refund it, and another's check of the same id is a conflict. Absent in process.
   */
  readonly owner?: string;
}

export class CheckedSubsidyLedger {
  private readonly store: LedgerStore;
  private readonly nowMs: () => number;
  private readonly storeDeadlineMs: number | null;
  private readonly onStoreFailure: (cause: unknown) => void;

  constructor(options: CheckedSubsidyLedgerOptions) {
    this.store = options.store;
    this.nowMs = options.nowMs;
    this.storeDeadlineMs =
      options.storeDeadlineMs === undefined ? STORE_DEADLINE_MS_DEFAULT : options.storeDeadlineMs;
    this.onStoreFailure = options.onStoreFailure ?? (() => {});
  }

  /**
   * Funds every registered external campaign's `campaign/ext:<campaignRef>` up to its
   * `budgetMinor`, in one atomic store step, each funding recorded with its reason (the ledger's
   * audit of money in, as `LedgerService.fund` does for native budgets). Funding only adds: a
   * lower registered budget lowers nothing. Call it before serving checks: an unfunded budget
   * refuses everything (`ledger.budget_exhausted`).
   */
  async fundRegistered(campaigns: Iterable<ExternalCampaign>): Promise<FundAnswer[]> {
    const targets = [];
    for (const campaign of campaigns) {
      if (campaign.budgetMinor === undefined) continue;
      targets.push({
        account: externalBudgetAccount(campaign.campaignRef),
        targetMinor: campaign.budgetMinor,
      });
    }
    if (targets.length === 0) return [];
    return this.store.fundUpTo(targets, EXTERNAL_FUNDING_REASON, this.nowMs());
  }

  /** Records what `check` allowed, once per payment id; answers as `RecordedCheck` says. */
  async record(toRecord: CheckToRecord): Promise<RecordedCheck> {
    const { payment, proposals, check, context } = toRecord;
    if (check.allowedTotalMinor === 0) return unstoredCheckOf(check, "ledger.nothing_allowed");
    const request = planCheckedReservation(
      payment,
      proposals,
      check,
      context,
      checkContentKey(payment, proposals),
      toRecord.owner,
    );
    if (request === undefined) return unstoredCheckOf(check, "ledger.nothing_allowed");
    let result: Awaited<ReturnType<LedgerStore["reserve"]>>[number] | undefined;
    try {
      [result] = await withinDeadline(
        this.store.reserve([request]),
        this.storeDeadlineMs,
        "a guard check",
      );
    } catch (cause) {
      // Fail closed for subsidies (DESIGN §3.7) by the caller's choice. The store may still write
      // the check after the deadline: a retry with the same id and content then gets it.
      this.onStoreFailure(cause);
      return unrecordedCheckOf(check, proposals, context.externalCampaigns, toRecord.whenUnhealthy);
    }
    if (result === undefined) throw new Error("the ledger store answered no request");
    if (result.code === "idempotency_conflict") return conflictingCheckOf(check);
    return recordedCheckOf(result.answer, result.replayed);
  }
}

/**
 * The ledger's content key of a check: a digest of its canonical content, under the prefix.
 * One-shot `hash` rather than a `Hash` object: every check that allows something computes one,
 * and the object's construction, update and digest cost about three times as much.
 */
export function checkContentKey(payment: Payment, proposals: readonly Proposal[]): string {
  return (
    CHECK_CONTENT_KEY_PREFIX + hash("sha256", checkContentText(payment, proposals), "base64url")
  );
}
