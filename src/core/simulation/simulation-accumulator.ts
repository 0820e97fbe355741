/**
 * Folds (payment, decision under current, decision under proposed) into the figures of a
 * `SimulationReport`, without I/O. Per payment it does a few map lookups and additions, so a
 * replay of a million payments spends its time evaluating, not counting.
 *
 * Money is summed exactly: each sum is a number below 2^52 plus a bigint it spills into, so the
 * hot path adds numbers and a sum of any length stays exact (an addend is at most
 * AMOUNT_MINOR_MAX < 2^52). Parts of one sample can be tallied apart (in worker threads) and
 * merged: `tally()` is plain data and `merge()` adds it, giving the report one pass would give.
 */
import type { Decision } from "../evaluator/decision.ts";
import type { FastGrants } from "../evaluator/fast-evaluator.ts";
import { CURRENCY_IDS } from "../evaluator/fast-payment-check.ts";
import type { SnapshotCampaign } from "../evaluator/snapshot.ts";
import { FUNDING_SOURCES } from "../funding.ts";
import type { Payment } from "../model/payment.ts";
import { BPS_PER_UNIT, type Currency } from "../money.ts";
import { CASH_EQUIVALENT_SCENARIOS, SCENARIOS } from "../scenario.ts";
import {
  type IdentityColumns,
  IdentityTotals,
  SPILL_AT_MINOR,
  type TallyColumns,
} from "./identity-totals.ts";
import type { SimulatedPayment } from "./simulated-payment.ts";
import type { SimulationFlag } from "./simulation-flags.ts";
import {
  IDENTITY_KINDS,
  type IdentityKind,
  type SimulationGroupRow,
  type SimulationGroupSide,
  type SimulationReport,
  type SimulationSide,
  type SimulationWorstIdentity,
  type SimulationWorstPayment,
} from "./simulation-report.ts";

const MS_PER_HOUR = 3_600_000n;
/** A sample whose payments all share one instant still covers this much time (see simulate.md). */
export const SIMULATION_WINDOW_MS_MIN = 1_000;
/** Growth of subsidy per hour past which `simulation.spend_growth` is raised, by default (+20 %). */
export const SPEND_GROWTH_THRESHOLD_BPS_DEFAULT = 2_000;
/** The report's pseudo-key for payments to individual payees in the protected flag. */
export const INDIVIDUAL_PAYEE_KEY = "individual_payee";

export interface SimulationOptions {
  /** The one currency the report sums; valid payments in others are only counted. */
  readonly currency: Currency;
  /** The share of all traffic the payments are, in bps (10,000 = all of it). */
  readonly sampleRateBps: number;
  /** The time the payments cover; by default their last `atMs` − first `atMs` (at least 1 s). */
  readonly windowMs?: number;
  /** `simulation.spend_growth` when proposed per hour > current per hour × (1 + this / 10,000). */
  readonly spendGrowthThresholdBps?: number;
  /** Scenarios the envelope protects, besides the always-protected cash-equivalent ones. */
  readonly protectedScenarios?: readonly string[];
}

/** Counts and exact sums for one group, on both sides (0 current, 1 proposed). */
class Tally {
  payments = 0;
  subsidised0 = 0;
  subsidised1 = 0;
  low0 = 0;
  low1 = 0;
  high0 = 0n;
  high1 = 0n;

  add0(amountMinor: number): void {
    this.subsidised0 += 1;
    const low = this.low0 + amountMinor;
    if (low >= SPILL_AT_MINOR) {
      this.high0 += BigInt(low);
      this.low0 = 0;
    } else this.low0 = low;
  }

  add1(amountMinor: number): void {
    this.subsidised1 += 1;
    const low = this.low1 + amountMinor;
    if (low >= SPILL_AT_MINOR) {
      this.high1 += BigInt(low);
      this.low1 = 0;
    } else this.low1 = low;
  }

  total0(): bigint {
    return this.high0 + BigInt(this.low0);
  }

  total1(): bigint {
    return this.high1 + BigInt(this.low1);
  }
}

const GROUP_KINDS = ["scenario", "region", "campaign", "funding"] as const;

