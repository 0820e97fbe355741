/**
 * The ledger's rules, once, for every store: how a reservation request, a settlement, a refund,
 * an expiry and a funding change the accounts and the payment records. A store supplies the
 * state (`LedgerBookState`: maps in memory; a cached, transactional view of the database in
 * SQLite) and makes each call's changes durable and atomic; the book decides.
 *
 * Every account counter is a sum over the payment records: `contributionOf` says what one debit
 * of one entry adds in the record's current state, each step moves the counters by the difference
 * between the contributions after and before it, and verification recomputes the sums from
 * scratch with the same function. The counters and their definition therefore cannot drift apart
 * without `verifyLedger` saying so.
 */
import type { FundingSource } from "../funding.ts";
import { isAmountMinor } from "../money.ts";
import {
  type RefundAnswer,
  type RefundCommand,
  type RefundRestores,
  refundRestoresDebit,
  reversedAfter,
} from "./refund.ts";
import type {
  AccountNameParts,
  Debit,
  PlannedSubsidy,
  ReservationAnswer,
  ReservationRequest,
  ReserveResult,
  SubsidyAnswer,
} from "./reservation.ts";
import { type ReservationState, transition } from "./reservation-lifecycle.ts";
import { type SettleAnswer, type SettleCommand, splitCommit } from "./settlement.ts";

/**
 * The bound of a counter whose debit names none: counters stay exact as JavaScript numbers. A
 * debit that would pass it is refused like any other limit.
 */
const COUNTER_MAX = Number.MAX_SAFE_INTEGER;

export interface AccountCounters {
  fundedMinor: number;
  reservedMinor: number;
  spentMinor: number;
  reservedCount: number;
  spentCount: number;
}

/** An account nothing has been funded into or drawn from yet. */
export function zeroCounters(): AccountCounters {
  return { fundedMinor: 0, reservedMinor: 0, spentMinor: 0, reservedCount: 0, spentCount: 0 };
}

export interface AccountBalance extends Readonly<AccountCounters> {
  readonly account: string;
}

/** One limit an entry drew on, as the ledger keeps it after the reservation. */
export interface EntryDebit {
  readonly account: string;
  readonly amountMinor: number;
  readonly count: number;
  /** Whether refunds give money, and once complete the use, back to this account. */
  readonly restoredByRefund: boolean;
  /** A funded budget (campaign or program): a store may lease it across processes. */
  readonly funded: boolean;
}

/**
 * One campaign's subsidy on one payment. The version, template and funding are facts of the
 * grant, kept for impact reports; they never change after the reservation.
 */
export interface LedgerEntry {
  readonly campaignId: string;
  readonly campaignVersion: number;
  /** null where the caller did not give it (or in rows older than the fact). */
  readonly templateId: string | null;
  readonly funding: FundingSource;
  readonly programId: string | null;
  readonly reservedMinor: number;
  committedMinor: number;
  /** Subsidy reversed by refunds so far; never above `committedMinor`. */
  reversedMinor: number;
  readonly debits: readonly EntryDebit[];
}

export interface PaymentRecord {
  readonly paymentId: string;
  readonly contentKey: string;
  /**
   * The payment's facts for impact reports (who, where, when); null where the caller did not
   * give them, or in rows older than the facts (`atMs` is not recoverable for those).
   */
  readonly atMs: number | null;
  readonly userId: string | null;
  readonly scenario: string | null;
  readonly region: string | null;
  /**
   * The principal whose request made the record (`ReservationRequest.owner`); null for library
   * callers and rows written before owners were kept. Only its owner's requests, and requests
   * without an owner, see it (`ownedByAnother`).
   */
  readonly owner: string | null;
  readonly answer: ReservationAnswer;
  /** null for a "no subsidy" answer: nothing to settle. */
  state: ReservationState | null;
  readonly expiresAtMs: number | null;
  readonly paymentAmountMinor: number;
  /** Payment money refunded so far. */
  refundedMinor: number;
  readonly entries: LedgerEntry[];
}

/**
 * A record a store keeps apart from the book's: the parts the book changes in place (the state,
 * the refunded sum, each entry's committed and reversed amounts) copied, the rest shared — the
 * answer and the debits are never changed once made. A store that copies in and out this way
 * behaves as a database would (a change the book does not save is lost) at a fraction of
 * `structuredClone`'s cost, which serialises the whole record, answer included.
 */
export function copyPaymentRecord(record: PaymentRecord): PaymentRecord {
  const entries: LedgerEntry[] = [];
  for (const entry of record.entries) entries.push({ ...entry });
  return { ...record, entries };
}

