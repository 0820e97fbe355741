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

export class ReplayRunTally {
  private payments = 0;
  private subsidyMinor = 0;
  private firstAtMs: number | undefined;
  private lastAtMs: number | undefined;
  private protectedScenarioPayments = 0;
  private readonly users = new Set<string>();
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

  /** Takes back part of a payment's subsidy (a reservation released before it was committed). */
  subtract(subsidyMinor: number): void {
    this.subsidyMinor -= subsidyMinor;
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