/** One snapshot's campaigns as `addGranted` reads them: by position, funding and tally. */
class GrantSide {
  readonly campaignIds: readonly string[];
  /** Index in FUNDING_SOURCES of each campaign's funding source. */
  readonly fundingIndexes: Uint8Array;
  /** The campaign's tally once it has been granted something. */
  readonly tallies: (Tally | undefined)[];

  constructor(campaigns: readonly SnapshotCampaign[]) {
    this.campaignIds = campaigns.map((effective) => effective.campaign.id);
    this.fundingIndexes = Uint8Array.from(campaigns, (effective) =>
      FUNDING_SOURCES.indexOf(effective.funding.source),
    );
    this.tallies = new Array<Tally | undefined>(campaigns.length).fill(undefined);
  }
}
type GroupKind = (typeof GROUP_KINDS)[number];

/** Everything an accumulator knows, as plain data (structured-clone safe). */
export interface SimulationTally {
  readonly currency: Currency;
  readonly payments: number;
  readonly paymentsInvalid: number;
  readonly paymentsOtherCurrency: number;
  readonly firstAtMs: number | null;
  readonly lastAtMs: number | null;
  readonly total: TallyColumns;
  readonly individualPayee: TallyColumns;
  readonly groups: Readonly<Record<GroupKind, TallyColumns>>;
  readonly identities: Readonly<Record<IdentityKind, IdentityColumns>>;
  readonly worstPayment: readonly [SimulationWorstPayment | null, SimulationWorstPayment | null];
}

export class SimulationAccumulator {
  private payments = 0;
  private paymentsInvalid = 0;
  private paymentsOtherCurrency = 0;
  private firstAtMs = Number.POSITIVE_INFINITY;
  private lastAtMs = Number.NEGATIVE_INFINITY;
  private readonly total = new Tally();
  /** Payments to individual payees: the envelope never subsidises them. */
  private readonly individualPayee = new Tally();
  private readonly groups: Record<GroupKind, Map<string, Tally>> = {
    scenario: new Map(),
    region: new Map(),
    campaign: new Map(),
    funding: new Map(),
  };
  private readonly identities: Record<IdentityKind, IdentityTotals> = {
    user: new IdentityTotals(),
    device: new IdentityTotals(),
    card: new IdentityTotals(),
  };
  private readonly fundingTallies: readonly Tally[];
  /** Per funding source (FUNDING_SOURCES order), one payment's subsidy: reused. */
  private readonly fundingScratch = new Float64Array(FUNDING_SOURCES.length);
  private readonly worst: [SimulationWorstPayment | null, SimulationWorstPayment | null] = [
    null,
    null,
  ];
  /** The report's currency as a vocabulary id (undefined: no payment can be in it). */
  private readonly currencyId: number | undefined;
  /** Scenario and region tallies by vocabulary id, for `addGranted`. */
  private readonly scenarioTallies: (Tally | undefined)[] = [];
  private readonly regionTallies: (Tally | undefined)[] = [];
  private grantSides: readonly [GrantSide, GrantSide] | undefined;

  constructor(readonly options: SimulationOptions) {
    const rate = options.sampleRateBps;
    // The control layer checks user input; out-of-range options here are a caller's bug.
    if (!Number.isInteger(rate) || rate < 1 || rate > BPS_PER_UNIT)
      throw new RangeError(`sampleRateBps must be 1..10000, got ${rate}`);
    const window = options.windowMs;
    if (window !== undefined && (!Number.isSafeInteger(window) || window < 1))
      throw new RangeError(`windowMs must be a positive whole number, got ${window}`);
    const threshold = options.spendGrowthThresholdBps;
    if (threshold !== undefined && (!Number.isSafeInteger(threshold) || threshold < 0))
      throw new RangeError(`spendGrowthThresholdBps must be ≥ 0, got ${threshold}`);
    this.fundingTallies = FUNDING_SOURCES.map((source) => this.tallyOf("funding", source));
    this.currencyId = CURRENCY_IDS[options.currency];
  }

  /**
   * The two snapshots' campaigns, by position, before `addGranted`: grants name campaigns by
   * their position in their snapshot.
   */
  useCampaigns(current: readonly SnapshotCampaign[], proposed: readonly SnapshotCampaign[]): void {
    this.grantSides = [new GrantSide(current), new GrantSide(proposed)];
  }