export interface RefundRecord {
  readonly paymentId: string;
  readonly refundId: string;
  readonly amountMinor: number;
  readonly atMs: number;
  readonly answer: RefundAnswer;
}

export interface FundAnswer {
  readonly code: "funded" | "funding_unchanged" | "invalid_amount";
  readonly account: string;
  readonly fundedMinor: number;
}

export interface FundingTarget {
  readonly account: string;
  readonly targetMinor: number;
}

/**
 * What the book reads and writes. Reads see every earlier write of the same store, including the
 * current call's; `accountForUpdate` and `save*` are the only writes, and the store makes a
 * call's writes durable together (or not at all).
 */
export interface LedgerBookState {
  /** `parts`: the name's identity parts when the book has them (see `Debit`). */
  account(name: string, parts?: AccountNameParts): Readonly<AccountCounters> | undefined;
  /**
   * The account to change, created at zero when missing; the store writes it with the call.
   * `found`, when given, is what `account(name)` returned earlier in the same call: a store
   * that hands out its live counters may return it rather than look the name up again.
   */
  accountForUpdate(
    name: string,
    found?: Readonly<AccountCounters>,
    parts?: AccountNameParts,
  ): AccountCounters;
  /** The payment's record; the book changes it in place and then calls `savePayment`. */
  payment(paymentId: string): PaymentRecord | undefined;
  savePayment(record: PaymentRecord, isNew: boolean): void;
  refund(paymentId: string, refundId: string): RefundRecord | undefined;
  saveRefund(record: RefundRecord): void;
  saveFunding(account: string, amountMinor: number, reason: string, atMs: number): void;
  /** Ids of up to `limit` reservations due at `nowMs`, earliest expiry first. */
  dueReservations(nowMs: number, limit: number): readonly string[];
}

interface Contribution {
  readonly reservedMinor: number;
  readonly reservedCount: number;
  readonly spentMinor: number;
  readonly spentCount: number;
}

const NOTHING: Contribution = { reservedMinor: 0, reservedCount: 0, spentMinor: 0, spentCount: 0 };

/**
 * What one debit of one entry adds to its account's counters while the payment is in `state`:
 * a reservation holds the debited amount and use; a commit spends the committed amount (and the
 * use, when something was committed) less what refunds restored; released and expired
 * reservations hold nothing.
 */
export function contributionOf(
  state: ReservationState | null,
  entry: LedgerEntry,
  debit: EntryDebit,
): Contribution {
  if (state === "reserved") {
    return {
      reservedMinor: debit.amountMinor,
      reservedCount: debit.count,
      spentMinor: 0,
      spentCount: 0,
    };
  }
  if (state !== "committed" || entry.committedMinor === 0) return NOTHING;
  const restoredMinor = debit.restoredByRefund ? entry.reversedMinor : 0;
  const useRestored = debit.restoredByRefund && entry.reversedMinor === entry.committedMinor;
  return {
    reservedMinor: 0,
    reservedCount: 0,
    spentMinor: entry.committedMinor - restoredMinor,
    spentCount: useRestored ? 0 : debit.count,
  };
}

export class LedgerBook {
  constructor(private readonly state: LedgerBookState) {}

  fund(account: string, amountMinor: number, reason: string, atMs: number): FundAnswer {
    const fundedMinor = this.state.account(account)?.fundedMinor ?? 0;
    if (
      amountMinor <= 0 ||
      !isAmountMinor(amountMinor) ||
      !isAmountMinor(fundedMinor + amountMinor)
    ) {
      return { code: "invalid_amount", account, fundedMinor };
    }
    this.state.accountForUpdate(account).fundedMinor += amountMinor;
    this.state.saveFunding(account, amountMinor, reason, atMs);
    return { code: "funded", account, fundedMinor: fundedMinor + amountMinor };
  }

  fundUpTo(targets: readonly FundingTarget[], reason: string, atMs: number): FundAnswer[] {
    return targets.map(({ account, targetMinor }) => {
      const fundedMinor = this.state.account(account)?.fundedMinor ?? 0;
      return targetMinor > fundedMinor
        ? this.fund(account, targetMinor - fundedMinor, reason, atMs)
        : { code: "funding_unchanged", account, fundedMinor };
    });
  }

