/**
 * The impact report computed from the ledger (DESIGN §4.6): for a set of campaign versions, and
 * optionally a time range, exactly which payments got a subsidy from them, when, by whom, where,
 * how much — reserved, committed, returned, refunded and the net — split by scenario, region,
 * funder, campaign version and minute. Pure: the query, the report, the aggregation the memory
 * store uses, the assembly of the SQL stores' grouped rows, and the CSV and JSON renderings.
 *
 * Money, per subsidy of an affected version (an entry: a refused subsidy is not one):
 * - `reservedMinor`: what was reserved when the payment was answered (the grant);
 * - `heldMinor`: still reserved, neither committed nor released (what remediation can release);
 * - `committedMinor`: spent by a commit;
 * - `returnedMinor`: went back to the budgets unspent — released, expired, or the part of a
 *   reservation a lower commit did not take;
 * - `refundedMinor`: reversed by refunds after the commit;
 * - `netMinor` = held + committed − refunded: what the incident costs, or may still cost.
 * reserved = held + committed + returned always holds.
 */
import type { ReservationState } from "./reservation-lifecycle.ts";

/** A campaign version: `campaignId@version` in the CLI and the report's keys. */
export interface CampaignVersionRef {
  readonly campaignId: string;
  readonly version: number;
}

export interface ImpactQuery {
  readonly versions: readonly CampaignVersionRef[];
  /** Payments at or after this instant (UTC ms), when given. */
  readonly fromMs?: number;
  /** Payments before this instant (UTC ms), when given. */
  readonly toMs?: number;
}

/** Limits on a query and a report (STYLE rule 9). */
export const IMPACT_LIMITS = {
  /** Versions in one query. */
  versionsMax: 1_000,
  /** Rows of one split; the rest are counted in `omitted` (a week of minutes). */
  splitRowsMax: 10_080,
  campaignIdLengthMax: 200,
} as const;

export const IMPACT_SPLITS = [
  "scenario",
  "region",
  "funder",
  "campaign_version",
  "minute",
] as const;
export type ImpactSplit = (typeof IMPACT_SPLITS)[number];

export interface ImpactMoney {
  readonly reservedMinor: number;
  readonly heldMinor: number;
  readonly committedMinor: number;
  readonly returnedMinor: number;
  readonly refundedMinor: number;
  readonly netMinor: number;
}

export interface ImpactCounts extends ImpactMoney {
  /** Distinct payments with at least one subsidy of the versions. */
  readonly payments: number;
  /** Distinct payers among them (payments whose payer is unrecorded are not counted). */
  readonly users: number;
  /** Subsidies (ledger entries) of the versions. */
  readonly subsidies: number;
}

export interface ImpactSplitRow extends ImpactCounts {
  /**
   * The value split by: a scenario, a region, a funding source, `campaignId@version`, or for
   * minutes the minute's start as UTC ms in decimal. "" where the ledger did not record it.
   */
  readonly key: string;
}

export interface ImpactSplitRows {
  readonly rows: readonly ImpactSplitRow[];
  /** Rows past `IMPACT_LIMITS.splitRowsMax`, left out. */
  readonly omitted: number;
}

export interface ImpactReport {
  readonly query: ImpactQuery;
  /** The first and last affected payment's time (UTC ms); null when none had a recorded time. */
  readonly window: { readonly firstAtMs: number | null; readonly lastAtMs: number | null };
  readonly totals: ImpactCounts;
  /**
   * Each split's rows: `minute` by time ascending (payments without a recorded time are in no
   * minute); the others by net descending, then key. A payment with subsidies of two funders (or
   * versions) counts once in each.
   */
  readonly splits: Readonly<Record<ImpactSplit, ImpactSplitRows>>;
}

/** One aggregated row as the SQL stores return it: `split` is `total` or an `ImpactSplit`. */
export interface ImpactGroupRow {
  readonly split: "total" | ImpactSplit;
  readonly key: string;
  readonly payments: number;
  readonly users: number;
  readonly subsidies: number;
  readonly firstAtMs: number | null;
  readonly lastAtMs: number | null;
  readonly reservedMinor: number;
  readonly heldMinor: number;
  readonly committedMinor: number;
  readonly returnedMinor: number;
  readonly refundedMinor: number;
}

/** One subsidy of the ledger with the facts the report reads: what the memory store aggregates. */
export interface ImpactSubsidyFact {
  readonly paymentId: string;
  readonly userId: string | null;
  readonly scenario: string | null;
  readonly region: string | null;
  readonly atMs: number | null;
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly funding: string;
  readonly state: ReservationState;
  readonly reservedMinor: number;
  readonly committedMinor: number;
  readonly reversedMinor: number;
}

/** `campaignId@version`. */
export function versionKey(campaignId: string, version: number): string {
  return `${campaignId}@${version}`;
}

