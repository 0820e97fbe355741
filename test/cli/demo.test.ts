/**
 * `bursar demo incident` as a user runs it: `--json` prints exactly one JSON object of
 * CONTRACTS.md's shape on stdout with the progress on stderr; the table names the four runs;
 * a bad flag exits 2 with a message naming it.
 */
import { describe, expect, test } from "vitest";
import type { ReplayJson } from "../../src/demo/incident-replay.ts";
import { expectContractShape } from "../demo/replay-fixtures.ts";
import { runCli } from "../support/run-cli.ts";

describe("bursar demo incident", () => {
  test("--json prints one object of the contract's shape; progress goes to stderr", () => {
    const result = runCli(
      ["demo", "incident", "--json", "--seed", "3", "--tps", "1000"],
      undefined,
      240_000,
    );
    expect(result.stderr).toContain("replaying");
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!) as ReplayJson;
    expectContractShape(json);
    expect(json).toMatchObject({ seed: 3, tps: 1_000, simulatedSeconds: 300 });
  }, 300_000);

  test("the table shows the runs side by side, with the incidents", () => {
    const result = runCli(["demo", "incident", "--seed", "3", "--tps", "1000"], undefined, 240_000);
    expect(result.status).toBe(0);
    for (const text of [
      "no Bursar, original",
      "no Bursar, variant",
      "Bursar, original forced",
      "Bursar, variant forced",
      "lint blocks it",
      "kill_confirmed",
      "impact report (from the ledger)",
    ]) {
      expect(result.stdout).toContain(text);
    }
  }, 300_000);

  test("a bad flag exits 2 and names it", () => {
    for (const [flag, value] of [
      ["--tps", "0"],
      ["--tps", "ten"],
      ["--seed", "-1"],
    ] as const) {
      const result = runCli(["demo", "incident", flag, value]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(flag);
      expect(result.stdout).toBe("");
    }
  });
});