  reserve(request: ReservationRequest): ReserveResult {
    const existing = this.state.payment(request.paymentId);
    if (existing !== undefined) {
      // Another principal's id is a conflict even with the same content: the stored answer is
      // the owner's, and a replay would hand it over.
      return existing.contentKey === request.contentKey && !ownedByAnother(existing, request.owner)
        ? { code: "answered", answer: existing.answer, replayed: true }
        : { code: "idempotency_conflict", paymentId: request.paymentId };
    }
    // Loops rather than callbacks: this runs for every payment, and under tsx (ADR 0005) every
    // function created at run time also gets its name defined (measured: ~3 % of apply).
    const entries: LedgerEntry[] = [];
    const subsidies: SubsidyAnswer[] = [];
    let totalReservedMinor = 0;
    // Guard mode's checked subsidies are committed in the same step (ADR 0023).
    const state: ReservationState = request.commitAtOnce === true ? "committed" : "reserved";
    for (const subsidy of request.subsidies) {
      const found: (Readonly<AccountCounters> | undefined)[] = [];
      const refusal = this.firstRefusal(subsidy.debits, found);
      if (refusal !== undefined) {
        subsidies.push(subsidyAnswer(subsidy, 0, refusal));
        continue;
      }
      const debits: EntryDebit[] = [];
      for (const debit of subsidy.debits) debits.push(entryDebit(debit, subsidy.refundRestores));
      const entry: LedgerEntry = {
        campaignId: subsidy.campaignId,
        campaignVersion: subsidy.campaignVersion,
        templateId: subsidy.templateId ?? null,
        funding: subsidy.funding,
        programId: subsidy.programId ?? null,
        reservedMinor: subsidy.amountMinor,
        committedMinor: state === "committed" ? subsidy.amountMinor : 0,
        reversedMinor: 0,
        debits,
      };
      // Counted at once, so that the next subsidy of the same payment sees it.
      for (let index = 0; index < debits.length; index += 1) {
        const debit = debits[index]!;
        const planned = subsidy.debits[index]!;
        this.shift(
          debit.account,
          NOTHING,
          contributionOf(state, entry, debit),
          found[index],
          planned,
        );
      }
      entries.push(entry);
      totalReservedMinor += entry.reservedMinor;
      subsidies.push(subsidyAnswer(subsidy, subsidy.amountMinor, "reserved"));
    }
    const isReserved = entries.length > 0;
    const expiresAtMs = isReserved && state === "reserved" ? request.expiresAtMs : null;
    const answer: ReservationAnswer =
      request.check === undefined
        ? {
            paymentId: request.paymentId,
            code: isReserved ? "reserved" : "no_subsidy",
            totalReservedMinor,
            expiresAtMs,
            snapshotVersion: request.snapshotVersion,
            subsidies,
          }
        : {
            paymentId: request.paymentId,
            code: isReserved ? "reserved" : "no_subsidy",
            totalReservedMinor,
            expiresAtMs,
            snapshotVersion: request.snapshotVersion,
            subsidies,
            check: request.check,
          };
    const record: PaymentRecord = {
      paymentId: request.paymentId,
      contentKey: request.contentKey,
      atMs: request.atMs,
      userId: request.userId ?? null,
      scenario: request.scenario ?? null,
      region: request.region ?? null,
      owner: request.owner ?? null,
      answer,
      state: isReserved ? state : null,
      expiresAtMs,
      paymentAmountMinor: request.paymentAmountMinor,
      refundedMinor: 0,
      entries,
    };
    this.state.savePayment(record, true);
    return { code: "answered", answer, replayed: false };
  }

  /**
   * The refusal of the first debit that does not fit: `reserved + spent + amount ≤ capacity`
   * (the funded amount for funded accounts), and the same for counts, counting earlier debits of
   * the same subsidy on the same account. A bound the debit does not name is 2^53 - 1. Each
   * debit's account as found goes to `found`, for the update that follows.
   */
  private firstRefusal(
    debits: readonly Debit[],
    found: (Readonly<AccountCounters> | undefined)[],
  ): Debit["refusal"] | undefined {
    for (let index = 0; index < debits.length; index += 1) {
      const debit = debits[index]!;
      const account = this.state.account(debit.account, debit);
      found.push(account);
      let usedMinor = account === undefined ? 0 : account.reservedMinor + account.spentMinor;
      let usedCount = account === undefined ? 0 : account.reservedCount + account.spentCount;
      // Earlier debits of this subsidy on the same account (a handful at most: no map needed).
      for (let earlier = 0; earlier < index; earlier += 1) {
        const other = debits[earlier]!;
        if (other.account === debit.account) {
          usedMinor += other.amountMinor;
          usedCount += other.count;
        }
      }
      const capacityMinor = debit.funded
        ? (account?.fundedMinor ?? 0)
        : (debit.capacityMinor ?? COUNTER_MAX);
      if (usedMinor + debit.amountMinor > capacityMinor) return debit.refusal;
      if (usedCount + debit.count > (debit.countCapacity ?? COUNTER_MAX)) return debit.refusal;
    }
    return undefined;
  }

