import { describe, expect, it } from "vitest";
import type { Finding } from "../../src/core/findings.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { formatInstant, formatTrafficSummary } from "../../src/traffic/format-traffic-summary.ts";
import {
  formatAmounts,
  TRAFFIC_SUMMARY_LIMITS,
  TrafficSummary,
} from "../../src/traffic/traffic-summary.ts";

const BASE: Payment = {
  paymentId: "p1",
  userId: "u1",
  amountMinor: 1_000,
  currency: "CNY",
  scenario: "merchant_qr",
  payeeKind: "merchant",
  merchantId: "m1",
  merchantCategory: "5411",
  region: "CN-SH",
  channel: "app",
  paymentMethod: "balance",
  atMs: 1_737_009_600_000,
};

const FINDING: Finding = {
  path: "",
  code: "payment.invalid_json",
  severity: "error",
  message: "broken",
  line: 1,
};

describe("TrafficSummary", () => {
  it("counts payments, distinct users, money per currency, scenarios, regions and payee kinds", () => {
    const summary = new TrafficSummary();
    summary.add(BASE);
    summary.add({
      ...BASE,
      paymentId: "p2",
      amountMinor: 250,
      region: "CN-GD",
      atMs: BASE.atMs + 5,
    });
    summary.add({
      ...BASE,
      paymentId: "p3",
      userId: "u2",
      scenario: "p2p_transfer",
      payeeKind: "individual",
      merchantId: "u1",
      merchantCategory: undefined,
      atMs: BASE.atMs - 5,
    });
    summary.add({
      ...BASE,
      paymentId: "p4",
      userId: "u3",
      currency: "JPY",
      amountMinor: 500,
      region: "JP-13",
    });
    const report = summary.report();
    expect(report).toMatchObject({
      payments: 4,
      users: 3,
      usersCapped: false,
      amountsMinor: { CNY: 2_250, JPY: 500 },
    });
    expect(report.firstAtMs).toBe(BASE.atMs - 5);
    expect(report.lastAtMs).toBe(BASE.atMs + 5);
    expect(report.scenarios.find((row) => row.scenario === "merchant_qr")).toEqual({
      scenario: "merchant_qr",
      payments: 3,
      share: 0.75,
      amountsMinor: { CNY: 1_250, JPY: 500 },
    });
    expect(report.scenarios).toHaveLength(12);
    expect(report.regions.map((row) => [row.region, row.payments])).toEqual([
      ["CN-SH", 2],
      ["CN-GD", 1],
      ["JP-13", 1],
    ]);
    expect(report.payeeKinds.map((row) => [row.payeeKind, row.payments, row.amountsMinor])).toEqual(
      [
        ["merchant", 3, { CNY: 1_250, JPY: 500 }],
        ["individual", 1, { CNY: 1_000 }],
      ],
    );
  });

  it("sums exactly beyond 2^53 and says so in decimal digits", () => {
    const summary = new TrafficSummary();
    for (let index = 0; index < 20; index += 1)
      summary.add({ ...BASE, amountMinor: 1_000_000_000_000_000 - index });
    const total = 20n * 1_000_000_000_000_000n - 190n;
    expect(summary.report().amountsMinor).toEqual({ CNY: total.toString() });
    expect(formatAmounts(summary.report().amountsMinor)).toBe("199999999999998.10 CNY");
    expect(formatAmounts({ JPY: "12345678901234567890" })).toBe("12345678901234567890 JPY");
  });

  it("keeps the first bad lines with their findings and counts the rest", () => {
    const summary = new TrafficSummary();
    for (let line = 1; line <= 25; line += 1) summary.addBadLine(line, [{ ...FINDING, line }]);
    const report = summary.report();
    expect(report.badLines).toBe(25);
    expect(report.badLineSamples).toHaveLength(TRAFFIC_SUMMARY_LIMITS.badLineSamplesMax);
    expect(report.badLineSamples[19]!.line).toBe(20);
    const text = formatTrafficSummary(report, "sample.ndjson");
    expect(text).toContain("bad lines: 25");
    expect(text).toContain("… and 5 more bad lines");
  });

  it("renders an empty summary without a window", () => {
    const report = new TrafficSummary().report();
    expect(report).toMatchObject({
      payments: 0,
      firstAtMs: null,
      lastAtMs: null,
      amountsMinor: {},
    });
    expect(formatTrafficSummary(report, "empty")).toContain("total amount: 0");
  });

  it("shows instants in Beijing time with their offset", () => {
    expect(formatInstant(1_737_009_600_000)).toBe("2025-01-16T14:40:00.000+08:00");
    expect(formatInstant(1_737_009_659_999)).toBe("2025-01-16T14:40:59.999+08:00");
  });
});