/** Why a query cannot be run, or undefined. Checked by every store before reading. */
export function impactQueryProblem(query: ImpactQuery): string | undefined {
  if (!Array.isArray(query.versions) || query.versions.length === 0) {
    return "name at least one campaign version";
  }
  if (query.versions.length > IMPACT_LIMITS.versionsMax) {
    return `at most ${IMPACT_LIMITS.versionsMax} campaign versions`;
  }
  for (const { campaignId, version } of query.versions) {
    if (
      typeof campaignId !== "string" ||
      campaignId.length === 0 ||
      campaignId.length > IMPACT_LIMITS.campaignIdLengthMax
    ) {
      return `campaign id ${JSON.stringify(campaignId)} is not 1-${IMPACT_LIMITS.campaignIdLengthMax} characters`;
    }
    if (!Number.isSafeInteger(version) || version < 1 || version > 2_147_483_647) {
      return `version ${version} of ${campaignId} is not a positive whole number`;
    }
  }
  for (const [name, value] of [
    ["fromMs", query.fromMs],
    ["toMs", query.toMs],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) return `${name} is not a whole ms`;
  }
  if (query.fromMs !== undefined && query.toMs !== undefined && query.fromMs >= query.toMs) {
    return "fromMs must be before toMs";
  }
  return undefined;
}

/** What one subsidy adds to each amount, by the state of its payment. */
export function impactAmounts(
  state: ReservationState,
  reservedMinor: number,
  committedMinor: number,
  reversedMinor: number,
): Omit<ImpactMoney, "netMinor"> {
  const held = state === "reserved";
  return {
    reservedMinor,
    heldMinor: held ? reservedMinor : 0,
    committedMinor: state === "committed" ? committedMinor : 0,
    returnedMinor: held ? 0 : reservedMinor - committedMinor,
    refundedMinor: reversedMinor,
  };
}

/** Whether a subsidy fact is in the query's versions and time range. */
export function impactMatcher(query: ImpactQuery): (fact: ImpactSubsidyFact) => boolean {
  const versions = new Set(query.versions.map((ref) => versionKey(ref.campaignId, ref.version)));
  return (fact) => {
    if (!versions.has(versionKey(fact.campaignId, fact.campaignVersion))) return false;
    if (query.fromMs === undefined && query.toMs === undefined) return true;
    if (fact.atMs === null) return false;
    if (query.fromMs !== undefined && fact.atMs < query.fromMs) return false;
    return query.toMs === undefined || fact.atMs < query.toMs;
  };
}

/** The minute an instant falls in, as its start in UTC ms. */
export function minuteStartMs(atMs: number): number {
  return Math.floor(atMs / 60_000) * 60_000;
}