  /**
   * `add` for a valid payment and the fast evaluators' grants under each snapshot (in the
   * snapshots given to `useCampaigns`): the same tallies, from ids and positions rather than
   * decision objects and strings. `proposedIsCurrent`: `proposed` is the current snapshot's
   * grants standing for the proposed one's (same campaigns, so positions in the current snapshot).
   */
  addGranted(
    payment: SimulatedPayment,
    current: FastGrants,
    proposed: FastGrants,
    proposedIsCurrent = false,
  ): void {
    const checked = payment.checked;
    if (checked.currencyId !== this.currencyId) {
      this.paymentsOtherCurrency += 1;
      return;
    }
    this.payments += 1;
    const atMs = checked.atMs;
    if (atMs < this.firstAtMs) this.firstAtMs = atMs;
    if (atMs > this.lastAtMs) this.lastAtMs = atMs;
    let scenario = this.scenarioTallies[checked.scenarioId];
    if (scenario === undefined) {
      scenario = this.tallyOf("scenario", SCENARIOS[checked.scenarioId]!);
      this.scenarioTallies[checked.scenarioId] = scenario;
    }
    let region = this.regionTallies[checked.regionId];
    if (region === undefined) {
      region = this.tallyOf("region", checked.region);
      this.regionTallies[checked.regionId] = region;
    }
    this.total.payments += 1;
    scenario.payments += 1;
    region.payments += 1;
    const subsidy0 = current.totalMinor;
    const subsidy1 = proposed.totalMinor;
    if (subsidy0 === 0 && subsidy1 === 0) return;
    const individual = checked.individualPayee;
    if (subsidy0 > 0) {
      this.total.add0(subsidy0);
      scenario.add0(subsidy0);
      region.add0(subsidy0);
      if (individual) this.individualPayee.add0(subsidy0);
      this.addGrants(current, 0, 0);
      this.considerWorstChecked(payment, subsidy0, 0);
    }
    if (subsidy1 > 0) {
      this.total.add1(subsidy1);
      scenario.add1(subsidy1);
      region.add1(subsidy1);
      if (individual) this.individualPayee.add1(subsidy1);
      this.addGrants(proposed, 1, proposedIsCurrent ? 0 : 1);
      this.considerWorstChecked(payment, subsidy1, 1);
    }
    this.identities.user.addRange(
      payment.userText,
      payment.userStart,
      payment.userEnd,
      subsidy0,
      subsidy1,
    );
    if (payment.deviceStart >= 0)
      this.identities.device.addRange(
        payment.deviceText,
        payment.deviceStart,
        payment.deviceEnd,
        subsidy0,
        subsidy1,
      );
    if (payment.cardStart >= 0)
      this.identities.card.addRange(
        payment.cardText,
        payment.cardStart,
        payment.cardEnd,
        subsidy0,
        subsidy1,
      );
  }

  /** `addSubsidies` for grants, whose positions are in the `snapshot` side's campaigns. */
  private addGrants(grants: FastGrants, side: 0 | 1, snapshot: 0 | 1): void {
    const grantSide = this.grantSides?.[snapshot];
    if (grantSide === undefined) throw new Error("addGranted needs useCampaigns first");
    const scratch = this.fundingScratch;
    scratch.fill(0);
    const positions = grants.positions;
    const amounts = grants.amountsMinor;
    for (let index = 0; index < grants.count; index += 1) {
      const amountMinor = amounts[index]!;
      if (amountMinor <= 0) continue;
      const position = positions[index]!;
      let campaign = grantSide.tallies[position];
      if (campaign === undefined) {
        campaign = this.tallyOf("campaign", grantSide.campaignIds[position]!);
        grantSide.tallies[position] = campaign;
      }
      if (side === 0) campaign.add0(amountMinor);
      else campaign.add1(amountMinor);
      scratch[grantSide.fundingIndexes[position]!]! += amountMinor;
    }
    for (let index = 0; index < scratch.length; index += 1) {
      const amountMinor = scratch[index]!;
      if (amountMinor === 0) continue;
      if (side === 0) this.fundingTallies[index]!.add0(amountMinor);
      else this.fundingTallies[index]!.add1(amountMinor);
    }
  }

