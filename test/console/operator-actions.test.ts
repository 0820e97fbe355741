/**
 * On-call's immediate actions in the console (console/src/data/operator-actions.ts): who may pause
 * a campaign and when, the campaigns of a change one "pause them all" pauses and its summary, a
 * lowering of limits as typed (raises and removals refused as the API refuses them), and the
 * breaker moves each state allows.
 */
import { describe, expect, test } from "vitest";
import type { CampaignStatus } from "../../console/src/data/campaigns.ts";
import {
  breakerMoveStance,
  type CampaignPhase,
  limitsText,
  loweredLimitsDraft,
  PAUSE_ALL_MAX,
  pauseAllStance,
  pauseAllSummary,
  pauseStance,
  pauseTargets,
  pausingStance,
} from "../../console/src/data/operator-actions.ts";

const ON_CALL = ["operator"];

describe("pausing a campaign", () => {
  test("an operator pauses a running, scheduled or ended campaign", () => {
    for (const phase of ["running", "scheduled", "ended"] as const) {
      expect(pauseStance(phase, ON_CALL), phase).toEqual({ allowed: true, why: "" });
    }
  });

  test("not twice, not a campaign that is not active, not without the operator role", () => {
    expect(pauseStance("paused", ON_CALL)).toEqual({
      allowed: false,
      why: "Paused already; resuming is a change request.",
    });
    expect(pauseStance(undefined, ON_CALL).why).toBe(
      "Not an active campaign: there is nothing to pause.",
    );
    // The API lets operators only pause; an administrator kills instead.
    for (const roles of [["admin"], ["author", "reviewer"], ["auditor"], []]) {
      expect(pauseStance("running", roles)).toEqual({
        allowed: false,
        why: "Pausing needs the operator role.",
      });
      // The change page tells them so instead of listing campaigns they may not pause.
      expect(pausingStance(roles)).toEqual(pauseStance("running", roles));
    }
    expect(pausingStance(ON_CALL)).toEqual({ allowed: true, why: "" });
  });

  /** The campaign list's rows as the change page keys them: phase, and the status shown. */
  function campaigns(entries: readonly [string, CampaignPhase, CampaignStatus?][]) {
    return new Map(
      entries.map(([id, phase, status]) => [id, { phase, status: status ?? phase }] as const),
    );
  }

  test("a change's campaigns: each with its status, once each, in the change's order", () => {
    const reached = campaigns([
      ["a", "running"],
      ["b", "paused"],
      ["c", "running", "killed"],
      // Killed, then paused: the kill shows, and it is paused already.
      ["d", "paused", "killed"],
    ]);
    const targets = pauseTargets(["a", "b", "new-one", "c", "d", "a"], reached, ON_CALL);
    expect(
      targets.map((target) => [target.campaignId, target.status, target.stance.allowed]),
    ).toEqual([
      ["a", "running", true],
      ["b", "paused", false],
      ["new-one", undefined, false],
      // A kill stops money now; the pause keeps it off in the configuration.
      ["c", "killed", true],
      ["d", "killed", false],
    ]);
    expect(targets[4]?.stance.why).toBe("Paused already; resuming is a change request.");
    const all = pauseAllStance(targets, ON_CALL);
    expect(all).toEqual({ allowed: true, why: "", campaignIds: ["a", "c"] });
  });

  test("pausing them all: none left to pause, too many, or not an operator", () => {
    const paused = pauseTargets(["b"], campaigns([["b", "paused"]]), ON_CALL);
    expect(pauseAllStance(paused, ON_CALL)).toEqual({
      allowed: false,
      why: "None of its campaigns can be paused now.",
      campaignIds: [],
    });
    const many = Array.from({ length: PAUSE_ALL_MAX + 1 }, (_, index) => `c${index}`);
    const running = campaigns(many.map((id) => [id, "running"] as const));
    const tooMany = pauseAllStance(pauseTargets(many, running, ON_CALL), ON_CALL);
    expect(tooMany.allowed).toBe(false);
    expect(tooMany.why).toContain(`At most ${PAUSE_ALL_MAX} at once`);
    expect(pauseAllStance(pauseTargets(["c0"], running, ["admin"]), ["admin"]).why).toBe(
      "Pausing needs the operator role.",
    );
  });

  test("the summary of a batch names every refusal with the API's message", () => {
    expect(
      pauseAllSummary([
        { campaignId: "a", ok: true, changeId: "change-7" },
        { campaignId: "c", ok: true, changeId: "change-8" },
      ]),
    ).toBe("Paused 2 of 2.");
    expect(
      pauseAllSummary([
        { campaignId: "a", ok: true, changeId: "change-7" },
        {
          campaignId: "b",
          ok: false,
          message: "campaign b is paused already (not_a_pause, HTTP 409).",
        },
      ]),
    ).toBe("Paused 1 of 2; refused: b (campaign b is paused already (not_a_pause, HTTP 409).).");
  });
});