/** The grouped rows of the facts the query matched: what the SQL stores compute in SQL. */
export function aggregateImpact(facts: Iterable<ImpactSubsidyFact>): ImpactGroupRow[] {
  const groups = new Map<string, GroupAccumulator>();
  const add = (split: ImpactGroupRow["split"], key: string, fact: ImpactSubsidyFact) => {
    const id = `${split}\u0000${key}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = new GroupAccumulator(split, key);
      groups.set(id, group);
    }
    group.add(fact);
  };
  for (const fact of facts) {
    add("total", "", fact);
    add("scenario", fact.scenario ?? "", fact);
    add("region", fact.region ?? "", fact);
    add("funder", fact.funding, fact);
    add("campaign_version", versionKey(fact.campaignId, fact.campaignVersion), fact);
    if (fact.atMs !== null) add("minute", String(minuteStartMs(fact.atMs)), fact);
  }
  return [...groups.values()].map((group) => group.row());
}

class GroupAccumulator {
  private readonly payments = new Set<string>();
  private readonly users = new Set<string>();
  private subsidies = 0;
  private firstAtMs: number | null = null;
  private lastAtMs: number | null = null;
  private readonly money = {
    reservedMinor: 0,
    heldMinor: 0,
    committedMinor: 0,
    returnedMinor: 0,
    refundedMinor: 0,
  };

  constructor(
    private readonly split: ImpactGroupRow["split"],
    private readonly key: string,
  ) {}

  add(fact: ImpactSubsidyFact): void {
    this.payments.add(fact.paymentId);
    if (fact.userId !== null) this.users.add(fact.userId);
    this.subsidies += 1;
    if (fact.atMs !== null) {
      this.firstAtMs = this.firstAtMs === null ? fact.atMs : Math.min(this.firstAtMs, fact.atMs);
      this.lastAtMs = this.lastAtMs === null ? fact.atMs : Math.max(this.lastAtMs, fact.atMs);
    }
    const amounts = impactAmounts(
      fact.state,
      fact.reservedMinor,
      fact.committedMinor,
      fact.reversedMinor,
    );
    this.money.reservedMinor += amounts.reservedMinor;
    this.money.heldMinor += amounts.heldMinor;
    this.money.committedMinor += amounts.committedMinor;
    this.money.returnedMinor += amounts.returnedMinor;
    this.money.refundedMinor += amounts.refundedMinor;
  }

  row(): ImpactGroupRow {
    return {
      split: this.split,
      key: this.key,
      payments: this.payments.size,
      users: this.users.size,
      subsidies: this.subsidies,
      firstAtMs: this.firstAtMs,
      lastAtMs: this.lastAtMs,
      ...this.money,
    };
  }
}

const NO_COUNTS: ImpactCounts = {
  payments: 0,
  users: 0,
  subsidies: 0,
  reservedMinor: 0,
  heldMinor: 0,
  committedMinor: 0,
  returnedMinor: 0,
  refundedMinor: 0,
  netMinor: 0,
};

/** The report from grouped rows (any order): sorted, bounded, with the net computed once here. */
export function assembleImpactReport(
  query: ImpactQuery,
  groups: readonly ImpactGroupRow[],
): ImpactReport {
  const total = groups.find((group) => group.split === "total" && group.payments > 0);
  const bySplit = new Map<ImpactSplit, ImpactSplitRow[]>(IMPACT_SPLITS.map((split) => [split, []]));
  for (const group of groups) {
    if (group.split === "total") continue;
    bySplit.get(group.split)?.push({ key: group.key, ...countsOf(group) });
  }
  const splits = {} as Record<ImpactSplit, ImpactSplitRows>;
  for (const split of IMPACT_SPLITS) {
    const rows = bySplit.get(split)!;
    rows.sort(
      split === "minute"
        ? (left, right) => Number(left.key) - Number(right.key)
        : (left, right) => right.netMinor - left.netMinor || compareStrings(left.key, right.key),
    );
    const kept = rows.slice(0, IMPACT_LIMITS.splitRowsMax);
    splits[split] = { rows: kept, omitted: rows.length - kept.length };
  }
  return {
    query: normalQuery(query),
    window: { firstAtMs: total?.firstAtMs ?? null, lastAtMs: total?.lastAtMs ?? null },
    totals: total === undefined ? NO_COUNTS : countsOf(total),
    splits,
  };
}

function countsOf(group: ImpactGroupRow): ImpactCounts {
  for (const value of [
    group.payments,
    group.users,
    group.subsidies,
    group.reservedMinor,
    group.heldMinor,
    group.committedMinor,
    group.returnedMinor,
    group.refundedMinor,
  ]) {
    // Sums come from SQL too: a value past 2^53 would be silently inexact as a number.
    if (!Number.isSafeInteger(value)) throw new Error(`impact sum ${value} is not a safe integer`);
  }
  return {
    payments: group.payments,
    users: group.users,
    subsidies: group.subsidies,
    reservedMinor: group.reservedMinor,
    heldMinor: group.heldMinor,
    committedMinor: group.committedMinor,
    returnedMinor: group.returnedMinor,
    refundedMinor: group.refundedMinor,
    netMinor: group.heldMinor + group.committedMinor - group.refundedMinor,
  };
}

/** The query as reported: versions sorted and unique, absent bounds left out. */
function normalQuery(query: ImpactQuery): ImpactQuery {
  const unique = new Map(
    query.versions.map((ref) => [versionKey(ref.campaignId, ref.version), ref] as const),
  );
  const versions = [...unique.values()]
    .map(({ campaignId, version }) => ({ campaignId, version }))
    .sort(
      (left, right) =>
        compareStrings(left.campaignId, right.campaignId) || left.version - right.version,
    );
  return {
    versions,
    ...(query.fromMs === undefined ? {} : { fromMs: query.fromMs }),
    ...(query.toMs === undefined ? {} : { toMs: query.toMs }),
  };
}

function compareStrings(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The report as one JSON document (the report object itself, stable field order). */
export function impactReportJson(report: ImpactReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * The CSV layout: one header line, then one row per split row, the totals first:
 * `split,key,payments,users,subsidies,reserved_minor,held_minor,committed_minor,returned_minor,refunded_minor,net_minor,first_at_ms,last_at_ms`
 * — `split` is `total`, `scenario`, `region`, `funder`, `campaign_version` or `minute`;
 * `first_at_ms`/`last_at_ms` are filled on the total row only (the window). RFC 4180: CRLF line
 * ends, fields with a comma, quote or line break quoted, quotes doubled.
 */
export const IMPACT_CSV_HEADER = [
  "split",
  "key",
  "payments",
  "users",
  "subsidies",
  "reserved_minor",
  "held_minor",
  "committed_minor",
  "returned_minor",
  "refunded_minor",
  "net_minor",
  "first_at_ms",
  "last_at_ms",
] as const;

export function impactReportCsv(report: ImpactReport): string {
  const lines = [IMPACT_CSV_HEADER.join(",")];
  const line = (split: string, key: string, counts: ImpactCounts, window: (number | null)[]) =>
    [
      split,
      key,
      counts.payments,
      counts.users,
      counts.subsidies,
      counts.reservedMinor,
      counts.heldMinor,
      counts.committedMinor,
      counts.returnedMinor,
      counts.refundedMinor,
      counts.netMinor,
      ...window.map((value) => (value === null ? "" : value)),
    ]
      .map((field) => csvField(String(field)))
      .join(",");
  lines.push(line("total", "", report.totals, [report.window.firstAtMs, report.window.lastAtMs]));
  for (const split of IMPACT_SPLITS) {
    for (const row of report.splits[split].rows)
      lines.push(line(split, row.key, row, [null, null]));
  }
  return `${lines.join("\r\n")}\r\n`;
}

/** One RFC 4180 field. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}
