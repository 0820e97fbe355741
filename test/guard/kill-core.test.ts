/** The kill switch's pure rules (src/core/guard/kill.ts) on the three-campaign fixture. */
import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import { quoteReference } from "../../src/core/evaluator/reference-evaluator.ts";
import { FUNDING_SOURCES } from "../../src/core/funding.ts";
import {
  applyKills,
  guardDecision,
  KILL_LIMITS,
  type Kill,
  KillMatcher,
  type KillScope,
  killRequestProblem,
  killsNotIn,
} from "../../src/core/guard/kill.ts";
import { coffeePayment, killSnapshot } from "./kill-fixtures.ts";

const snapshot = killSnapshot();
const evaluator = createFastEvaluator(snapshot);

function matcherOf(...scopes: KillScope[]): KillMatcher {
  return new KillMatcher({
    sequence: scopes.length,
    active: scopes.map((scope, index) => kill(index + 1, scope)),
  });
}

function kill(sequence: number, scope: KillScope): Kill {
  return { sequence, scope, reason: "test", actor: "oncall", atMs: 0 };
}

const fresh = { confirmedAtMs: 10_000, allowedStalenessMs: 1_000 };

describe("applyKills", () => {
  const decision = evaluator.quote(coffeePayment("p1"));

  test("the fixture grants a-coffee 80 and c-bank 30; b-coffee loses its group", () => {
    expect(decision.subsidies.map((subsidy) => [subsidy.campaignId, subsidy.amountMinor])).toEqual([
      ["a-coffee", 80],
      ["c-bank", 30],
    ]);
    expect(decision.rejected).toEqual([
      { campaignId: "b-coffee", reason: "stacking.exclusive_group_lost" },
    ]);
  });

  test("a kill of listed campaigns withdraws them with guard.killed, in campaign id order", () => {
    const killed = applyKills(decision, matcherOf({ kind: "campaigns", campaignIds: ["c-bank"] }));
    expect(killed.subsidies.map((subsidy) => subsidy.campaignId)).toEqual(["a-coffee"]);
    expect(killed.totalSubsidyMinor).toBe(80);
    expect(killed.rejected).toEqual([
      { campaignId: "b-coffee", reason: "stacking.exclusive_group_lost" },
      { campaignId: "c-bank", reason: "guard.killed" },
    ]);
    expect(killed.subjectToBudget).toBe(true);
    expect(killed.reason).toBeNull();
  });

  test("a killed winner's runner-up is not promoted until the snapshot is rebuilt", () => {
    const killed = applyKills(
      decision,
      matcherOf({ kind: "campaigns", campaignIds: ["a-coffee"] }),
    );
    expect(killed.subsidies.map((subsidy) => subsidy.campaignId)).toEqual(["c-bank"]);
    expect(killed.totalSubsidyMinor).toBe(30);
    expect(killed.rejected).toEqual([
      { campaignId: "a-coffee", reason: "guard.killed" },
      { campaignId: "b-coffee", reason: "stacking.exclusive_group_lost" },
    ]);
  });

  test("a template kill, a funding kill and a kill of all", () => {
    const byTemplate = applyKills(
      decision,
      matcherOf({ kind: "template", templateId: "instant-discount" }),
    );
    expect(byTemplate.subsidies.map((subsidy) => subsidy.campaignId)).toEqual(["c-bank"]);
    const byFunding = applyKills(decision, matcherOf({ kind: "funding", funding: "bank" }));
    expect(byFunding.subsidies.map((subsidy) => subsidy.campaignId)).toEqual(["a-coffee"]);
    const all = applyKills(decision, matcherOf({ kind: "all" }));
    expect(all.subsidies).toEqual([]);
    expect(all.totalSubsidyMinor).toBe(0);
    expect(all.subjectToBudget).toBe(false);
    expect(all.rejected.map((rejection) => rejection.reason)).toEqual([
      "guard.killed",
      "stacking.exclusive_group_lost",
      "guard.killed",
    ]);
  });

  test("no active kill, or a kill naming nothing granted, returns the same decision", () => {
    expect(applyKills(decision, matcherOf())).toBe(decision);
    expect(applyKills(decision, matcherOf({ kind: "funding", funding: "government" }))).toBe(
      decision,
    );
  });

  test("with explain, a killed campaign's outcome is guard.killed", () => {
    const explained = evaluator.quote(coffeePayment("p2"), { explain: true });
    const killed = applyKills(
      explained,
      matcherOf({ kind: "campaigns", campaignIds: ["a-coffee"] }),
    );
    expect(killed.explanation).toEqual([
      { campaignId: "a-coffee", outcome: "guard.killed" },
      { campaignId: "b-coffee", outcome: "stacking.exclusive_group_lost" },
      { campaignId: "c-bank", outcome: "applied" },
    ]);
  });

  const scopeArbitrary: fc.Arbitrary<KillScope> = fc.oneof(
    fc.constant({ kind: "all" as const }),
    fc
      .uniqueArray(fc.constantFrom("a-coffee", "b-coffee", "c-bank", "other"), { minLength: 1 })
      .map((campaignIds) => ({ kind: "campaigns" as const, campaignIds })),
    fc
      .constantFrom("instant-discount", "bank-discount", "other")
      .map((templateId) => ({ kind: "template" as const, templateId })),
    fc.constantFrom(...FUNDING_SOURCES).map((funding) => ({ kind: "funding" as const, funding })),
  );

  propertyTest.prop([
    fc.array(scopeArbitrary, { maxLength: 4 }),
    fc.integer({ min: 1, max: 20_000 }),
    fc.boolean(),
  ])(
    "never more subsidy than before, and what stays is exactly what the evaluator granted",
    (scopes, amountMinor, explain) => {
      const payment = coffeePayment("p-prop", { amountMinor });
      const before: Decision = quoteReference(snapshot, payment, { explain });
      const after = applyKills(before, matcherOf(...scopes));
      expect(after.totalSubsidyMinor).toBeLessThanOrEqual(before.totalSubsidyMinor);
      expect(after.totalSubsidyMinor).toBe(
        after.subsidies.reduce((sum, subsidy) => sum + subsidy.amountMinor, 0),
      );
      for (const subsidy of after.subsidies) expect(before.subsidies).toContainEqual(subsidy);
      const matcher = matcherOf(...scopes);
      expect(after.subsidies.every((subsidy) => !matcher.kills(subsidy))).toBe(true);
      expect(after.rejected.length).toBe(
        before.rejected.length + before.subsidies.length - after.subsidies.length,
      );
    },
  );
});