  /** The payment as `owner` may see it: another principal's is missing, amounts included. */
  private visiblePayment(paymentId: string, owner: string | undefined): PaymentRecord | undefined {
    const record = this.state.payment(paymentId);
    return record !== undefined && ownedByAnother(record, owner) ? undefined : record;
  }

  settle(command: SettleCommand): SettleAnswer {
    const record = this.visiblePayment(command.paymentId, command.owner);
    if (record === undefined || record.state === null) {
      return {
        paymentId: command.paymentId,
        code: "reservation_not_found",
        state: null,
        entries: [],
      };
    }
    if (this.expireIfDue(record, command.atMs)) this.state.savePayment(record, false);
    const state = record.state as ReservationState;
    if (command.kind === "commit" && state === "reserved") {
      const reservedTotal = record.entries.reduce((sum, entry) => sum + entry.reservedMinor, 0);
      const totalMinor = command.totalMinor ?? reservedTotal;
      if (!isAmountMinor(totalMinor) || totalMinor > reservedTotal) {
        const code = totalMinor > reservedTotal ? "commit_exceeds_reservation" : "invalid_amount";
        return settleAnswer(command.paymentId, code, record);
      }
    }
    const step = transition(state, command.kind);
    if (!step.effective) return settleAnswer(command.paymentId, step.answer, record);
    if (command.kind === "commit") {
      const reserved = record.entries.map((entry) => entry.reservedMinor);
      const committed = splitCommit(
        reserved,
        command.totalMinor ?? reserved.reduce((sum, amount) => sum + amount, 0),
      );
      this.change(record, step.next, () => {
        record.entries.forEach((entry, index) => {
          entry.committedMinor = committed[index]!;
        });
      });
    } else {
      this.change(record, step.next, () => {});
    }
    this.state.savePayment(record, false);
    return settleAnswer(command.paymentId, step.answer, record);
  }

  /**
   * Reverses the subsidy in proportion to the payment money refunded (`reversedAfter`), gives it
   * back to the limits the campaign's refund policy names, and stores the answer under the refund
   * id. Only an applied refund is stored: a refused one may be sent again once it can apply.
   */
  refund(command: RefundCommand): RefundAnswer {
    const record = this.visiblePayment(command.paymentId, command.owner);
    const refused = (code: RefundAnswer["code"]) => refundAnswer(command, code, record, []);
    if (record === undefined || record.state === null) return refused("reservation_not_found");
    const existing = this.state.refund(command.paymentId, command.refundId);
    if (existing !== undefined) {
      return existing.amountMinor === command.amountMinor
        ? { ...existing.answer, replayed: true }
        : refused("refund_conflict");
    }
    if (command.amountMinor <= 0 || !isAmountMinor(command.amountMinor)) {
      return refused("invalid_amount");
    }
    if (this.expireIfDue(record, command.atMs)) this.state.savePayment(record, false);
    const step = transition(record.state, "refund");
    if (!step.effective) return refused(step.answer);
    const refundedMinor = record.refundedMinor + command.amountMinor;
    if (refundedMinor > record.paymentAmountMinor) return refused("refund_exceeds_payment");
    const before = record.entries.map((entry) => entry.reversedMinor);
    this.change(record, step.next, () => {
      record.refundedMinor = refundedMinor;
      for (const entry of record.entries) {
        entry.reversedMinor = reversedAfter(
          entry.committedMinor,
          refundedMinor,
          record.paymentAmountMinor,
        );
      }
    });
    this.state.savePayment(record, false);
    const answer = refundAnswer(
      command,
      step.answer,
      record,
      record.entries.map((entry, index) => ({
        campaignId: entry.campaignId,
        committedMinor: entry.committedMinor,
        reversedMinor: entry.reversedMinor - before[index]!,
        reversedTotalMinor: entry.reversedMinor,
      })),
    );
    this.state.saveRefund({
      paymentId: command.paymentId,
      refundId: command.refundId,
      amountMinor: command.amountMinor,
      atMs: command.atMs,
      answer,
    });
    return answer;
  }