  /** `considerWorst` for a checked payment: the record is made only for a new worst. */
  private considerWorstChecked(payment: SimulatedPayment, subsidyMinor: number, side: 0 | 1) {
    const checked = payment.checked;
    const worst = this.worst[side];
    if (
      worst !== null &&
      (subsidyMinor < worst.subsidyMinor ||
        (subsidyMinor === worst.subsidyMinor && checked.paymentId >= worst.paymentId))
    )
      return;
    this.worst[side] = {
      paymentId: checked.paymentId,
      subsidyMinor,
      paymentAmountMinor: checked.amountMinor,
      scenario: SCENARIOS[checked.scenarioId]!,
      region: checked.region as Payment["region"],
    };
  }

  private tallyOf(kind: GroupKind, key: string): Tally {
    const map = this.groups[kind];
    let tally = map.get(key);
    if (tally === undefined) {
      tally = new Tally();
      map.set(key, tally);
    }
    return tally;
  }

  /** One payment and its two decisions; `payment` is what both evaluators were given. */
  add(payment: Payment, current: Decision, proposed: Decision): void {
    // Both snapshots check the payment alike, so one decision says whether it was valid.
    if (current.reason === "payment.invalid" || proposed.reason === "payment.invalid") {
      this.paymentsInvalid += 1;
      return;
    }
    if (payment.currency !== this.options.currency) {
      this.paymentsOtherCurrency += 1;
      return;
    }
    this.payments += 1;
    const atMs = payment.atMs;
    if (atMs < this.firstAtMs) this.firstAtMs = atMs;
    if (atMs > this.lastAtMs) this.lastAtMs = atMs;
    const scenario = this.tallyOf("scenario", payment.scenario);
    const region = this.tallyOf("region", payment.region);
    this.total.payments += 1;
    scenario.payments += 1;
    region.payments += 1;
    const subsidy0 = current.totalSubsidyMinor;
    const subsidy1 = proposed.totalSubsidyMinor;
    if (subsidy0 === 0 && subsidy1 === 0) return;
    const individual = payment.payeeKind === "individual";
    if (subsidy0 > 0) {
      this.total.add0(subsidy0);
      scenario.add0(subsidy0);
      region.add0(subsidy0);
      if (individual) this.individualPayee.add0(subsidy0);
      this.addSubsidies(current, 0);
      this.considerWorst(payment, subsidy0, 0);
    }
    if (subsidy1 > 0) {
      this.total.add1(subsidy1);
      scenario.add1(subsidy1);
      region.add1(subsidy1);
      if (individual) this.individualPayee.add1(subsidy1);
      this.addSubsidies(proposed, 1);
      this.considerWorst(payment, subsidy1, 1);
    }
    this.identities.user.add(payment.userId, subsidy0, subsidy1);
    if (payment.deviceId !== undefined)
      this.identities.device.add(payment.deviceId, subsidy0, subsidy1);
    if (payment.cardFingerprint !== undefined)
      this.identities.card.add(payment.cardFingerprint, subsidy0, subsidy1);
  }

  /** Counts a payment the caller could not even read as a payment (a malformed line). */
  addInvalid(): void {
    this.paymentsInvalid += 1;
  }

  private addSubsidies(decision: Decision, side: 0 | 1): void {
    const scratch = this.fundingScratch;
    scratch.fill(0);
    for (const subsidy of decision.subsidies) {
      const amountMinor = subsidy.amountMinor;
      if (amountMinor <= 0) continue;
      const campaign = this.tallyOf("campaign", subsidy.campaignId);
      if (side === 0) campaign.add0(amountMinor);
      else campaign.add1(amountMinor);
      scratch[FUNDING_SOURCES.indexOf(subsidy.funding)]! += amountMinor;
    }
    // A payment counts once per funding source, however many of its subsidies share it.
    for (let index = 0; index < scratch.length; index += 1) {
      const amountMinor = scratch[index]!;
      if (amountMinor === 0) continue;
      if (side === 0) this.fundingTallies[index]!.add0(amountMinor);
      else this.fundingTallies[index]!.add1(amountMinor);
    }
  }