describe("lowering a campaign's limits", () => {
  const limits = {
    totalBudgetMinor: 500_000,
    dailyBudgetMinor: 30_000,
    perUser: { countPerDay: 1 },
    refundRestores: "budgets",
  };

  test("the fields start from the active limits; those it lacks are empty", () => {
    expect(limitsText(limits)).toEqual({
      totalBudgetMinor: "500000",
      dailyBudgetMinor: "30000",
      perPaymentCapMinor: "",
      spendPerMinuteMaxMinor: "",
    });
  });

  test("lowered limits, new ones, and the rest of limits kept as they are", () => {
    expect(
      loweredLimitsDraft(limits, { totalBudgetMinor: " 400000 ", perPaymentCapMinor: "500" }),
    ).toEqual({
      ok: true,
      lowered: 2,
      limits: {
        totalBudgetMinor: 400_000,
        dailyBudgetMinor: 30_000,
        perPaymentCapMinor: 500,
        perUser: { countPerDay: 1 },
        refundRestores: "budgets",
      },
    });
  });

  test("a raise, a removal and a malformed amount are refused beside their fields", () => {
    const draft = loweredLimitsDraft(limits, {
      totalBudgetMinor: "500001",
      dailyBudgetMinor: "",
      perPaymentCapMinor: "5.00",
      spendPerMinuteMaxMinor: "0",
    });
    expect(draft).toEqual({
      ok: false,
      problems: {
        totalBudgetMinor: "Raises it from 500000: raising is a change request.",
        dailyBudgetMinor: "Removing a limit raises it: keep one.",
        perPaymentCapMinor: "A whole number of minor units.",
        spendPerMinuteMaxMinor: "At least 1 minor unit.",
      },
    });
  });

  test("nothing lowered is not a lowering", () => {
    expect(loweredLimitsDraft(limits, {})).toEqual({
      ok: false,
      problems: {},
      general: "No limit is lowered yet.",
    });
    // The value it has already is no lowering either.
    expect(loweredLimitsDraft(limits, { totalBudgetMinor: "500000" })).toEqual({
      ok: false,
      problems: {},
      general: "No limit is lowered yet.",
    });
  });
});

describe("breaker moves", () => {
  test("tripped → acknowledged → armed, never skipping acknowledged", () => {
    expect(breakerMoveStance("tripped", "acknowledge", ON_CALL).allowed).toBe(true);
    expect(breakerMoveStance("tripped", "reset", ON_CALL)).toEqual({
      allowed: false,
      why: "Acknowledge it first: a breaker is never reset straight from tripped.",
    });
    expect(breakerMoveStance("acknowledged", "reset", ON_CALL).allowed).toBe(true);
    expect(breakerMoveStance("acknowledged", "acknowledge", ON_CALL).why).toBe(
      "Acknowledged already.",
    );
    expect(breakerMoveStance("armed", "acknowledge", ON_CALL)).toEqual({
      allowed: false,
      why: "Armed: there is no trip to acknowledge.",
    });
    expect(breakerMoveStance("armed", "reset", ON_CALL).why).toBe("Armed already.");
  });

  test("on-call only: administrators and auditors read breakers", () => {
    for (const roles of [["admin"], ["auditor"]]) {
      expect(breakerMoveStance("tripped", "acknowledge", roles)).toEqual({
        allowed: false,
        why: "Acting on breakers needs the operator role.",
      });
    }
  });
});
