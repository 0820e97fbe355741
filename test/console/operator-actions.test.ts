/**
 * On-call's immediate actions in the console (console/src/data/operator-actions.ts): who may pause
 * a campaign and when, the campaigns of a change one "pause them all" pauses and its summary, a
 * lowering of limits as typed (raises and removals refused as the API refuses them, proven
 * against the server's own check over generated limits and typing), and the breaker moves each
 * state allows.
 */
import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import type { CampaignStatus } from "../../console/src/data/campaigns.ts";
import {
  breakerMoveBody,
  breakerMoveStance,
  type CampaignPhase,
  AMOUNT_MINOR_MAX as CONSOLE_AMOUNT_MINOR_MAX,
  AUDIT_REASON_BYTES_MAX as CONSOLE_AUDIT_REASON_BYTES_MAX,
  type LimitsTyped,
  LOWERABLE_LIMITS,
  limitsText,
  loweredLimitsDraft,
  PAUSE_ALL_MAX,
  pauseAllStance,
  pauseAllSummary,
  pauseStance,
  pauseTargets,
  pausingStance,
} from "../../console/src/data/operator-actions.ts";
import { AUDIT_LIMITS } from "../../src/core/audit/audit-entry.ts";
import { loweredLimits } from "../../src/core/change/operator-edits.ts";
import { REFUND_RESTORES } from "../../src/core/ledger/refund.ts";
import { type Campaign, campaignSchema, limitsSchema } from "../../src/core/model/campaign.ts";
import { AMOUNT_MINOR_MAX } from "../../src/core/money.ts";
import { validCampaign } from "../support/documents.ts";

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

  test("a new limit above the largest amount the API takes is refused; a huge raise is a raise", () => {
    // The console restates the server's largest amount (it imports nothing from src/).
    expect(CONSOLE_AMOUNT_MINOR_MAX).toBe(AMOUNT_MINOR_MAX);
    expect(
      loweredLimitsDraft(limits, {
        perPaymentCapMinor: String(AMOUNT_MINOR_MAX + 1),
        spendPerMinuteMaxMinor: String(AMOUNT_MINOR_MAX),
      }),
    ).toEqual({
      ok: false,
      problems: { perPaymentCapMinor: "At most 1000000000000000 minor units." },
    });
    expect(loweredLimitsDraft(limits, { totalBudgetMinor: "1".padEnd(22, "0") })).toEqual({
      ok: false,
      problems: { totalBudgetMinor: "Raises it from 500000: raising is a change request." },
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

/**
 * What the server does with a lowering (POST /v1/campaigns/{id}/lower-limits): the body's
 * `limits` checked by the campaign's schema, then the active campaign with those limits checked
 * by `loweredLimits` — the same two steps as src/server/change-routes.ts.
 */
function serverLowering(active: Campaign, limits: Readonly<Record<string, unknown>>) {
  const parsed = limitsSchema.safeParse(limits);
  if (!parsed.success) return { ok: false as const, refusal: "body_invalid" };
  const result = loweredLimits(active, { ...active, limits: parsed.data });
  return result.ok
    ? { ok: true as const, limits: parsed.data, lowered: result.lowered }
    : { ok: false as const, refusal: result.message };
}

/**
 * The limits a person means by what they typed, whatever the console makes of it: an untouched
 * field keeps its limit, an empty one has none, the rest are the integers typed (past 2^53 the
 * nearest number, as JSON would carry it).
 */
function meantLimits(
  current: Readonly<Record<string, unknown>>,
  typed: LimitsTyped,
): Record<string, unknown> {
  const limits: Record<string, unknown> = { ...current };
  for (const { key } of LOWERABLE_LIMITS) {
    const text = typed[key];
    if (text === undefined) continue;
    if (text.trim() === "") delete limits[key];
    else limits[key] = Number(text.trim());
  }
  return limits;
}

const moneyArbitrary = fc.oneof(
  fc.integer({ min: 1, max: 1_000 }),
  fc.integer({ min: 1, max: AMOUNT_MINOR_MAX }),
);

/** A campaign's active limits, as valid as the schema makes them. */
const activeLimitsArbitrary = fc.record(
  {
    totalBudgetMinor: moneyArbitrary,
    dailyBudgetMinor: moneyArbitrary,
    perPaymentCapMinor: moneyArbitrary,
    spendPerMinuteMaxMinor: moneyArbitrary,
    refundRestores: fc.constantFrom(...REFUND_RESTORES),
    perUser: fc.record(
      { countPerDay: fc.integer({ min: 1, max: 100 }), amountPerDayMinor: moneyArbitrary },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["totalBudgetMinor"] },
);

/** An integer as a person might type it: padded, or with leading zeros. */
function integerText(value: bigint): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom("", " ", "\t"), fc.nat(3), fc.constantFrom("", " "))
    .map(
      ([before, zeros, after]) =>
        `${before}${value < 0n ? "-" : ""}${"0".repeat(zeros)}${value < 0n ? -value : value}${after}`,
    );
}

/** What may be typed over a limit: nothing, or an integer — a lowering most often. */
function typedAmountArbitrary(before: number | undefined): fc.Arbitrary<string> {
  const near = before === undefined ? [] : [before - 1, before, before + 1];
  // The edges: no limit below 1, none above the largest amount, no exact number past 2^53.
  const edges = [0, 1, -1, AMOUNT_MINOR_MAX, AMOUNT_MINOR_MAX + 1, Number.MAX_SAFE_INTEGER];
  const value = fc.oneof(
    { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: BigInt(before ?? AMOUNT_MINOR_MAX) }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...[...near, ...edges].map(BigInt), 2n ** 53n + 1n, 10n ** 21n),
    },
    { weight: 1, arbitrary: fc.bigInt({ min: 1n, max: BigInt(AMOUNT_MINOR_MAX) }) },
    { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 21n), max: 10n ** 21n }) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom("", "  ") },
    { weight: 5, arbitrary: value.chain(integerText) },
  );
}