  private considerWorst(payment: Payment, subsidyMinor: number, side: 0 | 1): void {
    const worst = this.worst[side];
    if (
      worst !== null &&
      (subsidyMinor < worst.subsidyMinor ||
        (subsidyMinor === worst.subsidyMinor && payment.paymentId >= worst.paymentId))
    )
      return;
    this.worst[side] = {
      paymentId: payment.paymentId,
      subsidyMinor,
      paymentAmountMinor: payment.amountMinor,
      scenario: payment.scenario,
      region: payment.region,
    };
  }

  /** What this accumulator knows, to be merged into another (e.g. from a worker thread). */
  tally(): SimulationTally {
    const groups = {} as Record<GroupKind, TallyColumns>;
    for (const kind of GROUP_KINDS) groups[kind] = columnsOf(this.groups[kind]);
    const identities = {} as Record<IdentityKind, IdentityColumns>;
    for (const kind of IDENTITY_KINDS) identities[kind] = this.identities[kind].columns();
    return {
      currency: this.options.currency,
      payments: this.payments,
      paymentsInvalid: this.paymentsInvalid,
      paymentsOtherCurrency: this.paymentsOtherCurrency,
      firstAtMs: this.payments === 0 ? null : this.firstAtMs,
      lastAtMs: this.payments === 0 ? null : this.lastAtMs,
      total: columnsOf(new Map([["", this.total]])),
      individualPayee: columnsOf(new Map([["", this.individualPayee]])),
      groups,
      identities,
      worstPayment: [this.worst[0], this.worst[1]],
    };
  }

  /** Adds another accumulator's tally of other payments of the same sample. */
  merge(tally: SimulationTally): void {
    if (tally.currency !== this.options.currency)
      throw new RangeError(`cannot merge a ${tally.currency} tally into ${this.options.currency}`);
    this.payments += tally.payments;
    this.paymentsInvalid += tally.paymentsInvalid;
    this.paymentsOtherCurrency += tally.paymentsOtherCurrency;
    if (tally.firstAtMs !== null && tally.firstAtMs < this.firstAtMs)
      this.firstAtMs = tally.firstAtMs;
    if (tally.lastAtMs !== null && tally.lastAtMs > this.lastAtMs) this.lastAtMs = tally.lastAtMs;
    mergeColumns(new Map([["", this.total]]), tally.total);
    mergeColumns(new Map([["", this.individualPayee]]), tally.individualPayee);
    for (const kind of GROUP_KINDS) mergeColumns(this.groups[kind], tally.groups[kind]);
    for (const kind of IDENTITY_KINDS) this.identities[kind].merge(tally.identities[kind]);
    for (const side of [0, 1] as const) {
      const other = tally.worstPayment[side];
      if (other !== null) this.considerWorstRecord(other, side);
    }
  }

  private considerWorstRecord(record: SimulationWorstPayment, side: 0 | 1): void {
    const worst = this.worst[side];
    if (
      worst === null ||
      record.subsidyMinor > worst.subsidyMinor ||
      (record.subsidyMinor === worst.subsidyMinor && record.paymentId < worst.paymentId)
    )
      this.worst[side] = record;
  }

