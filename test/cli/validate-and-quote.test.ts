import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../support/run-cli.ts";

const SHANGHAI_GROCERY_PAYMENT = {
  paymentId: "p-cli-1",
  userId: "u1",
  amountMinor: 3500,
  currency: "CNY",
  scenario: "merchant_qr",
  payeeKind: "merchant",
  merchantId: "m1",
  merchantCategory: "5411",
  region: "CN-SH",
  channel: "app",
  paymentMethod: "balance",
  atMs: Date.UTC(2025, 0, 16, 6, 40),
};

describe("bursar validate", () => {
  test("accepts the examples with exit code 0", () => {
    const result = runCli(["validate", "examples"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/0 errors, 0 warnings/);
  });

  test("reports findings with file, line and code, exit code 1, and never a stack trace", () => {
    const directory = mkdtempSync(join(tmpdir(), "bursar-cli-"));
    const file = join(directory, "coffee.yaml");
    writeFileSync(
      file,
      "kind: template\nid: coffee\nname: Coffee\ncurrency: CNY\noffer: {kind: percent, rateBps: 20.5}\n",
    );
    const result = runCli(["validate", file, "--json"]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as {
      findings: { code: string; line?: number }[];
      errors: number;
    };
    const codes = report.findings.map((finding) => finding.code);
    expect(codes).toContain("rate.not_integer");
    expect(codes).toContain("offer.cap_missing");
    expect(report.errors).toBe(report.findings.length);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  test("exits 2 when there is nothing to validate", () => {
    expect(runCli(["validate", "no-such-directory"]).status).toBe(2);
  });
});

describe("bursar quote", () => {
  test("prints a decision as JSON for a payment on standard input", () => {
    const result = runCli(
      ["quote", "--campaigns", "examples", "--json"],
      JSON.stringify(SHANGHAI_GROCERY_PAYMENT),
    );
    expect(result.status).toBe(0);
    const decision = JSON.parse(result.stdout) as {
      subsidies: { campaignId: string }[];
      reason: string | null;
    };
    expect(decision.reason).toBeNull();
    expect(decision.subsidies.map((subsidy) => subsidy.campaignId)).toContain(
      "gov-sh-grocery-subsidy",
    );
  });

  test("explains a protected scenario in plain words", () => {
    const payment = JSON.stringify({
      ...SHANGHAI_GROCERY_PAYMENT,
      scenario: "credit_card_repayment",
    });
    const result = runCli(["quote", payment, "--explain"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/no subsidy: envelope\.protected_scenario/);
    expect(result.stdout).toMatch(/idc-national-qr-everyday {2}envelope\.protected_scenario/);
  });

  test("names the bad field of an invalid payment", () => {
    const payment = JSON.stringify({ ...SHANGHAI_GROCERY_PAYMENT, amountMinor: 35.5 });
    const result = runCli(["quote", payment]);
    expect(result.stdout).toMatch(/no subsidy: payment\.invalid/);
    expect(result.stdout).toMatch(/amountMinor: .*35\.5 \[money\.not_integer\]/);
  });

  test("exits 2 on input that is not JSON", () => {
    const result = runCli(["quote", "{not json"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not JSON/);
  });
});
