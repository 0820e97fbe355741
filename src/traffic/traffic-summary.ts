/**
 * What a stream of payments looks like: counts, distinct users, money per currency, and the
 * split by scenario, region and payee kind, plus the bad lines of a file with their findings.
 * Money is summed exactly per currency (amounts in different currencies never add up) and the
 * totals switch to bigint before they could pass 2^53.
 */
import type { Finding } from "../core/findings.ts";
import { PAYEE_KINDS, type Payment } from "../core/model/payment.ts";
import { type Currency, currencyExponent, formatMinor } from "../core/money.ts";
import { SCENARIOS } from "../core/scenario.ts";

export const TRAFFIC_SUMMARY_LIMITS = {
  /** Bad lines kept with their findings; the rest are only counted. */
  badLineSamplesMax: 20,
  /** Distinct users counted exactly; beyond this the count is a lower bound (`usersCapped`). */
  distinctUsersMax: 5_000_000,
} as const;

/** Minor units per currency: a number while safe, else the decimal digits (JSON has no bigint). */
export type AmountsMinor = Partial<Record<Currency, number | string>>;

export interface SummaryRow {
  readonly payments: number;
  /** payments / all payments, rounded to six decimals; 0 when there are none. */
  readonly share: number;
  readonly amountsMinor: AmountsMinor;
}

export interface TrafficSummaryReport {
  readonly payments: number;
  readonly users: number;
  readonly usersCapped: boolean;
  readonly amountsMinor: AmountsMinor;
  /** Earliest and latest `atMs`; null without payments. */
  readonly firstAtMs: number | null;
  readonly lastAtMs: number | null;
  /** Every scenario, in SCENARIOS order, zeros included. */
  readonly scenarios: readonly (SummaryRow & { readonly scenario: string })[];
  /** Regions that occur, most payments first (ties by name). */
  readonly regions: readonly (SummaryRow & { readonly region: string })[];
  /** Both payee kinds, in PAYEE_KINDS order. */
  readonly payeeKinds: readonly (SummaryRow & { readonly payeeKind: string })[];
  readonly badLines: number;
  /** The first bad lines with their findings. */
  readonly badLineSamples: readonly {
    readonly line: number;
    readonly findings: readonly Finding[];
  }[];
}

/** Below 2^53 - 10^15 a safe amount (≤ 10^15) can still be added exactly. */
const EXACT_SUM_MAX = Number.MAX_SAFE_INTEGER - 1_000_000_000_000_000;

/** An exact running total of minor units per currency. */
class CurrencyTotals {
  private readonly small = new Map<Currency, number>();
  private readonly large = new Map<Currency, bigint>();

  add(currency: Currency, amountMinor: number): void {
    const sum = (this.small.get(currency) ?? 0) + amountMinor;
    if (sum <= EXACT_SUM_MAX) {
      this.small.set(currency, sum);
      return;
    }
    this.large.set(currency, (this.large.get(currency) ?? 0n) + BigInt(sum));
    this.small.set(currency, 0);
  }

  toJSON(): AmountsMinor {
    const amounts: AmountsMinor = {};
    const currencies = [...new Set([...this.small.keys(), ...this.large.keys()])].sort();
    for (const currency of currencies) {
      const total = (this.large.get(currency) ?? 0n) + BigInt(this.small.get(currency) ?? 0);
      amounts[currency] =
        total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : total.toString();
    }
    return amounts;
  }
}

class Tally {
  payments = 0;
  readonly amounts = new CurrencyTotals();

  add(payment: Payment): void {
    this.payments += 1;
    this.amounts.add(payment.currency as Currency, payment.amountMinor);
  }

  row(all: number): SummaryRow {
    const share = all === 0 ? 0 : Math.round((this.payments / all) * 1e6) / 1e6;
    return { payments: this.payments, share, amountsMinor: this.amounts.toJSON() };
  }
}

export class TrafficSummary {
  private readonly total = new Tally();
  private readonly users = new Set<string>();
  private usersCapped = false;
  private firstAtMs = Number.POSITIVE_INFINITY;
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private readonly scenarios = new Map<string, Tally>(
    SCENARIOS.map((scenario) => [scenario, new Tally()]),
  );
  private readonly regions = new Map<string, Tally>();
  private readonly payeeKinds = new Map<string, Tally>(
    PAYEE_KINDS.map((kind) => [kind, new Tally()]),
  );
  private badLines = 0;
  private readonly badLineSamples: { line: number; findings: readonly Finding[] }[] = [];

  add(payment: Payment): void {
    this.total.add(payment);
    if (!this.usersCapped) {
      this.users.add(payment.userId);
      if (this.users.size >= TRAFFIC_SUMMARY_LIMITS.distinctUsersMax) this.usersCapped = true;
    }
    if (payment.atMs < this.firstAtMs) this.firstAtMs = payment.atMs;
    if (payment.atMs > this.lastAtMs) this.lastAtMs = payment.atMs;
    this.scenarios.get(payment.scenario)!.add(payment);
    let region = this.regions.get(payment.region);
    if (region === undefined) {
      region = new Tally();
      this.regions.set(payment.region, region);
    }
    region.add(payment);
    this.payeeKinds.get(payment.payeeKind)!.add(payment);
  }

  addBadLine(line: number, findings: readonly Finding[]): void {
    this.badLines += 1;
    if (this.badLineSamples.length < TRAFFIC_SUMMARY_LIMITS.badLineSamplesMax) {
      this.badLineSamples.push({ line, findings });
    }
  }

  report(): TrafficSummaryReport {
    const all = this.total.payments;
    const regions = [...this.regions.entries()]
      .sort(([nameA, a], [nameB, b]) => b.payments - a.payments || (nameA < nameB ? -1 : 1))
      .map(([region, tally]) => ({ region, ...tally.row(all) }));
    return {
      payments: all,
      users: this.users.size,
      usersCapped: this.usersCapped,
      amountsMinor: this.total.amounts.toJSON(),
      firstAtMs: all === 0 ? null : this.firstAtMs,
      lastAtMs: all === 0 ? null : this.lastAtMs,
      scenarios: [...this.scenarios].map(([scenario, tally]) => ({ scenario, ...tally.row(all) })),
      regions,
      payeeKinds: [...this.payeeKinds].map(([payeeKind, tally]) => ({
        payeeKind,
        ...tally.row(all),
      })),
      badLines: this.badLines,
      badLineSamples: this.badLineSamples,
    };
  }
}

/** Renders amounts in major units, e.g. "1234.56 CNY" (several currencies joined by "; "). */
export function formatAmounts(amounts: AmountsMinor): string {
  const parts = Object.entries(amounts).map(([currency, minor]) => {
    return `${formatLargeMinor(minor!, currency as Currency)} ${currency}`;
  });
  return parts.length === 0 ? "0" : parts.join("; ");
}

/**
 * formatMinor for totals that may be beyond a safe number (then given as decimal digits, which
 * formatMinor's number parameter cannot carry exactly).
 */
function formatLargeMinor(minor: number | string, currency: Currency): string {
  if (typeof minor === "number") return formatMinor(minor, currency);
  const sign = minor.startsWith("-") ? "-" : "";
  const exponent = currencyExponent(currency);
  const digits = minor.replace(/^-/, "").padStart(exponent + 1, "0");
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
