/** What the replay tests share: the examples as documents, and CONTRACTS.md's shape of a run. */
import { expect } from "vitest";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { ReplayJson } from "../../src/demo/incident-replay.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";

let examples: Promise<ConfigDocument[]> | undefined;

export function replayExamples(): Promise<ConfigDocument[]> {
  examples ??= exampleDocuments();
  return examples;
}

const RUN_KEYS = [
  "payments",
  "users",
  "subsidyMinor",
  "windowMs",
  "scenarios",
  "regions",
  "protectedScenarioPayments",
].sort();

/** Exactly the keys CONTRACTS.md lists, at every level. */
export function expectContractShape(json: ReplayJson): void {
  expect(Object.keys(json).sort()).toEqual(
    ["seed", "tps", "simulatedSeconds", "unguarded", "unguardedVariant", "guarded"].sort(),
  );
  expect(Object.keys(json.unguarded).sort()).toEqual(RUN_KEYS);
  expect(Object.keys(json.unguardedVariant).sort()).toEqual(RUN_KEYS);
  expect(Object.keys(json.guarded).sort()).toEqual(
    ["blockedAtLint", "lintCodes", "forcedAsIs", "forced"].sort(),
  );
  expect(Object.keys(json.guarded.forcedAsIs).sort()).toEqual(
    [...RUN_KEYS, "detectionMs", "severity"].sort(),
  );
  expect(Object.keys(json.guarded.forced).sort()).toEqual(
    [...RUN_KEYS, "detectionMs", "severity", "leakedUntilLastEvaluatorStopsMinor"].sort(),
  );
}

/** The targets for one seed. */
export function expectTargetsMet(json: ReplayJson): void {
  const { forced, forcedAsIs } = json.guarded;
  expect(forced.detectionMs).not.toBeNull();
  expect(forced.detectionMs!).toBeLessThanOrEqual(2_000);
  expect(json.unguardedVariant.subsidyMinor).toBeGreaterThan(0);
  expect(forced.subsidyMinor * 1_000).toBeLessThanOrEqual(json.unguardedVariant.subsidyMinor);
  expect(forced.protectedScenarioPayments).toBe(0);
  expect(forcedAsIs.protectedScenarioPayments).toBe(0);
  expect(forced.severity).toMatch(/^P[0-4]$/);
}