  /** Expires up to `limit` reservations due at `nowMs`; returns how many. */
  expireDue(nowMs: number, limit: number): number {
    let expired = 0;
    for (const paymentId of this.state.dueReservations(nowMs, limit)) {
      const record = this.state.payment(paymentId);
      if (record !== undefined && this.expireIfDue(record, nowMs)) {
        this.state.savePayment(record, false);
        expired += 1;
      }
    }
    return expired;
  }

  /** A request arriving at or after a reservation's expiry first expires it. */
  private expireIfDue(record: PaymentRecord, nowMs: number): boolean {
    if (record.state !== "reserved" || record.expiresAtMs === null || nowMs < record.expiresAtMs) {
      return false;
    }
    this.change(record, "expired", () => {});
    return true;
  }

  /** Moves the record to `next` after `edit`, shifting every account by its change in contribution. */
  private change(record: PaymentRecord, next: ReservationState, edit: () => void): void {
    const previous = record.state;
    const before = record.entries.map((entry) =>
      entry.debits.map((debit) => contributionOf(previous, entry, debit)),
    );
    edit();
    record.state = next;
    record.entries.forEach((entry, index) => {
      entry.debits.forEach((debit, debitIndex) => {
        this.shift(debit.account, before[index]![debitIndex]!, contributionOf(next, entry, debit));
      });
    });
  }

  private shift(
    name: string,
    before: Contribution,
    after: Contribution,
    found?: Readonly<AccountCounters>,
    parts?: AccountNameParts,
  ): void {
    const reservedMinor = after.reservedMinor - before.reservedMinor;
    const reservedCount = after.reservedCount - before.reservedCount;
    const spentMinor = after.spentMinor - before.spentMinor;
    const spentCount = after.spentCount - before.spentCount;
    if (reservedMinor === 0 && reservedCount === 0 && spentMinor === 0 && spentCount === 0) return;
    const account = this.state.accountForUpdate(name, found, parts);
    account.reservedMinor += reservedMinor;
    account.reservedCount += reservedCount;
    account.spentMinor += spentMinor;
    account.spentCount += spentCount;
  }
}

/**
 * Whether `record` belongs to a principal other than `owner`, the one a request acts for: then
 * the request is answered as if the record did not exist (settle, refund) or as a conflict
 * (reserve), so one payment service cannot settle, refund or learn of another's payments (OWASP
 * API1). A request without an owner (an in-process caller) and a record without one (a library
 * caller's, or a row written before owners were kept) are not restricted.
 */
function ownedByAnother(record: PaymentRecord, owner: string | undefined): boolean {
  return owner !== undefined && record.owner !== null && record.owner !== owner;
}

/** What the stored answer says of a subsidy: what the request described, the amount, the code. */
function subsidyAnswer(
  subsidy: PlannedSubsidy,
  amountMinor: number,
  code: SubsidyAnswer["code"],
): SubsidyAnswer {
  const { campaignId, campaignVersion, funding, programId, label } = subsidy;
  // Fields in the order answers have always been stored in.
  return programId === undefined
    ? { campaignId, campaignVersion, amountMinor, funding, label, code }
    : { campaignId, campaignVersion, amountMinor, funding, programId, label, code };
}

function entryDebit(debit: Debit, policy: RefundRestores): EntryDebit {
  return {
    account: debit.account,
    amountMinor: debit.amountMinor,
    count: debit.count,
    restoredByRefund: refundRestoresDebit(policy, debit.refusal),
    funded: debit.funded,
  };
}

function settleAnswer(
  paymentId: string,
  code: SettleAnswer["code"],
  record: PaymentRecord,
): SettleAnswer {
  return {
    paymentId,
    code,
    state: record.state,
    entries: record.entries.map(({ campaignId, reservedMinor, committedMinor }) => ({
      campaignId,
      reservedMinor,
      committedMinor,
    })),
  };
}

function refundAnswer(
  command: RefundCommand,
  code: RefundAnswer["code"],
  record: PaymentRecord | undefined,
  entries: RefundAnswer["entries"],
): RefundAnswer {
  return {
    paymentId: command.paymentId,
    refundId: command.refundId,
    code,
    amountMinor: command.amountMinor,
    refundedMinor: record?.refundedMinor ?? 0,
    paymentAmountMinor: record?.paymentAmountMinor ?? null,
    subsidyReversedMinor: entries.reduce((sum, entry) => sum + entry.reversedMinor, 0),
    entries,
    replayed: false,
  };
}
