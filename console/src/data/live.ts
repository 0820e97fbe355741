/**
 * The live page's figures from successive scrapes of `/metrics`: payments and subsidy per second,
 * the campaigns and funders spending most, as rates between scrapes. Counters only grow while a
 * server runs; one that fell was reset (the server restarted), and its new value is what was
 * counted since. Pure: the page feeds it scrapes and the times it took them.
 */
import { type MetricSample, parseMetrics } from "./prometheus.ts";

export const DECISIONS_METRIC = "bursar_decisions_total";
export const SUBSIDY_METRIC = "bursar_subsidy_reserved_minor_total";
export const LIVE_METRICS: ReadonlySet<string> = new Set([DECISIONS_METRIC, SUBSIDY_METRIC]);

/** One scrape, reduced to the counters the page reads. */
export interface LiveSample {
  readonly atMs: number;
  /** Payments decided by apply (granted or not), since the server started. */
  readonly payments: number;
  /** Payments granted a subsidy. */
  readonly granted: number;
  /** Subsidy reserved, minor units, by campaign id. */
  readonly subsidyByCampaign: ReadonlyMap<string, number>;
  /** Each campaign's funding source, from the subsidy metric's labels (one per campaign). */
  readonly fundingByCampaign: ReadonlyMap<string, string>;
}

export function liveSample(samples: readonly MetricSample[], atMs: number): LiveSample {
  let payments = 0;
  let granted = 0;
  const subsidyByCampaign = new Map<string, number>();
  const fundingByCampaign = new Map<string, string>();
  for (const sample of samples) {
    if (sample.name === DECISIONS_METRIC && sample.labels.operation === "apply") {
      payments += sample.value;
      if (sample.labels.reason === "granted") granted += sample.value;
    } else if (sample.name === SUBSIDY_METRIC) {
      const campaign = sample.labels.campaign ?? "";
      subsidyByCampaign.set(campaign, (subsidyByCampaign.get(campaign) ?? 0) + sample.value);
      fundingByCampaign.set(campaign, sample.labels.funding ?? "");
    }
  }
  return { atMs, payments, granted, subsidyByCampaign, fundingByCampaign };
}

export function liveSampleFromText(text: string, atMs: number): LiveSample {
  return liveSample(parseMetrics(text, LIVE_METRICS), atMs);
}

/** What grew between two readings of a counter; a fall means a reset. */
export function counterDelta(before: number, after: number): number {
  return after >= before ? after - before : after;
}

export interface RatePoint {
  readonly atMs: number;
  readonly paymentsPerS: number;
  readonly subsidyMinorPerS: number;
}

export interface Spender {
  readonly key: string;
  /** Minor units per second over the window. */
  readonly minorPerS: number;
  /** Minor units since the server started. */
  readonly totalMinor: number;
}

export interface LiveSummary {
  /** Rates between the last two scrapes; undefined before the second. */
  readonly now: RatePoint | undefined;
  /** One point per pair of successive scrapes, oldest first. */
  readonly series: readonly RatePoint[];
  /** Granted share of payments over the window, basis points; undefined without payments. */
  readonly grantedShareBps: number | undefined;
  readonly topCampaigns: readonly Spender[];
  readonly topFunders: readonly Spender[];
  readonly windowS: number;
}

function sumValues(map: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}

function ranked(
  first: ReadonlyMap<string, number>,
  last: ReadonlyMap<string, number>,
  seconds: number,
  limit: number,
): Spender[] {
  const spenders: Spender[] = [];
  for (const [key, total] of last) {
    const grown = counterDelta(first.get(key) ?? 0, total);
    spenders.push({ key, minorPerS: seconds > 0 ? grown / seconds : 0, totalMinor: total });
  }
  spenders.sort(
    (a, b) =>
      b.minorPerS - a.minorPerS ||
      b.totalMinor - a.totalMinor ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
  return spenders.slice(0, limit);
}

function byFunder(sample: LiveSample): Map<string, number> {
  const funders = new Map<string, number>();
  for (const [campaign, minor] of sample.subsidyByCampaign) {
    const funding = sample.fundingByCampaign.get(campaign) ?? "";
    funders.set(funding, (funders.get(funding) ?? 0) + minor);
  }
  return funders;
}

/** The page's figures from its scrapes, oldest first; the top lists rank the whole window. */
export function summarizeLive(samples: readonly LiveSample[], topMax = 5): LiveSummary {
  const series: RatePoint[] = [];
  for (let index = 1; index < samples.length; index += 1) {
    const before = samples[index - 1] as LiveSample;
    const after = samples[index] as LiveSample;
    const seconds = (after.atMs - before.atMs) / 1000;
    if (seconds <= 0) continue;
    series.push({
      atMs: after.atMs,
      paymentsPerS: counterDelta(before.payments, after.payments) / seconds,
      subsidyMinorPerS:
        counterDelta(sumValues(before.subsidyByCampaign), sumValues(after.subsidyByCampaign)) /
        seconds,
    });
  }
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined) {
    return {
      now: undefined,
      series,
      grantedShareBps: undefined,
      topCampaigns: [],
      topFunders: [],
      windowS: 0,
    };
  }
  const windowS = (last.atMs - first.atMs) / 1000;
  const payments = counterDelta(first.payments, last.payments);
  return {
    now: series[series.length - 1],
    series,
    grantedShareBps:
      payments > 0
        ? Math.round((counterDelta(first.granted, last.granted) / payments) * 10_000)
        : undefined,
    topCampaigns: ranked(first.subsidyByCampaign, last.subsidyByCampaign, windowS, topMax),
    topFunders: ranked(byFunder(first), byFunder(last), windowS, topMax),
    windowS,
  };
}

/** One campaign's subsidy per second between successive scrapes, oldest first. */
export function campaignSpendSeries(
  samples: readonly LiveSample[],
  campaignId: string,
): { atMs: number; minorPerS: number }[] {
  const series: { atMs: number; minorPerS: number }[] = [];
  for (let index = 1; index < samples.length; index += 1) {
    const before = samples[index - 1] as LiveSample;
    const after = samples[index] as LiveSample;
    const seconds = (after.atMs - before.atMs) / 1000;
    if (seconds <= 0) continue;
    const grown = counterDelta(
      before.subsidyByCampaign.get(campaignId) ?? 0,
      after.subsidyByCampaign.get(campaignId) ?? 0,
    );
    series.push({ atMs: after.atMs, minorPerS: grown / seconds });
  }
  return series;
}