const loweringArbitrary = activeLimitsArbitrary.chain((limits) =>
  fc.tuple(
    fc.constant(limits),
    fc.record(
      Object.fromEntries(
        LOWERABLE_LIMITS.map(({ key }) => [key, typedAmountArbitrary(limits[key])]),
      ) as Record<keyof LimitsTyped, fc.Arbitrary<string>>,
      // A field left out is one left as it was.
      { requiredKeys: [] },
    ),
  ),
);

describe("the lowering the console drafts is the one the server takes", () => {
  const campaign = validCampaign();

  propertyTest.prop([loweringArbitrary], { numRuns: 2_000 })(
    "accepted exactly when the server accepts what was meant, with the same limits",
    ([limits, typed]) => {
      const active = campaignSchema.parse({ ...campaign, limits });
      const draft = loweredLimitsDraft(active.limits, typed);
      const server = serverLowering(active, meantLimits(active.limits, typed));
      expect(draft.ok, JSON.stringify({ draft, server })).toBe(server.ok);
      if (draft.ok && server.ok) {
        expect(draft.limits).toEqual(server.limits);
        expect(draft.lowered).toBe(server.lowered.length);
        // What the console sends is what it means.
        expect(serverLowering(active, draft.limits)).toEqual(server);
      }
      if (!draft.ok && !server.ok && server.refusal === "no limit is lowered") {
        expect(draft).toEqual({ ok: false, problems: {}, general: "No limit is lowered yet." });
      }
    },
  );

  propertyTest.prop(
    [
      activeLimitsArbitrary,
      fc.constantFrom(...LOWERABLE_LIMITS.map(({ key }) => key)),
      fc.oneof(
        fc.constantFrom("5.00", "1e3", "+5", "0x10", "5 000", "1_000", "５", "Infinity", "NaN"),
        fc.string({ minLength: 1 }).filter((text) => !/^\s*-?\d*\s*$/.test(text)),
      ),
    ],
    { numRuns: 500 },
  )("text that is no whole number is refused beside its field", (limits, key, text) => {
    const draft = loweredLimitsDraft(limits, { [key]: text });
    expect(draft.ok).toBe(false);
    if (!draft.ok) expect(draft.problems[key]).toBe("A whole number of minor units.");
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

  test("a reason is optional: none sends no body, one is sent trimmed, and past the audit log's 2,000 bytes it is refused", () => {
    expect(breakerMoveBody("")).toEqual({ ok: true, body: undefined });
    expect(breakerMoveBody("  \n ")).toEqual({ ok: true, body: undefined });
    expect(breakerMoveBody(" partner's on-call is on it ")).toEqual({
      ok: true,
      body: { reason: "partner's on-call is on it" },
    });
    // 666 characters of 3 bytes each fit (1,998 bytes); 667 do not, though 2,000 characters would.
    expect(breakerMoveBody("好".repeat(666)).ok).toBe(true);
    expect(breakerMoveBody("好".repeat(667))).toEqual({
      ok: false,
      problem: "At most 2,000 bytes.",
    });
    expect(breakerMoveBody("a".repeat(2_000)).ok).toBe(true);
    // The console's copy of the limit is the audit log's.
    expect(CONSOLE_AUDIT_REASON_BYTES_MAX).toBe(AUDIT_LIMITS.reasonBytesMax);
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
