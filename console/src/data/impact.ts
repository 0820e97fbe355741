/**
 * The incident page's view of an impact report (GET /v1/incidents/{id}/impact,
 * docs/reference/impact-report.md): the minute series for the chart, each split as table rows
 * with shares of the total, the bars for a split. Pure.
 */

export interface ImpactMoney {
  readonly reservedMinor: number;
  readonly heldMinor: number;
  readonly committedMinor: number;
  readonly returnedMinor: number;
  readonly refundedMinor: number;
  readonly netMinor: number;
}

export interface ImpactCounts extends ImpactMoney {
  readonly payments: number;
  readonly users: number;
  readonly subsidies: number;
}

export interface ImpactSplitRow extends ImpactCounts {
  readonly key: string;
}

export const IMPACT_SPLITS = [
  "scenario",
  "region",
  "funder",
  "campaign_version",
  "minute",
] as const;
export type ImpactSplit = (typeof IMPACT_SPLITS)[number];

export interface ImpactReport {
  readonly window: { readonly firstAtMs: number | null; readonly lastAtMs: number | null };
  readonly totals: ImpactCounts;
  readonly splits: Readonly<
    Record<ImpactSplit, { readonly rows: readonly ImpactSplitRow[]; readonly omitted: number }>
  >;
}

export const SPLIT_TITLES: Readonly<Record<ImpactSplit, string>> = {
  scenario: "By scenario",
  region: "By region",
  funder: "By funder",
  campaign_version: "By campaign version",
  minute: "By minute",
};

/** One minute's point of the chart: its start (UTC ms) and its figures. */
export interface MinutePoint {
  readonly atMs: number;
  readonly netMinor: number;
  readonly payments: number;
}

/**
 * The minute split as a continuous series: minutes with no subsidy between the first and the
 * last are zeros, so the chart shows a gap as a gap. At most `minutesMax` points (the last ones).
 */
export function minuteSeries(report: ImpactReport, minutesMax = 1_440): MinutePoint[] {
  const byMinute = new Map<number, ImpactSplitRow>();
  for (const row of report.splits.minute.rows) {
    const atMs = Number(row.key);
    if (row.key !== "" && Number.isFinite(atMs)) byMinute.set(atMs, row);
  }
  if (byMinute.size === 0) return [];
  const minutes = [...byMinute.keys()].sort((a, b) => a - b);
  const last = minutes[minutes.length - 1] as number;
  const first = Math.max(minutes[0] as number, last - (minutesMax - 1) * 60_000);
  const points: MinutePoint[] = [];
  for (let atMs = first; atMs <= last; atMs += 60_000) {
    const row = byMinute.get(atMs);
    points.push({ atMs, netMinor: row?.netMinor ?? 0, payments: row?.payments ?? 0 });
  }
  return points;
}

export interface SplitTableRow extends ImpactSplitRow {
  /** Share of the report's net subsidy, basis points. */
  readonly netShareBps: number;
  /** What the table shows for the key ("(not recorded)" for an empty one). */
  readonly label: string;
}

/** A split's rows for a table, in the report's order, each with its share of the net. */
export function splitTable(report: ImpactReport, split: ImpactSplit): SplitTableRow[] {
  const total = report.totals.netMinor;
  return report.splits[split].rows.map((row) => ({
    ...row,
    label: split === "minute" ? minuteLabel(row.key) : row.key === "" ? "(not recorded)" : row.key,
    netShareBps: total > 0 ? Math.round((row.netMinor / total) * 10_000) : 0,
  }));
}

function minuteLabel(key: string): string {
  const atMs = Number(key);
  if (key === "" || !Number.isFinite(atMs)) return "(no time)";
  return new Date(atMs).toISOString().slice(0, 16).replace("T", " ");
}

/** The largest `limit` rows of a split by net subsidy, as bars; the rest summed as "others". */
export function splitBars(
  report: ImpactReport,
  split: Exclude<ImpactSplit, "minute">,
  limit = 8,
): { label: string; value: number }[] {
  const rows = [...report.splits[split].rows].sort(
    (a, b) => b.netMinor - a.netMinor || (a.key < b.key ? -1 : 1),
  );
  const bars = rows
    .slice(0, limit)
    .map((row) => ({ label: row.key === "" ? "(not recorded)" : row.key, value: row.netMinor }));
  const rest = rows.slice(limit).reduce((sum, row) => sum + row.netMinor, 0);
  if (rows.length > limit) bars.push({ label: `${rows.length - limit} others`, value: rest });
  return bars;
}

/**
 * The unit an incident's money is shown in. Neither the incident nor its impact report carries a
 * currency, so it is the blamed campaigns' (GET /v1/campaigns): one currency when they share it;
 * otherwise the figures are shown as the minor units the API gives, with why — a JPY amount
 * written with CNY's two decimals would read a hundred times too small.
 */
export type MoneyUnit =
  | { readonly kind: "currency"; readonly currency: string }
  | { readonly kind: "minor"; readonly why: string };

export function incidentMoneyUnit(
  blamedCampaignIds: readonly string[],
  campaigns: readonly { readonly id: string; readonly currency: string }[] | undefined,
): MoneyUnit {
  if (campaigns === undefined) {
    return { kind: "minor", why: "the campaigns' currencies could not be read" };
  }
  const byId = new Map(campaigns.map((campaign) => [campaign.id, campaign.currency]));
  const currencies = [
    ...new Set(blamedCampaignIds.flatMap((id) => (byId.has(id) ? [byId.get(id) as string] : []))),
  ].sort();
  if (currencies.length === 1) return { kind: "currency", currency: currencies[0] as string };
  if (currencies.length === 0) {
    return {
      kind: "minor",
      why:
        blamedCampaignIds.length === 0
          ? "it blames no campaign yet"
          : "no blamed campaign is active, so its currency is not known",
    };
  }
  return {
    kind: "minor",
    why: `its blamed campaigns use ${currencies.join(" and ")}, summed by the report in minor units`,
  };
}
