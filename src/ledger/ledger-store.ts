/**
 * The ledger's store port. Every store — in memory, SQLite, PostgreSQL — implements it and
 * passes the same contract suite (test/ledger/ledger-store.contract.ts) against a real database.
 *
 * The contract, in short:
 * - `reserve` takes a batch (group commit): each request is decided on its own and atomically —
 *   all of its accepted debits and entries are written, or none — in the order given. A payment id
 *   seen before answers with the stored answer when the content key matches, and
 *   `idempotency_conflict` otherwise; "no subsidy" answers are stored too, so a retry after a
 *   top-up is still refused. Within a request, subsidies are tried in order; a subsidy whose debit
 *   does not fit is refused with that debit's code and debits nothing.
 * - A debit fits when `reserved + spent + amount ≤ capacity` (for a funded account, the capacity
 *   is what was funded into it — 0 if never funded; a bounded account without an amount bound
 *   always fits by amount) and, with a count capacity, `reservedCount + spentCount + count ≤
 *   countCapacity`. Counters never go negative.
 * - `settle` applies commits and releases through the reservation transition table; a request
 *   arriving at or after a reservation's expiry first expires it.
 * - `refund` reverses a committed subsidy in proportion to the money refunded
 *   (`reversedAfter`), restores what the campaign's refund policy names, is idempotent per
 *   payment and refund id, and never lets refunds add up to more than the payment.
 * - A payment keeps the `owner` of the request that made it and persists it: another owner's
 *   reserve of its id is `idempotency_conflict`, and its settle or refund is answered as for an
 *   unknown id (`reservation_not_found`) and changes nothing; a call or record without an owner
 *   is not restricted (docs/reference/ledger.md, "Owners").
 * - The decisions are `LedgerBook`'s (src/core/ledger/ledger-book.ts); a store keeps the state
 *   and makes each request's changes durable together.
 * - Nothing a store acknowledges is lost: an answer is durable before it is returned.
 * - A malformed call (a campaign twice in one request, a subsidy drawing on no funded budget,
 *   amounts that are not whole minor units, sizes past `LEDGER_CALL_LIMITS`) is a caller bug:
 *   every store rejects it with an error before deciding anything (`checkLedgerCall`).
 */
import type { AccountBalance, FundAnswer, FundingTarget } from "../core/ledger/ledger-book.ts";
import type { LedgerVerification } from "../core/ledger/ledger-verification.ts";
import type { RefundAnswer, RefundCommand } from "../core/ledger/refund.ts";
import type { ReservationRequest, ReserveResult } from "../core/ledger/reservation.ts";
import type { SettleAnswer, SettleCommand } from "../core/ledger/settlement.ts";

export type { AccountBalance, FundAnswer, FundingTarget } from "../core/ledger/ledger-book.ts";
export type {
  LedgerVerification,
  LedgerViolation,
} from "../core/ledger/ledger-verification.ts";

export interface LedgerStore {
  /** Adds money to a funded account (a campaign's or a program's budget), recording why. */
  fund(account: string, amountMinor: number, reason: string, atMs: number): Promise<FundAnswer>;
  /**
   * Funds each account up to its target in one atomic step: adds `target − funded` where that is
   * positive (recorded as a funding with the reason), changes nothing otherwise. Never lowers a
   * budget. Two processes doing it at once fund each account once.
   */
  fundUpTo(targets: readonly FundingTarget[], reason: string, atMs: number): Promise<FundAnswer[]>;
  reserve(requests: readonly ReservationRequest[]): Promise<ReserveResult[]>;
  settle(commands: readonly SettleCommand[]): Promise<SettleAnswer[]>;
  /** Applies refunds of committed payments, each on its own, in order. */
  refund(commands: readonly RefundCommand[]): Promise<RefundAnswer[]>;
  /** Expires up to `limit` reservations whose expiry is at or before `nowMs`; returns how many. */
  expireDue(nowMs: number, limit: number): Promise<number>;
  balance(account: string): Promise<AccountBalance | undefined>;
  verify(): Promise<LedgerVerification>;
  close(): Promise<void>;
}