  report(): SimulationReport {
    const { options } = this;
    const payments = this.payments;
    const firstAtMs = payments === 0 ? null : this.firstAtMs;
    const lastAtMs = payments === 0 ? null : this.lastAtMs;
    const windowMs =
      options.windowMs ??
      Math.max(
        firstAtMs === null || lastAtMs === null ? 0 : lastAtMs - firstAtMs,
        SIMULATION_WINDOW_MS_MIN,
      );
    const divisor = BigInt(windowMs) * BigInt(options.sampleRateBps);
    const perHour = (minor: bigint): bigint =>
      (minor * MS_PER_HOUR * BigInt(BPS_PER_UNIT)) / divisor;
    const side = (tally: Tally, which: 0 | 1): SimulationSide => {
      const subsidised = which === 0 ? tally.subsidised0 : tally.subsidised1;
      const subsidyMinor = which === 0 ? tally.total0() : tally.total1();
      return {
        subsidisedPayments: subsidised,
        subsidisedShareBps: shareBps(subsidised, payments),
        subsidyMinor,
        subsidyPerHourMinor: perHour(subsidyMinor),
        subsidyPerPaymentMilliMinor:
          payments === 0 ? 0 : Number((subsidyMinor * 1000n) / BigInt(payments)),
      };
    };
    const groupSide = (tally: Tally, which: 0 | 1, base: number): SimulationGroupSide => {
      const subsidised = which === 0 ? tally.subsidised0 : tally.subsidised1;
      const subsidyMinor = which === 0 ? tally.total0() : tally.total1();
      return {
        subsidisedPayments: subsidised,
        subsidisedShareBps: shareBps(subsidised, base),
        subsidyMinor,
        subsidyPerHourMinor: perHour(subsidyMinor),
      };
    };
    const rows = (kind: GroupKind): SimulationGroupRow[] =>
      [...this.groups[kind]]
        .filter(([, tally]) => tally.payments > 0 || tally.subsidised0 > 0 || tally.subsidised1 > 0)
        .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
        .map(([key, tally]) => {
          const base = kind === "scenario" || kind === "region" ? tally.payments : payments;
          const current = groupSide(tally, 0, base);
          const proposed = groupSide(tally, 1, base);
          return {
            key,
            payments: base,
            current,
            proposed,
            deltaSubsidyPerHourMinor: proposed.subsidyPerHourMinor - current.subsidyPerHourMinor,
          };
        });
    const current = side(this.total, 0);
    const proposed = side(this.total, 1);
    const byScenario = rows("scenario");
    const byRegion = rows("region");
    const byCampaign = rows("campaign");
    const byFunding = rows("funding");
    const worstIdentity = {} as Record<
      IdentityKind,
      { current: SimulationWorstIdentity | null; proposed: SimulationWorstIdentity | null }
    >;
    for (const kind of IDENTITY_KINDS) {
      worstIdentity[kind] = {
        current: this.identities[kind].worst(0),
        proposed: this.identities[kind].worst(1),
      };
    }
    return {
      currency: options.currency,
      sampleRateBps: options.sampleRateBps,
      payments,
      paymentsInvalid: this.paymentsInvalid,
      paymentsOtherCurrency: this.paymentsOtherCurrency,
      firstAtMs,
      lastAtMs,
      windowMs,
      current,
      proposed,
      delta: {
        subsidisedPayments: proposed.subsidisedPayments - current.subsidisedPayments,
        subsidisedShareBps: proposed.subsidisedShareBps - current.subsidisedShareBps,
        subsidyMinor: proposed.subsidyMinor - current.subsidyMinor,
        subsidyPerHourMinor: proposed.subsidyPerHourMinor - current.subsidyPerHourMinor,
      },
      ratio: {
        subsidyBps: ratioBps(proposed.subsidyMinor, current.subsidyMinor),
        subsidisedPaymentsBps: ratioBps(
          BigInt(proposed.subsidisedPayments),
          BigInt(current.subsidisedPayments),
        ),
      },
      byScenario,
      byRegion,
      byCampaign,
      byFunding,
      worstPayment: { current: this.worst[0], proposed: this.worst[1] },
      worstIdentity,
      forecast: {
        subsidyPerPaymentMilliMinor: proposed.subsidyPerPaymentMilliMinor,
        subsidisedShareBps: proposed.subsidisedShareBps,
        byCampaign: byCampaign
          .filter((row) => row.proposed.subsidisedPayments > 0)
          .map((row) => ({
            campaignId: row.key,
            subsidyPerPaymentMilliMinor:
              payments === 0 ? 0 : Number((row.proposed.subsidyMinor * 1000n) / BigInt(payments)),
            subsidisedShareBps: row.proposed.subsidisedShareBps,
          })),
      },
      flags: this.flags(current, proposed, byScenario, byRegion, byFunding),
    };
  }

