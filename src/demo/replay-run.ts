/**
 * One run of the replay as CONTRACTS.md reports it: the payments that received at least one
 * subsidy from a version the bad change introduced, their distinct users, the subsidy those
 * versions gave, the window from the first such payment to the last, the scenarios and regions
 * reached, and how many of them were in protected (cash-equivalent) scenarios.
 */
import type { Payment } from "../core/model/payment.ts";

export interface ReplayRun {
  readonly payments: number;
  readonly users: number;
  readonly subsidyMinor: number;
  readonly windowMs: number;
  readonly scenarios: readonly string[];
  readonly regions: readonly string[];
  readonly protectedScenarioPayments: number;
}

/**
 * Distinct users: the traffic generator's ids (`u` and a number) in a bitset, anything else in a
 * set. Millions of payments hash and store far fewer bytes this way.
 */
class DistinctUsers {
  private bits = new Uint32Array(1 << 15);
  private numbered = 0;
  private readonly others = new Set<string>();

  add(userId: string): void {
    const index = numberedUser(userId);
    if (index < 0) {
      this.others.add(userId);
      return;
    }
    const word = index >>> 5;
    if (word >= this.bits.length) {
      let length = this.bits.length * 2;
      while (length <= word) length *= 2;
      const grown = new Uint32Array(length);
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (index & 31);
    if ((this.bits[word]! & mask) === 0) {
      this.bits[word]! |= mask;
      this.numbered += 1;
    }
  }

  get size(): number {
    return this.numbered + this.others.size;
  }
}

/** Bitsets grow to this many users at most (4 MB); beyond, ids are kept in the set. */
const NUMBERED_USERS_MAX = 1 << 25;

/** The number in `u123`, or -1 for any other id (or one too large for the bitset). */
function numberedUser(userId: string): number {
  if (userId.length < 2 || userId.length > 9 || userId.charCodeAt(0) !== 117) return -1;
  let value = 0;
  for (let position = 1; position < userId.length; position += 1) {
    const digit = userId.charCodeAt(position) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  // "u01" and "u1" are different users: only canonical numbers are numbered.
  if (userId.length > 2 && userId.charCodeAt(1) === 48) return -1;
  return value < NUMBERED_USERS_MAX ? value : -1;
}

export class ReplayRunTally {
  private payments = 0;
  private subsidyMinor = 0;
  private firstAtMs: number | undefined;
  private lastAtMs: number | undefined;
  private protectedScenarioPayments = 0;
  private readonly users = new DistinctUsers();
  private readonly scenarios = new Set<string>();
  private readonly regions = new Set<string>();

  constructor(private readonly protectedScenarios: ReadonlySet<string>) {}

  /** A payment the bad versions subsidised with `subsidyMinor` in all. */
  add(payment: Payment, subsidyMinor: number): void {
    if (subsidyMinor <= 0) return;
    this.payments += 1;
    this.subsidyMinor += subsidyMinor;
    this.firstAtMs ??= payment.atMs;
    this.lastAtMs = payment.atMs;
    this.users.add(payment.userId);
    this.scenarios.add(payment.scenario);
    this.regions.add(payment.region);
    if (this.protectedScenarios.has(payment.scenario)) this.protectedScenarioPayments += 1;
  }

  get firstPaymentAtMs(): number | undefined {
    return this.firstAtMs;
  }

  result(): ReplayRun {
    return {
      payments: this.payments,
      users: this.users.size,
      subsidyMinor: this.subsidyMinor,
      windowMs:
        this.firstAtMs === undefined || this.lastAtMs === undefined
          ? 0
          : this.lastAtMs - this.firstAtMs,
      scenarios: [...this.scenarios].sort(),
      regions: [...this.regions].sort(),
      protectedScenarioPayments: this.protectedScenarioPayments,
    };
  }
}
