/**
 * What the durable stores (SQLite, PostgreSQL) share: the port's writing calls turned into one
 * queued `LedgerCall` each, admitted alike before anything is queued — a closed store, a
 * malformed call (`checkLedgerCall`) and a full queue are refused with a `LedgerStoreError` — and
 * their numeric options checked alike. How a store queues, batches and commits is its own.
 */
import type { AccountBalance, FundAnswer, FundingTarget } from "../core/ledger/ledger-book.ts";
import type { LedgerVerification } from "../core/ledger/ledger-verification.ts";
import type { RefundAnswer, RefundCommand } from "../core/ledger/refund.ts";
import type { ReservationRequest, ReserveResult } from "../core/ledger/reservation.ts";
import type { SettleAnswer, SettleCommand } from "../core/ledger/settlement.ts";
import { checkLedgerCall } from "./check-ledger-call.ts";
import { callWeight, type LedgerCall } from "./ledger-call.ts";
import type { LedgerStore } from "./ledger-store.ts";
import { LedgerStoreError } from "./ledger-store-error.ts";

/** The calls every queued store decides in its batches. */
export type BatchCall = Exclude<LedgerCall, { kind: "balance" } | { kind: "verify" }>;

export abstract class QueuedLedgerStore implements LedgerStore {
  /** Requests queued or in flight (each weighs `callWeight`). */
  protected weightQueued = 0;

  protected constructor(private readonly queueLengthMax: number) {}

  async fund(
    account: string,
    amountMinor: number,
    reason: string,
    atMs: number,
  ): Promise<FundAnswer> {
    return (await this.submit({ kind: "fund", account, amountMinor, reason, atMs })) as FundAnswer;
  }

  async fundUpTo(
    targets: readonly FundingTarget[],
    reason: string,
    atMs: number,
  ): Promise<FundAnswer[]> {
    if (Array.isArray(targets) && targets.length === 0) return [];
    return (await this.submit({ kind: "fundUpTo", targets, reason, atMs })) as FundAnswer[];
  }

  // Not async: an async function would hold its requests until the answer.
  reserve(requests: readonly ReservationRequest[]): Promise<ReserveResult[]> {
    if (Array.isArray(requests) && requests.length === 0) return Promise.resolve([]);
    return this.submit({ kind: "reserve", requests }) as Promise<ReserveResult[]>;
  }

  async settle(commands: readonly SettleCommand[]): Promise<SettleAnswer[]> {
    if (Array.isArray(commands) && commands.length === 0) return [];
    return (await this.submit({ kind: "settle", commands })) as SettleAnswer[];
  }

  async refund(commands: readonly RefundCommand[]): Promise<RefundAnswer[]> {
    if (Array.isArray(commands) && commands.length === 0) return [];
    return (await this.submit({ kind: "refund", commands })) as RefundAnswer[];
  }

  async expireDue(nowMs: number, limit: number): Promise<number> {
    return (await this.submit({ kind: "expireDue", nowMs, limit })) as number;
  }

  abstract balance(account: string): Promise<AccountBalance | undefined>;
  abstract verify(): Promise<LedgerVerification>;
  abstract close(): Promise<void>;

  /** Queues an admitted call; its promise settles once the transaction holding it has. */
  protected abstract submit(call: BatchCall): Promise<unknown>;

  /**
   * The call's weight once it may be queued; throws the `LedgerStoreError` that refuses it
   * otherwise. `refusal` is the store's reason to take no calls at all (closed, failed), if any.
   */
  protected admit(call: LedgerCall, refusal: LedgerStoreError | undefined): number {
    if (refusal !== undefined) throw refusal;
    const problem = checkLedgerCall(call);
    if (problem !== undefined) {
      throw new LedgerStoreError("invalid_request", `${call.kind}: ${problem}`);
    }
    const weight = callWeight(call);
    if (this.weightQueued + weight > this.queueLengthMax) {
      throw new LedgerStoreError(
        "queue_full",
        `${this.weightQueued} requests are waiting and this ${call.kind} adds ${weight}; the limit is ${this.queueLengthMax}`,
      );
    }
    return weight;
  }
}

/** A store's numeric option, or `open_failed` when it is not a whole number in range. */
export function storeOption(name: string, value: number, minimum: number, maximum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new LedgerStoreError(
      "open_failed",
      `${name} must be a whole number from ${minimum} to ${maximum}, got ${value}`,
    );
  }
  return value;
}
