/**
 * What an evaluator did to a stream of payments: per scenario and region, how many payments
 * were subsidised and with how much; per campaign, how much it gave; and why whole payments got
 * nothing. Subsidy sums are exact (bigint), reported in minor units as numbers while safe.
 */
import type { Decision } from "../core/evaluator/decision.ts";
import type { PaymentReasonCode } from "../core/evaluator/reason-codes.ts";
import type { Payment } from "../core/model/payment.ts";
import { CASH_EQUIVALENT_SCENARIOS, SCENARIOS } from "../core/scenario.ts";

export interface SubsidyRow {
  readonly payments: number;
  readonly subsidisedPayments: number;
  /** subsidisedPayments / payments, rounded to six decimals; 0 without payments. */
  readonly subsidisedShare: number;
  readonly subsidyMinor: number | string;
}

export interface SubsidyRunReport extends SubsidyRow {
  readonly byScenario: readonly (SubsidyRow & { readonly scenario: string })[];
  readonly byRegion: readonly (SubsidyRow & { readonly region: string })[];
  /** Campaigns that gave anything, most subsidy first. */
  readonly byCampaign: readonly {
    readonly campaignId: string;
    readonly payments: number;
    readonly subsidyMinor: number | string;
  }[];
  /** Payments refused as a whole, by reason. */
  readonly refusals: Readonly<Partial<Record<PaymentReasonCode, number>>>;
  /** Subsidised payments in a cash-equivalent scenario: the envelope keeps this at zero. */
  readonly protectedScenarioPayments: number;
}

class Counter {
  payments = 0;
  subsidisedPayments = 0;
  subsidyMinor = 0n;

  add(subsidyMinor: number): void {
    this.payments += 1;
    if (subsidyMinor > 0) {
      this.subsidisedPayments += 1;
      this.subsidyMinor += BigInt(subsidyMinor);
    }
  }

  row(): SubsidyRow {
    return {
      payments: this.payments,
      subsidisedPayments: this.subsidisedPayments,
      subsidisedShare:
        this.payments === 0 ? 0 : Math.round((this.subsidisedPayments / this.payments) * 1e6) / 1e6,
      subsidyMinor: exact(this.subsidyMinor),
    };
  }
}

/** JSON has no bigint: a number while it is exact, else the decimal digits. */
function exact(value: bigint): number | string {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

const PROTECTED = new Set<string>(CASH_EQUIVALENT_SCENARIOS);

export class SubsidyRunSummary {
  private readonly total = new Counter();
  private readonly scenarios = new Map<string, Counter>(
    SCENARIOS.map((scenario) => [scenario, new Counter()]),
  );
  private readonly regions = new Map<string, Counter>();
  private readonly campaigns = new Map<string, { payments: number; subsidyMinor: bigint }>();
  private readonly refusals = new Map<PaymentReasonCode, number>();
  private protectedScenarioPayments = 0;

  add(payment: Payment, decision: Decision): void {
    const subsidyMinor = decision.totalSubsidyMinor;
    this.total.add(subsidyMinor);
    this.scenarios.get(payment.scenario)?.add(subsidyMinor);
    let region = this.regions.get(payment.region);
    if (region === undefined) {
      region = new Counter();
      this.regions.set(payment.region, region);
    }
    region.add(subsidyMinor);
    if (decision.reason !== null)
      this.refusals.set(decision.reason, (this.refusals.get(decision.reason) ?? 0) + 1);
    if (subsidyMinor > 0 && PROTECTED.has(payment.scenario)) this.protectedScenarioPayments += 1;
    for (const subsidy of decision.subsidies) {
      const campaign = this.campaigns.get(subsidy.campaignId) ?? { payments: 0, subsidyMinor: 0n };
      campaign.payments += 1;
      campaign.subsidyMinor += BigInt(subsidy.amountMinor);
      this.campaigns.set(subsidy.campaignId, campaign);
    }
  }

  report(): SubsidyRunReport {
    const byRegion = [...this.regions]
      .map(([region, counter]) => ({ region, ...counter.row() }))
      .sort(
        (left, right) => right.payments - left.payments || (left.region < right.region ? -1 : 1),
      );
    const byCampaign = [...this.campaigns]
      .sort(([leftId, left], [rightId, right]) =>
        left.subsidyMinor === right.subsidyMinor
          ? leftId < rightId
            ? -1
            : 1
          : left.subsidyMinor > right.subsidyMinor
            ? -1
            : 1,
      )
      .map(([campaignId, campaign]) => ({
        campaignId,
        payments: campaign.payments,
        subsidyMinor: exact(campaign.subsidyMinor),
      }));
    return {
      ...this.total.row(),
      byScenario: [...this.scenarios].map(([scenario, counter]) => ({
        scenario,
        ...counter.row(),
      })),
      byRegion,
      byCampaign,
      refusals: Object.fromEntries(this.refusals),
      protectedScenarioPayments: this.protectedScenarioPayments,
    };
  }
}
