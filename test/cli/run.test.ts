import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../support/run-cli.ts";

interface RunReport {
  payments: number;
  subsidisedPayments: number;
  subsidyMinor: number;
  protectedScenarioPayments: number;
  byScenario: {
    scenario: string;
    payments: number;
    subsidisedPayments: number;
    subsidyMinor: number;
  }[];
  byRegion: { region: string; payments: number }[];
  byCampaign: { campaignId: string; subsidyMinor: number }[];
  refusals: Record<string, number>;
}

interface LedgerReport {
  applied: number;
  replayed: number;
  answers: Record<string, number>;
  reservedMinor: number;
  committedMinor: number;
  verification: { ok: boolean; violations: unknown[] };
}

describe("bursar run", () => {
  test("runs seeded traffic through the examples and adds up consistently", () => {
    const result = runCli([
      "run",
      "--campaigns",
      "examples",
      "--tps",
      "500",
      "--seconds",
      "20",
      "--json",
    ]);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.payments).toBe(10_000);
    expect(report.subsidisedPayments).toBeGreaterThan(0);
    expect(report.protectedScenarioPayments).toBe(0);
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    expect(sum(report.byScenario.map((row) => row.payments))).toBe(report.payments);
    expect(sum(report.byRegion.map((row) => row.payments))).toBe(report.payments);
    expect(sum(report.byScenario.map((row) => row.subsidyMinor))).toBe(report.subsidyMinor);
    expect(sum(report.byCampaign.map((row) => row.subsidyMinor))).toBe(report.subsidyMinor);
    for (const scenario of [
      "p2p_transfer",
      "credit_card_repayment",
      "red_packet",
      "balance_topup",
      "wealth_purchase",
    ]) {
      expect(report.byScenario.find((row) => row.scenario === scenario)?.subsidisedPayments).toBe(
        0,
      );
    }
    expect(report.refusals["envelope.protected_scenario"]).toBeGreaterThan(0);
    expect(report.refusals["envelope.individual_payee"]).toBeGreaterThan(0);
  });

  test("--ledger applies and commits every payment durably, verifies, and a second run only replays", () => {
    const data = mkdtempSync(join(tmpdir(), "bursar-run-ledger-"));
    try {
      const args = ["run", "--tps", "200", "--seconds", "10", "--ledger", data, "--json"];
      const first = runCli(args);
      expect(first.status).toBe(0);
      const report = JSON.parse(first.stdout) as RunReport & { ledger: LedgerReport };
      expect(report.ledger.applied).toBe(2_000);
      expect(report.ledger.replayed).toBe(0);
      expect(report.ledger.answers.reserved).toBeGreaterThan(0);
      expect((report.ledger.answers.reserved ?? 0) + (report.ledger.answers.no_subsidy ?? 0)).toBe(
        2_000,
      );
      // Every reservation was committed whole: nothing is left reserved.
      expect(report.ledger.committedMinor).toBe(report.ledger.reservedMinor);
      expect(report.ledger.verification).toMatchObject({ ok: true, violations: [] });
      const second = JSON.parse(runCli(args).stdout) as { ledger: LedgerReport };
      expect(second.ledger.replayed).toBe(2_000);
      expect(second.ledger.committedMinor).toBe(0);
      expect(second.ledger.reservedMinor).toBe(report.ledger.reservedMinor);
      expect(runCli(["ledger", "verify", "--data", data]).status).toBe(0);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  test("gives the same answer for the same seed", () => {
    const args = ["run", "--tps", "200", "--seconds", "10", "--seed", "7", "--json"];
    expect(runCli(args).stdout).toBe(runCli(args).stdout);
  });

  test("refuses bad flags with exit code 2", () => {
    const result = runCli(["run", "--tps", "ten"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--tps/);
  });
});
