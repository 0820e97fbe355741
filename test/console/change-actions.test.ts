/**
 * What the change page lets each person do besides approving (console/src/data/change-actions.ts):
 * forcing a gate (two different administrators, never the author for approval), starting the
 * staged rollout, rolling back, killing; the stage shares typed as percentages; a rolling-out
 * stage against its forecast.
 */
import { describe, expect, test } from "vitest";
import {
  type ChangeForActions,
  forceStance,
  killStance,
  parseStageShares,
  rollbackStance,
  rolloutComparison,
  rolloutStance,
} from "../../console/src/data/change-actions.ts";

function change(overrides: Partial<ChangeForActions> = {}): ChangeForActions {
  return { state: "draft", authorId: "olivia", pendingForces: [], forced: [], ...overrides };
}

describe("forcing a gate", () => {
  test("an administrator may ask; a second, different one completes it", () => {
    expect(forceStance(change(), "lint", "ada", ["admin"]).allowed).toBe(true);
    const asked = change({ pendingForces: [{ gate: "lint", adminIds: ["ada"] }] });
    expect(forceStance(asked, "lint", "ada", ["admin"])).toEqual({
      allowed: false,
      why: "You asked already: a second, different administrator must ask to force lint.",
    });
    expect(forceStance(asked, "lint", "alan", ["admin"]).allowed).toBe(true);
    // Asking for one gate says nothing about the other.
    expect(forceStance(asked, "approval", "ada", ["admin"]).allowed).toBe(true);
  });

  test("not without the admin role, not twice, not past review, never the author's approval", () => {
    expect(forceStance(change(), "lint", "olga", ["operator"]).why).toMatch(/admin role/);
    const forced = change({ forced: [{ gate: "lint", adminIds: ["ada", "alan"] }] });
    expect(forceStance(forced, "lint", "ada", ["admin"]).why).toBe(
      "The lint gate is forced already.",
    );
    expect(forceStance(change({ state: "approved" }), "lint", "ada", ["admin"]).allowed).toBe(
      false,
    );
    expect(forceStance(change(), "approval", "olivia", ["admin", "author"]).why).toMatch(
      /four eyes/,
    );
    expect(forceStance(change(), "lint", "olivia", ["admin", "author"]).allowed).toBe(true);
  });
});

describe("rollout, rollback, kill", () => {
  test("operators start an approved change's rollout and roll back a rolling-out or active one", () => {
    expect(rolloutStance(change({ state: "approved" }), ["operator"]).allowed).toBe(true);
    expect(rolloutStance(change({ state: "approved" }), ["admin"]).why).toMatch(/operator role/);
    expect(rolloutStance(change({ state: "in_review" }), ["operator"]).why).toBe(
      "Only an approved change rolls out; this one is in review.",
    );
    expect(rollbackStance(change({ state: "rolling_out" }), ["operator"]).allowed).toBe(true);
    expect(rollbackStance(change({ state: "active" }), ["operator"]).allowed).toBe(true);
    expect(rollbackStance(change({ state: "approved" }), ["operator"]).allowed).toBe(false);
    expect(rollbackStance(change({ state: "active" }), ["reviewer"]).allowed).toBe(false);
  });

  test("operators and administrators kill at most 32 named campaigns", () => {
    expect(killStance(["a"], ["operator"]).allowed).toBe(true);
    expect(killStance(["a"], ["admin"]).allowed).toBe(true);
    expect(killStance(["a"], ["reviewer"]).allowed).toBe(false);
    expect(killStance([], ["operator"]).why).toMatch(/no campaign/);
    expect(
      killStance(
        Array.from({ length: 33 }, (_, i) => `c${i}`),
        ["operator"],
      ).allowed,
    ).toBe(false);
  });
});

describe("stage shares", () => {
  test("percentages become basis points; empty is the default plan", () => {
    expect(parseStageShares("")).toEqual({ sharesBps: undefined });
    expect(parseStageShares("1, 10, 50, 100")).toEqual({ sharesBps: [100, 1_000, 5_000, 10_000] });
    expect(parseStageShares("0.5 100%")).toEqual({ sharesBps: [50, 10_000] });
  });

  test("plans the server would refuse are explained before sending", () => {
    expect(parseStageShares("100")).toEqual({ problem: "Give 2 to 10 stages." });
    expect(parseStageShares("20, 100")).toEqual({ problem: "The first stage is at most 10 %." });
    expect(parseStageShares("1, 50")).toEqual({ problem: "The last stage is 100 %." });
    expect(parseStageShares("10, 5, 100")).toMatchObject({
      problem: expect.stringMatching(/more identities/),
    });
    expect(parseStageShares("1, ten, 100")).toMatchObject({
      problem: expect.stringMatching(/ten/),
    });
    expect(parseStageShares("0.125, 100")).toMatchObject({
      problem: expect.stringMatching(/two decimals/),
    });
  });
});

describe("a stage against its forecast", () => {
  const plan = {
    stages: [
      { shareBps: 100, moneyAtRiskMaxMinor: 10_000, dwellMinMs: 300_000 },
      { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000, dwellMinMs: 0 },
    ],
    toleranceBps: 2_500,
    paymentsMin: 1_000,
  };

  test("observed per payment and share against the forecast, and the ceiling used", () => {
    const view = rolloutComparison(
      {
        plan,
        stageIndex: 0,
        observation: { payments: 200, subsidisedPayments: 50, subsidyMinor: 2_500 },
      },
      { subsidyPerPaymentMilliMinor: 10_000, subsidisedShareBps: 2_000 },
      false,
    );
    expect(view.stages.map((stage) => stage.status)).toEqual(["current", "next"]);
    expect(view.observed).toMatchObject({
      subsidyPerPaymentMilliMinor: 12_500,
      subsidisedShareBps: 2_500,
    });
    expect(view.subsidyRatioBps).toBe(12_500);
    expect(view.moneyAtRiskUsedBps).toBe(2_500);
  });

  test("before any payment nothing is compared; a finished rollout has every stage done", () => {
    const empty = rolloutComparison(
      { plan, stageIndex: 1, observation: { payments: 0, subsidisedPayments: 0, subsidyMinor: 0 } },
      undefined,
      true,
    );
    expect(empty.observed.subsidyPerPaymentMilliMinor).toBeUndefined();
    expect(empty.subsidyRatioBps).toBeUndefined();
    expect(empty.stages.map((stage) => stage.status)).toEqual(["done", "done"]);
  });
});
