/**
 * The data the ledger's atomic step works on: a reservation request (what one payment wants to
 * debit, subsidy by subsidy) and the stored answer. Pure data, shared by the ledger service,
 * every store and the model the tests compare stores with.
 */
import type { FundingSource, LabelKind } from "../funding.ts";
import type { StoredCheck } from "./checked-subsidies.ts";
import type { LimitRefusalCode } from "./ledger-codes.ts";
import type { RefundRestores } from "./refund.ts";

/**
 * One limit a subsidy draws on. Every debit of a subsidy draws the subsidy's whole amount and one
 * use. Funded accounts (campaign and program budgets) hold what was funded into them; bounded
 * accounts (daily budgets, per-identity caps, the platform ceiling) are bounded by the capacities
 * the request carries, taken from the configuration the payment was evaluated against.
 */
export interface Debit {
  /** e.g. `campaign/sh-coffee`, `campaign-day/sh-coffee/2025-01-16`, `identity/user:u1/day/sh-coffee/2025-01-16`. */
  readonly account: string;
  readonly amountMinor: number;
  readonly count: number;
  /** True: the capacity is what was funded into the account (0 if never funded). */
  readonly funded: boolean;
  /** For bounded accounts: the most reserved + spent may reach; null for no amount bound. */
  readonly capacityMinor: number | null;
  /** The most uses reserved + spent may reach; null for no count bound. */
  readonly countCapacity: number | null;
  /** The answer for the subsidy when this debit does not fit. */
  readonly refusal: LimitRefusalCode;
  /**
   * For a per-identity account (`identity/K/…`), its name in two parts, `account` being the one
   * followed by the other: `identity/K/` and the rest. Optional; a store that groups one
   * person's accounts uses them instead of parsing the name (one payment names the same few
   * identities over and over).
   */
  readonly identityPrefix?: string;
  readonly identitySuffix?: string;
}

/** The parts of a per-identity account's name, when a caller has them (see `Debit`). */
export type AccountNameParts = Pick<Debit, "identityPrefix" | "identitySuffix">;

/** How every per-identity account's name starts: `identity/K/…`. */
export const IDENTITY_ACCOUNT_PREFIX = "identity/";

/**
 * Where the identity in a per-identity account's name ends — the `/` after K in `identity/K/…`,
 * the one place its name splits into `AccountNameParts` — or -1 for any other account.
 */
export function identityNameEnd(account: string): number {
  if (!account.startsWith(IDENTITY_ACCOUNT_PREFIX)) return -1;
  return account.indexOf("/", IDENTITY_ACCOUNT_PREFIX.length);
}

export interface PlannedSubsidy {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly amountMinor: number;
  readonly funding: FundingSource;
  readonly programId?: string;
  readonly label: LabelKind;
  /** The campaign's refund policy when the subsidy was granted; refunds follow it. */
  readonly refundRestores: RefundRestores;
  /**
   * The template the campaign version instantiates, kept in the ledger for impact reports
   * (a template change fans out to every campaign using it). Absent only where a caller does not
   * know it (tests); the ledger then records null.
   */
  readonly templateId?: string;
  /** Checked in order; the first that does not fit refuses the subsidy. */
  readonly debits: readonly Debit[];
}

export interface ReservationRequest {
  readonly paymentId: string;
  /** Canonical content of the payment (every field but `atMs`): same id, other content is a conflict. */
  readonly contentKey: string;
  readonly paymentAmountMinor: number;
  readonly atMs: number;
  readonly expiresAtMs: number;
  readonly snapshotVersion: number;
  /**
   * Who paid, where and in which flow: facts the ledger keeps so that an impact report can say
   * who got how much, where (DESIGN §4.6). Absent only where a caller does not know them
   * (tests); the ledger then records null.
   */
  readonly userId?: string;
  readonly scenario?: string;
  readonly region?: string;
  /**
   * The principal the payment belongs to: the id of the caller whose token applied it (the HTTP
   * server passes it). Absent for in-process library callers; the record then has no owner.
   * Another principal's request for the same id is an `idempotency_conflict`, and its settlements
   * and refunds find no reservation (LedgerBook).
   */
  readonly owner?: string;
  /** In the order the evaluator granted them: priority first. */
  readonly subsidies: readonly PlannedSubsidy[];
  /**
   * True: what fits is committed in the same step rather than reserved (guard mode's checked
   * subsidies, which the external engine pays as allowed; ADR 0023). The record starts
   * `committed` with every entry committed in full and never expires; `expiresAtMs` is not used.
   */
  readonly commitAtOnce?: boolean;
  /**
   * Guard mode: the check's own answer before the ledger's limits, kept with the stored answer so
   * that a replay answers exactly as the first time (src/core/ledger/checked-subsidies.ts).
   */
  readonly check?: StoredCheck;
}

export interface SubsidyAnswer {
  readonly campaignId: string;
  readonly campaignVersion: number;
  /** Reserved amount; 0 when refused. */
  readonly amountMinor: number;
  readonly code: "reserved" | LimitRefusalCode;
  readonly funding: FundingSource;
  readonly programId?: string;
  readonly label: LabelKind;
}

export interface ReservationAnswer {
  readonly paymentId: string;
  readonly code: "reserved" | "no_subsidy";
  readonly totalReservedMinor: number;
  /** When an unsettled reservation returns to the budgets; null without a reservation. */
  readonly expiresAtMs: number | null;
  readonly snapshotVersion: number;
  readonly subsidies: readonly SubsidyAnswer[];
  /** The request's `check`, for a checked payment (guard mode). */
  readonly check?: StoredCheck;
}

export type ReserveResult =
  | { readonly code: "answered"; readonly answer: ReservationAnswer; readonly replayed: boolean }
  | { readonly code: "idempotency_conflict"; readonly paymentId: string };
