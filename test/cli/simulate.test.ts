/**
 * `bursar simulate` as a user runs it: on examples/ against a copy whose `instant-discount`
 * template turns 50 fen off into 20 % off, the report says spend grows and flags it (exit 1); no
 * change gives no flag (exit 0); unusable input exits 2; a sample recorded by `bursar run
 * --sample-log` replays with its rate.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { proposedExamplesCopy } from "../support/proposed-examples.ts";
import { runCli } from "../support/run-cli.ts";

interface JsonSide {
  subsidisedPayments: number;
  subsidisedShareBps: number;
  subsidyMinor: number;
  subsidyPerHourMinor: number;
}

interface JsonReport {
  payments: number;
  sampleRateBps: number;
  windowMs: number;
  current: JsonSide;
  proposed: JsonSide;
  delta: { subsidyPerHourMinor: number };
  ratio: { subsidyBps: number | null };
  byCampaign: { key: string; current: JsonSide; proposed: JsonSide }[];
  byScenario: { key: string; current: JsonSide; proposed: JsonSide }[];
  forecast: { subsidyPerPaymentMilliMinor: number; subsidisedShareBps: number };
  flags: { code: string; key?: string; message: string }[];
}

let proposed: string;
let scratch: string;

beforeAll(() => {
  proposed = proposedExamplesCopy();
  scratch = mkdtempSync(join(tmpdir(), "bursar-simulate-cli-"));
});

afterAll(() => {
  rmSync(proposed, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

const SYNTHETIC = ["--tps", "500", "--seconds", "30"];

describe("bursar simulate", () => {
  test("the instant-discount edit: spend per hour grows and is flagged (exit 1)", () => {
    const result = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      ...SYNTHETIC,
      "--json",
    ]);
    expect(result.stderr).toContain("simulated 15000 payments");
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.payments).toBe(15_000);
    expect(report.windowMs).toBe(30_000);
    expect(report.proposed.subsidyPerHourMinor).toBeGreaterThan(
      report.current.subsidyPerHourMinor * 1.2,
    );
    expect(report.delta.subsidyPerHourMinor).toBe(
      report.proposed.subsidyPerHourMinor - report.current.subsidyPerHourMinor,
    );
    expect(report.ratio.subsidyBps).toBeGreaterThan(12_000);
    expect(report.flags.map((flag) => flag.code)).toContain("simulation.spend_growth");
    // The envelope still keeps protected scenarios at zero on both sides.
    expect(report.flags.map((flag) => flag.code)).not.toContain("simulation.protected_scenario");
    const national = report.byCampaign.find((row) => row.key === "idc-national-online-checkout");
    expect(national?.proposed.subsidyMinor).toBeGreaterThan(national?.current.subsidyMinor ?? 0);
    expect(report.forecast.subsidisedShareBps).toBe(report.proposed.subsidisedShareBps);
  });

  test("the table says the same for people, with the flag", () => {
    const result = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      ...SYNTHETIC,
    ]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/^subsidy per hour\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+ratio/m);
    expect(result.stdout).toContain("worst case per identity");
    expect(result.stdout).toContain("simulation.spend_growth: subsidy per hour grows from");
  });

  test("no change: equal sides, no flag, exit 0; a looser threshold also passes the edit", () => {
    const same = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      "examples",
      ...SYNTHETIC,
      "--json",
    ]);
    expect(same.status).toBe(0);
    const report = JSON.parse(same.stdout) as JsonReport;
    expect(report.proposed).toEqual(report.current);
    expect(report.flags).toEqual([]);
    const loose = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      ...SYNTHETIC,
      "--spend-growth-threshold-bps",
      "1000000",
      "--json",
    ]);
    expect(loose.status).toBe(0);
  });

  test("unusable input exits 2: a missing directory, a configuration with errors, no payments", () => {
    const missing = runCli([
      "simulate",
      "--current",
      join(scratch, "nowhere"),
      "--proposed",
      proposed,
    ]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--current");
    const broken = proposedExamplesCopy();
    try {
      writeFileSync(
        join(broken, "templates", "instant-discount.yaml"),
        "kind: template\nid: instant-discount\n",
      );
      const result = runCli([
        "simulate",
        "--current",
        "examples",
        "--proposed",
        broken,
        ...SYNTHETIC,
      ]);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/instant-discount\.yaml:\d+:\d+ .*\[schema\.missing_field\]/);
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
    const garbage = join(scratch, "garbage.ndjson");
    writeFileSync(garbage, "not json\n{}\n");
    const unreadable = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      "--payments",
      garbage,
    ]);
    expect(unreadable.status).toBe(2);
    expect(unreadable.stderr).toContain("payment.invalid_json");
    expect(unreadable.stderr).toContain("no valid payment to simulate");
    const badFlag = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      "--sample-rate-bps",
      "0",
    ]);
    expect(badFlag.status).toBe(2);
  });

  test("a sample recorded by bursar run --sample-log replays at its rate", () => {
    const log = join(scratch, "sample-log");
    const run = runCli([
      "run",
      "--campaigns",
      "examples",
      "--tps",
      "500",
      "--seconds",
      "20",
      "--sample-log",
      log,
      "--sample-rate-bps",
      "2500",
      "--json",
    ]);
    expect(run.status).toBe(0);
    const kept = Number(/sample log: kept (\d+) of 10000 payments/.exec(run.stderr)?.[1]);
    expect(kept).toBeGreaterThan(2_000);
    expect(kept).toBeLessThan(3_000);
    const result = runCli([
      "simulate",
      "--current",
      "examples",
      "--proposed",
      proposed,
      "--payments",
      log,
      "--json",
    ]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.payments).toBe(kept);
    expect(report.sampleRateBps).toBe(2_500);
    // The same edit over the whole run, synthetic: the sample's per-hour figures are near it.
    const full = JSON.parse(
      runCli([
        "simulate",
        "--current",
        "examples",
        "--proposed",
        proposed,
        "--tps",
        "500",
        "--seconds",
        "20",
        "--json",
      ]).stdout,
    ) as JsonReport;
    const relative =
      Math.abs(report.proposed.subsidyPerHourMinor - full.proposed.subsidyPerHourMinor) /
      full.proposed.subsidyPerHourMinor;
    expect(relative).toBeLessThan(0.2);
  });
});