  private flags(
    current: SimulationSide,
    proposed: SimulationSide,
    byScenario: readonly SimulationGroupRow[],
    byRegion: readonly SimulationGroupRow[],
    byFunding: readonly SimulationGroupRow[],
  ): SimulationFlag[] {
    const flags: SimulationFlag[] = [];
    const thresholdBps = BigInt(
      this.options.spendGrowthThresholdBps ?? SPEND_GROWTH_THRESHOLD_BPS_DEFAULT,
    );
    const before = current.subsidyPerHourMinor;
    const after = proposed.subsidyPerHourMinor;
    // The same test as the risk policy's: after > before + floor(before × threshold / 10,000).
    if (after > before + (before * thresholdBps) / BigInt(BPS_PER_UNIT)) {
      flags.push({
        code: "simulation.spend_growth",
        message: `subsidy per hour grows from ${before} to ${after} minor units, past the threshold of +${thresholdBps} bps`,
      });
    }
    const fresh = (
      code: "simulation.new_scenario" | "simulation.new_region" | "simulation.new_funding",
      rows: readonly SimulationGroupRow[],
      noun: string,
    ) => {
      for (const row of rows) {
        if (row.current.subsidisedPayments === 0 && row.proposed.subsidisedPayments > 0)
          flags.push({
            code,
            key: row.key,
            message: `${noun} ${row.key} is subsidised under the proposed configuration only (${row.proposed.subsidisedPayments} payments, ${row.proposed.subsidyMinor} minor units)`,
          });
      }
    };
    fresh("simulation.new_scenario", byScenario, "scenario");
    fresh("simulation.new_region", byRegion, "region");
    fresh("simulation.new_funding", byFunding, "funding source");
    const protectedScenarios = new Set<string>([
      ...CASH_EQUIVALENT_SCENARIOS,
      ...(this.options.protectedScenarios ?? []),
    ]);
    const protectedRows = [
      ...byScenario.filter((row) => protectedScenarios.has(row.key)),
      ...(this.individualPayee.subsidised0 + this.individualPayee.subsidised1 > 0
        ? [
            {
              key: INDIVIDUAL_PAYEE_KEY,
              current: { subsidisedPayments: this.individualPayee.subsidised0 },
              proposed: { subsidisedPayments: this.individualPayee.subsidised1 },
            },
          ]
        : []),
    ];
    for (const row of protectedRows) {
      const subsidised0 = row.current.subsidisedPayments;
      const subsidised1 = row.proposed.subsidisedPayments;
      if (subsidised0 + subsidised1 === 0) continue;
      flags.push({
        code: "simulation.protected_scenario",
        key: row.key,
        message: `${row.key} payments got subsidies: ${subsidised0} under the current configuration, ${subsidised1} under the proposed`,
      });
    }
    return flags;
  }
}

function shareBps(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.floor((part * BPS_PER_UNIT) / whole);
}

function ratioBps(proposed: bigint, current: bigint): number | null {
  return current === 0n ? null : Number((proposed * BigInt(BPS_PER_UNIT)) / current);
}

function columnsOf(map: ReadonlyMap<string, Tally>): TallyColumns {
  const keys: string[] = [];
  const numbers = new Float64Array(map.size * 5);
  const spills: [number, bigint, bigint][] = [];
  let index = 0;
  for (const [key, tally] of map) {
    keys.push(key);
    const at = index * 5;
    numbers[at] = tally.payments;
    numbers[at + 1] = tally.subsidised0;
    numbers[at + 2] = tally.subsidised1;
    numbers[at + 3] = tally.low0;
    numbers[at + 4] = tally.low1;
    if (tally.high0 !== 0n || tally.high1 !== 0n) spills.push([index, tally.high0, tally.high1]);
    index += 1;
  }
  return { keys, numbers, spills };
}

function mergeColumns(map: Map<string, Tally>, columns: TallyColumns): void {
  const { keys, numbers } = columns;
  const merged: Tally[] = new Array(keys.length);
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index]!;
    let tally = map.get(key);
    if (tally === undefined) {
      tally = new Tally();
      map.set(key, tally);
    }
    merged[index] = tally;
    const at = index * 5;
    tally.payments += numbers[at]!;
    tally.subsidised0 += numbers[at + 1]!;
    tally.subsidised1 += numbers[at + 2]!;
    // Two number parts below 2^52 sum below 2^53: exact; then spill as adding does.
    tally.low0 += numbers[at + 3]!;
    tally.low1 += numbers[at + 4]!;
    if (tally.low0 >= SPILL_AT_MINOR) {
      tally.high0 += BigInt(tally.low0);
      tally.low0 = 0;
    }
    if (tally.low1 >= SPILL_AT_MINOR) {
      tally.high1 += BigInt(tally.low1);
      tally.low1 = 0;
    }
  }
  for (const [index, high0, high1] of columns.spills) {
    merged[index]!.high0 += high0;
    merged[index]!.high1 += high1;
  }
}
