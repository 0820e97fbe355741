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
