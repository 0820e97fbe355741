/**
 * The charts' geometry (console/src/data/chart-scale.ts) and the incident page's impact
 * transforms (impact.ts): what the SVG components draw, checked without a browser.
 */
import { describe, expect, test } from "vitest";
import {
  extentOf,
  layoutBars,
  layoutLine,
  linearScale,
  linePath,
  niceStep,
  ticksFor,
} from "../../console/src/data/chart-scale.ts";
import {
  type ImpactReport,
  type ImpactSplitRow,
  incidentMoneyUnit,
  minuteSeries,
  splitBars,
  splitTable,
} from "../../console/src/data/impact.ts";

describe("chart scales", () => {
  test("extents include zero by default and give a flat or empty series room", () => {
    expect(extentOf([3, 9, 4])).toEqual({ min: 0, max: 9 });
    expect(extentOf([3, 9, 4], false)).toEqual({ min: 3, max: 9 });
    expect(extentOf([])).toEqual({ min: 0, max: 1 });
    expect(extentOf([0, 0])).toEqual({ min: 0, max: 1 });
    expect(extentOf([5], false)).toEqual({ min: 4, max: 6 });
    const at = Date.parse("2025-01-16T06:40:00Z");
    expect(extentOf([at], false)).toEqual({ min: at - 1, max: at + 1 });
    expect(extentOf([Number.NaN, 2])).toEqual({ min: 0, max: 2 });
  });

  test("ticks fall on 1, 2 or 5 times a power of ten and cover the extent", () => {
    expect(niceStep(100, 4)).toBe(20);
    expect(niceStep(1_000, 4)).toBe(200);
    expect(niceStep(40, 4)).toBe(10);
    expect(niceStep(0.3, 4)).toBeCloseTo(0.1);
    expect(niceStep(0, 4)).toBe(1);
    const { ticks, extent } = ticksFor({ min: 0, max: 87 }, 4);
    expect(ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(extent).toEqual({ min: 0, max: 100 });
    expect(ticksFor({ min: 0, max: 0.3 }, 3).ticks).toEqual([0, 0.1, 0.2, 0.3]);
  });

  test("a linear scale maps the domain onto the range, inverted for SVG's y", () => {
    const y = linearScale({ min: 0, max: 100 }, 200, 0);
    expect(y(0)).toBe(200);
    expect(y(100)).toBe(0);
    expect(y(25)).toBe(150);
    expect(linearScale({ min: 5, max: 5 }, 0, 10)(5)).toBe(5);
  });

  test("a line's path goes through every point in order, inside the plot area", () => {
    expect(
      linePath([
        { x: 0, y: 10.04 },
        { x: 5.55, y: 0 },
      ]),
    ).toBe("M0 10 L5.6 0");
    const area = { width: 200, height: 100, left: 20, right: 10, top: 5, bottom: 15 };
    const layout = layoutLine(
      [
        { x: 1_000, y: 0 },
        { x: 2_000, y: 50 },
        { x: 3_000, y: 100 },
      ],
      area,
    );
    expect(layout.points.map((point) => point.x)).toEqual([20, 105, 190]);
    expect(layout.points[0]?.y).toBe(85);
    expect(layout.points[2]?.y).toBe(5);
    expect(layout.path.startsWith("M20 85 L105 ")).toBe(true);
    expect(layout.yTicks[0]).toEqual({ value: 0, y: 85 });
    expect(layout.xDomain).toEqual({ min: 1_000, max: 3_000 });
  });

  test("bars: the largest fills the length, the others in proportion, negatives as none", () => {
    const bars = layoutBars(
      [
        { label: "a", value: 50 },
        { label: "b", value: 200 },
        { label: "c", value: -5 },
      ],
      300,
      20,
    );
    expect(bars.map((bar) => bar.length)).toEqual([75, 300, 0]);
    expect(bars.map((bar) => bar.offset)).toEqual([0, 20, 40]);
    expect(bars[0]?.thickness).toBe(16);
    expect(layoutBars([{ label: "z", value: 0 }], 300, 20)[0]?.length).toBe(0);
  });
});

function row(key: string, netMinor: number, payments = 1): ImpactSplitRow {
  return {
    key,
    payments,
    users: payments,
    subsidies: payments,
    reservedMinor: netMinor,
    heldMinor: 0,
    committedMinor: netMinor,
    returnedMinor: 0,
    refundedMinor: 0,
    netMinor,
  };
}

function report(splits: Partial<Record<string, ImpactSplitRow[]>>): ImpactReport {
  const empty = { rows: [] as ImpactSplitRow[], omitted: 0 };
  const of = (name: string) => (splits[name] ? { rows: splits[name], omitted: 0 } : empty);
  return {
    window: { firstAtMs: 0, lastAtMs: 0 },
    totals: row("", 1_000, 10),
    splits: {
      scenario: of("scenario"),
      region: of("region"),
      funder: of("funder"),
      campaign_version: of("campaign_version"),
      minute: of("minute"),
    },
  };
}

describe("impact transforms", () => {
  const minute = Date.parse("2025-01-16T06:40:00Z");

  test("the minute series fills the minutes without subsidy with zeros, in time order", () => {
    const series = minuteSeries(
      report({
        minute: [row(String(minute + 180_000), 40, 4), row(String(minute), 100, 2), row("", 7)],
      }),
    );
    expect(series).toEqual([
      { atMs: minute, netMinor: 100, payments: 2 },
      { atMs: minute + 60_000, netMinor: 0, payments: 0 },
      { atMs: minute + 120_000, netMinor: 0, payments: 0 },
      { atMs: minute + 180_000, netMinor: 40, payments: 4 },
    ]);
    expect(minuteSeries(report({}))).toEqual([]);
  });

  test("a long series keeps its last minutes only", () => {
    const rows = [row(String(minute), 1), row(String(minute + 10 * 60_000), 2)];
    const series = minuteSeries(report({ minute: rows }), 3);
    expect(series.map((point) => point.atMs)).toEqual([
      minute + 8 * 60_000,
      minute + 9 * 60_000,
      minute + 10 * 60_000,
    ]);
  });

  test("split tables carry each row's share of the net and readable keys", () => {
    const table = splitTable(
      report({ scenario: [row("merchant_qr", 750), row("", 250)] }),
      "scenario",
    );
    expect(table.map((entry) => [entry.label, entry.netShareBps])).toEqual([
      ["merchant_qr", 7_500],
      ["(not recorded)", 2_500],
    ]);
    const minutes = splitTable(report({ minute: [row(String(minute), 5)] }), "minute");
    expect(minutes[0]?.label).toBe("2025-01-16 06:40");
  });

  test("split bars: the largest first, the rest summed as others", () => {
    const bars = splitBars(
      report({ region: [row("CN-SH", 10), row("CN-BJ", 300), row("CN-GD", 20), row("CN-ZJ", 5)] }),
      "region",
      2,
    );
    expect(bars).toEqual([
      { label: "CN-BJ", value: 300 },
      { label: "CN-GD", value: 20 },
      { label: "2 others", value: 15 },
    ]);
  });
});

describe("an incident's money unit", () => {
  const campaigns = [
    { id: "cny-a", currency: "CNY" },
    { id: "cny-b", currency: "CNY" },
    { id: "jpy-a", currency: "JPY" },
  ];

  test("the blamed campaigns' one currency", () => {
    expect(incidentMoneyUnit(["cny-a", "cny-b"], campaigns)).toEqual({
      kind: "currency",
      currency: "CNY",
    });
    expect(incidentMoneyUnit(["jpy-a"], campaigns)).toEqual({ kind: "currency", currency: "JPY" });
  });

  test("minor units, with why, when the currency is mixed or unknown", () => {
    expect(incidentMoneyUnit(["jpy-a", "cny-a"], campaigns)).toEqual({
      kind: "minor",
      why: "its blamed campaigns use CNY and JPY, summed by the report in minor units",
    });
    expect(incidentMoneyUnit(["retired"], campaigns)).toMatchObject({
      kind: "minor",
      why: expect.stringContaining("not known"),
    });
    expect(incidentMoneyUnit([], campaigns)).toMatchObject({
      kind: "minor",
      why: "it blames no campaign yet",
    });
    expect(incidentMoneyUnit(["cny-a"], undefined)).toMatchObject({ kind: "minor" });
  });
});