describe("the staleness gate", () => {
  const decision = evaluator.quote(coffeePayment("p3"));

  test("current within the allowed staleness: kills only", () => {
    expect(guardDecision(decision, matcherOf(), fresh, 11_000)).toBe(decision);
  });

  test("confirmed longer ago than allowed, or never: nothing, with guard.snapshot_stale", () => {
    for (const freshness of [fresh, { confirmedAtMs: null, allowedStalenessMs: 1_000 }]) {
      const stale = guardDecision(decision, matcherOf(), freshness, 11_001);
      expect(stale).toMatchObject({
        reason: "guard.snapshot_stale",
        subsidies: [],
        totalSubsidyMinor: 0,
        rejected: [],
        subjectToBudget: false,
        paymentId: "p3",
        snapshotVersion: decision.snapshotVersion,
      });
    }
  });

  test("a payment the evaluator refused keeps its own reason", () => {
    const invalid = evaluator.quote({ paymentId: "broken" });
    expect(guardDecision(invalid, matcherOf(), { ...fresh, confirmedAtMs: null }, 0).reason).toBe(
      "payment.invalid",
    );
  });
});

describe("kill requests", () => {
  test("limits and shapes", () => {
    expect(killRequestProblem({ kind: "all" }, "runaway spend", 0)).toBeUndefined();
    expect(killRequestProblem({ kind: "all" }, " ", 0)).toMatch(/reason/);
    expect(
      killRequestProblem({ kind: "all" }, "x".repeat(KILL_LIMITS.reasonLengthMax + 1), 0),
    ).toMatch(/reason/);
    expect(killRequestProblem({ kind: "all" }, "r", -1)).toMatch(/atMs/);
    expect(killRequestProblem({ kind: "all", campaignIds: ["a"] }, "r", 0)).toMatch(/all/);
    expect(killRequestProblem({ kind: "campaigns", campaignIds: [] }, "r", 0)).toMatch(/non-empty/);
    expect(killRequestProblem({ kind: "campaigns", campaignIds: ["a", "a"] }, "r", 0)).toMatch(
      /twice/,
    );
    const many = Array.from({ length: KILL_LIMITS.campaignIdsMax + 1 }, (_, index) => `c${index}`);
    expect(killRequestProblem({ kind: "campaigns", campaignIds: many }, "r", 0)).toMatch(
      /more than/,
    );
    expect(killRequestProblem({ kind: "template", templateId: "" }, "r", 0)).toMatch(/templateId/);
    expect(killRequestProblem({ kind: "funding", funding: "bitcoin" }, "r", 0)).toMatch(/funding/);
    expect(killRequestProblem({ kind: "everything" }, "r", 0)).toMatch(/kind/);
  });
});

describe("killsNotIn", () => {
  test("the active kills none of the known lists holds, told apart by sequence, in their order", () => {
    const all = { kind: "all" } as const;
    const [one, two, three] = [kill(1, all), kill(2, all), kill(3, all)];
    expect(killsNotIn([one!, two!, three!])).toEqual([one, two, three]);
    // Known by sequence, not identity: a kill read again is a new object.
    expect(killsNotIn([one!, two!, three!], [{ ...one! }], [three!])).toEqual([two]);
    expect(killsNotIn([], [one!])).toEqual([]);
  });
});
