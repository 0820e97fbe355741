/**
 * `bursar demo incident` as a user runs it: `--json` prints exactly one JSON object of
 * CONTRACTS.md's shape on stdout with the progress on stderr; the table names the four runs;
 * a bad flag exits 2 with a message naming it. With `--guard-mode`, the same shape with the
 * external engine in place of Bursar's own campaigns, and its table; with `--unregistered` too,
 * both edits caught without registrations.
 */
import { describe, expect, test } from "vitest";
import type { ReplayJson } from "../../src/demo/incident-replay.ts";
import { expectContractShape, expectTargetsMet } from "../demo/replay-fixtures.ts";
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

  test("--guard-mode --json prints the contract's shape, the external engine checked by the guard", () => {
    const result = runCli(
      ["demo", "incident", "--guard-mode", "--json", "--seed", "3", "--tps", "1000"],
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
    // No lint: the edit is the external engine's.
    expect(json.guarded).toMatchObject({ blockedAtLint: false, lintCodes: [] });
    expectTargetsMet(json);
  }, 300_000);

  test("--guard-mode's table shows the external engine unchecked and checked, with the incident", () => {
    const result = runCli(
      ["demo", "incident", "--guard-mode", "--seed", "3", "--tps", "1000"],
      undefined,
      240_000,
    );
    expect(result.status).toBe(0);
    for (const text of [
      "no Bursar, original",
      "no Bursar, variant",
      "guard mode, original",
      "guard mode, variant",
      "Bursar's lint never sees the edit",
      "envelope.protected_scenario",
      "registered_max",
      "guard.killed",
      "kill_confirmed",
      "impact report (from the ledger of checked subsidies)",
    ]) {
      expect(result.stdout).toContain(text);
    }
    expect(result.stdout).not.toContain("lint blocks it");
  }, 300_000);

  test("--guard-mode --unregistered: nothing registered, both edits still caught within the targets", () => {
    const result = runCli(
      [
        "demo",
        "incident",
        "--guard-mode",
        "--unregistered",
        "--json",
        "--seed",
        "3",
        "--tps",
        "1000",
      ],
      undefined,
      240_000,
    );
    expect(result.status).toBe(0);
    const json = JSON.parse(result.stdout) as ReplayJson;
    expectContractShape(json);
    expectTargetsMet(json);
    // The original too: judged by the envelope and the baselines, not by any registration.
    const { forcedAsIs } = json.guarded;
    expect(forcedAsIs.detectionMs).not.toBeNull();
    expect(forcedAsIs.detectionMs!).toBeLessThanOrEqual(2_000);
    expect(forcedAsIs.subsidyMinor * 1_000).toBeLessThanOrEqual(json.unguarded.subsidyMinor);
  }, 300_000);

  test("--unregistered without --guard-mode exits 2 and names it", () => {
    const result = runCli(["demo", "incident", "--unregistered"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--unregistered");
    expect(result.stdout).toBe("");
  });

  test("a bad flag exits 2 and names it", () => {
    for (const [flag, value, ...more] of [
      ["--tps", "0"],
      ["--tps", "ten"],
      ["--seed", "-1"],
      ["--tps", "0", "--guard-mode"],
    ] as const) {
      const result = runCli(["demo", "incident", flag, value, ...more]);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain(flag);
      expect(result.stdout).toBe("");
    }
  });
});
