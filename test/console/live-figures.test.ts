/**
 * The live page's transforms (console/src/data/prometheus.ts, live.ts): the metrics text read into
 * samples, payments and subsidy per second between scrapes, resets after a restart, and the top
 * campaigns and funders over the window, one campaign's spend series.
 */
import { describe, expect, test } from "vitest";
import {
  campaignSpendSeries,
  counterDelta,
  liveSampleFromText,
  summarizeLive,
} from "../../console/src/data/live.ts";
import { parseMetrics } from "../../console/src/data/prometheus.ts";

function scrape(
  applies: Record<string, number>,
  subsidy: Record<string, [string, number]>,
): string {
  const lines = [
    "# HELP bursar_decisions_total Decisions by reason.",
    "# TYPE bursar_decisions_total counter",
    ...Object.entries(applies).map(
      ([reason, value]) => `bursar_decisions_total{operation="apply",reason="${reason}"} ${value}`,
    ),
    `bursar_decisions_total{operation="quote",reason="granted"} 999`,
    ...Object.entries(subsidy).map(
      ([campaign, [funding, value]]) =>
        `bursar_subsidy_reserved_minor_total{campaign="${campaign}",funding="${funding}"} ${value}`,
    ),
    'bursar_http_request_duration_seconds_bucket{le="+Inf",route="/",method="GET",status="200"} 3',
  ];
  return `${lines.join("\n")}\n`;
}

describe("parseMetrics", () => {
  test("reads names, labels (with escapes) and values; skips comments and broken lines", () => {
    const samples = parseMetrics(
      [
        "# TYPE x counter",
        'x{a="1",b="quote \\" and \\\\ and \\n"} 12.5',
        "y 3 1700000000000",
        'z{le="+Inf"} +Inf',
        "not a sample line at all {",
        "w NaN",
        "v notanumber",
      ].join("\n"),
    );
    expect(samples).toEqual([
      { name: "x", labels: { a: "1", b: 'quote " and \\ and \n' }, value: 12.5 },
      { name: "y", labels: {}, value: 3 },
      { name: "z", labels: { le: "+Inf" }, value: Number.POSITIVE_INFINITY },
      { name: "w", labels: {}, value: Number.NaN },
    ]);
  });

  test("keeps only the names asked for", () => {
    const names = new Set(["y"]);
    expect(parseMetrics("x 1\ny 2\n", names)).toEqual([{ name: "y", labels: {}, value: 2 }]);
  });
});

describe("live figures", () => {
  test("a sample sums apply decisions (not quotes) and subsidy by campaign", () => {
    const sample = liveSampleFromText(
      scrape({ granted: 30, none: 10, "envelope.protected_scenario": 5 }, { a: ["platform", 700] }),
      1_000,
    );
    expect(sample.payments).toBe(45);
    expect(sample.granted).toBe(30);
    expect(sample.subsidyByCampaign.get("a")).toBe(700);
    expect(sample.fundingByCampaign.get("a")).toBe("platform");
  });

  test("rates between scrapes, the granted share and the top spenders over the window", () => {
    const samples = [
      liveSampleFromText(
        scrape({ granted: 10, none: 10 }, { a: ["platform", 100], b: ["merchant", 1_000] }),
        0,
      ),
      liveSampleFromText(
        scrape({ granted: 30, none: 10 }, { a: ["platform", 500], b: ["merchant", 1_100] }),
        2_000,
      ),
      liveSampleFromText(
        scrape(
          { granted: 50, none: 30 },
          { a: ["platform", 900], b: ["merchant", 1_200], c: ["platform", 50] },
        ),
        4_000,
      ),
    ];
    const summary = summarizeLive(samples, 2);
    expect(summary.series).toEqual([
      { atMs: 2_000, paymentsPerS: 10, subsidyMinorPerS: 250 },
      { atMs: 4_000, paymentsPerS: 20, subsidyMinorPerS: 275 },
    ]);
    expect(summary.now).toEqual(summary.series[1]);
    expect(summary.windowS).toBe(4);
    // 40 granted of 60 payments in the window.
    expect(summary.grantedShareBps).toBe(6_667);
    expect(summary.topCampaigns).toEqual([
      { key: "a", minorPerS: 200, totalMinor: 900 },
      { key: "b", minorPerS: 50, totalMinor: 1_200 },
    ]);
    expect(summary.topFunders).toEqual([
      { key: "platform", minorPerS: 212.5, totalMinor: 950 },
      { key: "merchant", minorPerS: 50, totalMinor: 1_200 },
    ]);
  });

  test("a counter that fell was reset: what it counts since is the growth", () => {
    expect(counterDelta(100, 130)).toBe(30);
    expect(counterDelta(100, 7)).toBe(7);
    const summary = summarizeLive([
      liveSampleFromText(scrape({ granted: 1_000 }, {}), 0),
      liveSampleFromText(scrape({ granted: 4 }, {}), 1_000),
    ]);
    expect(summary.now?.paymentsPerS).toBe(4);
  });

  test("before two scrapes there is no rate, and scrapes at the same instant are skipped", () => {
    expect(summarizeLive([]).now).toBeUndefined();
    const one = liveSampleFromText(scrape({ granted: 1 }, { a: ["platform", 5] }), 0);
    const single = summarizeLive([one]);
    expect(single.now).toBeUndefined();
    expect(single.topCampaigns).toEqual([{ key: "a", minorPerS: 0, totalMinor: 5 }]);
    expect(summarizeLive([one, { ...one }]).series).toEqual([]);
  });
});

test("one campaign's spend per second between scrapes, a reset counted from zero", () => {
  const samples = [
    liveSampleFromText(scrape({}, { a: ["platform", 100], b: ["platform", 5] }), 0),
    liveSampleFromText(scrape({}, { a: ["platform", 300], b: ["platform", 5] }), 2_000),
    liveSampleFromText(scrape({}, { a: ["platform", 20] }), 4_000),
    liveSampleFromText(scrape({}, { a: ["platform", 20] }), 4_000),
  ];
  expect(campaignSpendSeries(samples, "a")).toEqual([
    { atMs: 2_000, minorPerS: 100 },
    { atMs: 4_000, minorPerS: 10 },
  ]);
  expect(campaignSpendSeries(samples, "b")).toEqual([
    { atMs: 2_000, minorPerS: 0 },
    { atMs: 4_000, minorPerS: 0 },
  ]);
  expect(
    campaignSpendSeries(samples, "never-granted").every((point) => point.minorPerS === 0),
  ).toBe(true);
});
