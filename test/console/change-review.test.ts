/**
 * The change-review page's transforms (console/src/data/change-review.ts) and its paired bars
 * (chart-scale.ts): the money rows a reviewer reads first, the headline move, who may approve and
 * why not (four eyes), the marks of forced and policy-approved changes, the reject reason's check.
 */
import { describe, expect, test } from "vitest";
import {
  approvalStance,
  type ChangeMarked,
  type ChangeRequestView,
  changeMarks,
  moneyAbsence,
  moneyHeadline,
  moneyRows,
  reasonProblem,
  refusedSubmissionNotice,
  type SimulatedRow,
  type Simulation,
  shownValue,
} from "../../console/src/data/change-review.ts";
import { layoutPairedBars } from "../../console/src/data/chart-scale.ts";
import { parseRoute } from "../../console/src/data/route.ts";
import type { ChangeRequest } from "../../src/core/change/change-request.ts";

/**
 * The console restates the API's change (it imports nothing from src/): this does not compile
 * (`npx tsc -p .`) once the server's change no longer carries what its marks are made of.
 */
const serverChangeIsMarked = (served: ChangeRequest): ChangeMarked => served;

function side(perHour: number, shareBps = 0) {
  return {
    subsidisedPayments: 0,
    subsidisedShareBps: shareBps,
    subsidyMinor: 0,
    subsidyPerHourMinor: perHour,
  };
}

function simulated(key: string, current: number, proposed: number): SimulatedRow {
  return {
    key,
    payments: 100,
    current: side(current, 100),
    proposed: side(proposed, 200),
    deltaSubsidyPerHourMinor: proposed - current,
  };
}

describe("the money first", () => {
  test("rows where money moves or is spent, the largest move first; idle rows left out", () => {
    const rows = moneyRows([
      simulated("rent", 0, 0),
      simulated("merchant_qr", 1_000, 1_200),
      simulated("p2p_transfer", 0, 50_000),
      simulated("utility_bill", 900, 900),
      simulated("ticketing", 500, 100),
    ]);
    expect(rows.map((row) => [row.key, row.deltaPerHourMinor])).toEqual([
      ["p2p_transfer", 50_000],
      ["ticketing", -400],
      ["merchant_qr", 200],
      ["utility_bill", 0],
    ]);
    expect(rows[0]).toMatchObject({ currentShareBps: 100, proposedShareBps: 200 });
  });

  test("the headline: per hour on both sides, the move, and the move's share of now", () => {
    const simulation = {
      current: side(10_000, 1_000),
      proposed: side(12_500, 1_500),
    } as unknown as Simulation;
    expect(moneyHeadline(simulation)).toEqual({
      currentPerHourMinor: 10_000,
      proposedPerHourMinor: 12_500,
      deltaPerHourMinor: 2_500,
      deltaBps: 2_500,
      currentShareBps: 1_000,
      proposedShareBps: 1_500,
    });
    const fromNothing = { current: side(0), proposed: side(5) } as unknown as Simulation;
    expect(moneyHeadline(fromNothing).deltaBps).toBeUndefined();
  });

  test("paired bars share one scale, the largest of either side filling the length", () => {
    const bars = layoutPairedBars(
      [
        { label: "a", current: 100, proposed: 400 },
        { label: "b", current: 200, proposed: 0 },
      ],
      200,
      30,
    );
    expect(bars.map((bar) => [bar.currentLength, bar.proposedLength, bar.offset])).toEqual([
      [50, 200, 0],
      [100, 0, 30],
    ]);
    expect(bars[0]?.thickness).toBe(12);
  });
});

function change(overrides: Partial<ChangeRequestView> = {}): ChangeRequestView {
  return {
    id: "change-7",
    title: "raise the coffee budget",
    authorId: "alice",
    state: "in_review",
    contentHash: "a".repeat(64),
    approvals: [],
    pendingForces: [],
    forced: [],
    acknowledgements: [],
    assessment: {
      findings: [],
      risk: { level: "high", reasons: [], approvalsRequired: 2, autoApprovable: false },
      diff: { documents: [], campaigns: [] },
      simulation: null,
    },
    ...overrides,
  };
}

describe("four eyes", () => {
  test("a reviewer who is not the author may approve, and is told how many are missing", () => {
    expect(approvalStance(change(), "bob", ["reviewer"])).toEqual({
      canApprove: true,
      why: "",
      approvalsMissing: 2,
    });
  });

  test("the author may not, even holding the reviewer role, and is told why", () => {
    const stance = approvalStance(change(), "alice", ["author", "reviewer"]);
    expect(stance.canApprove).toBe(false);
    expect(stance.why).toMatch(/You wrote this change.*four eyes/);
  });

  test("nor a token without the reviewer role, nor a reviewer twice, nor out of review", () => {
    expect(approvalStance(change(), "olga", ["operator"]).why).toMatch(/reviewer role/);
    const once = change({
      approvals: [{ reviewerId: "bob", byPolicy: false, at: "2025-01-16T06:00:00Z" }],
    });
    const again = approvalStance(once, "bob", ["reviewer"]);
    expect(again).toMatchObject({ canApprove: false, approvalsMissing: 1 });
    expect(again.why).toMatch(/already/);
    expect(approvalStance(change({ state: "rolling_out" }), "bob", ["reviewer"]).why).toBe(
      "The change is rolling out, not in review.",
    );
  });

  test("forced and policy-approved changes carry their marks with the reasons", () => {
    expect(changeMarks(change())).toEqual([]);
    const forced = change({
      forced: [
        {
          gate: "lint",
          adminIds: ["ada", "alan"],
          reason: "the 2025-01-16 variant, forced on purpose",
          at: "2025-01-16T06:40:00Z",
        },
      ],
      approvals: [{ reviewerId: "policy", byPolicy: true, at: "2025-01-16T06:40:00Z" }],
    });
    expect(changeMarks(forced)).toEqual([
      "Forced past lint by ada and alan: the 2025-01-16 variant, forced on purpose",
      "Approved by the policy: a low-risk change that needs no reviewer",
    ]);
  });

  test("an operator's action is marked with its kind and reason: it had no review", () => {
    const lowered = change({
      state: "active",
      operatorAction: { kind: "lower_limits", reason: "the bank cut its share today" },
    });
    expect(changeMarks(lowered)).toEqual([
      "An operator's lower limits, without review: the bank cut its share today",
    ]);
    // A change without one: absent from the API's change, null in a version's.
    const { operatorAction: _, ...reviewed } = lowered;
    expect(changeMarks(serverChangeIsMarked(reviewed as ChangeRequest))).toEqual([]);
    expect(changeMarks({ ...lowered, operatorAction: null })).toEqual([]);
  });

  test("a reject needs a reason of 10 to 2,000 characters", () => {
    expect(reasonProblem("too short")).toMatch(/at least 10/);
    expect(reasonProblem("   padded   ")).toMatch(/at least 10/);
    expect(reasonProblem("the budget doubles without a forecast")).toBeUndefined();
    expect(reasonProblem("x".repeat(2_001))).toMatch(/At most/);
  });
});

describe("a submission refused at lint", () => {
  const refused = {
    code: "lint_errors",
    message: "2 lint error(s): lint.template_edit_changes_offer_kind, lint.percent_cap_too_high",
    at: "2025-01-16T06:40:05.123Z",
  };

  test("its kept assessment is labelled as the refused submission's, with the refusal", () => {
    const draft = change({
      state: "draft",
      assessment: { ...change().assessment!, refused },
    });
    const notice = refusedSubmissionNotice(draft)!;
    expect(notice.headline).toBe(
      "Submission refused at the lint gate (lint_errors) at 2025-01-16 06:40:05 UTC. The money, findings and diff below are that refused submission's; the change is still a draft, and forcing the lint gate lets its author submit it again.",
    );
    expect(notice.message).toBe(refused.message);
    expect(notice.moneyLabel).toBe("The refused submission's simulation.");
    expect(notice.findingsLabel).toBe(
      "The refused submission's findings: its lint errors stopped it.",
    );
    const unacknowledged = refusedSubmissionNotice({
      assessment: {
        ...change().assessment!,
        refused: { ...refused, code: "warnings_unacknowledged" },
      },
    })!;
    expect(unacknowledged.findingsLabel).toMatch(/a warning was not acknowledged/);
    // Still a draft: nobody approves it.
    expect(approvalStance(draft, "bob", ["reviewer"]).canApprove).toBe(false);
  });

  test("a passed submission's assessment, or none, carries no notice", () => {
    expect(refusedSubmissionNotice(change())).toBeUndefined();
    expect(
      refusedSubmissionNotice({ assessment: { ...change().assessment!, refused: null } }),
    ).toBeUndefined();
    expect(refusedSubmissionNotice({ assessment: null })).toBeUndefined();
    expect(refusedSubmissionNotice({})).toBeUndefined();
  });

  test("an empty money section says why: not submitted, or documents that do not resolve", () => {
    expect(moneyAbsence({})).toMatch(/^Not simulated yet: a change is simulated when its author/);
    expect(moneyAbsence({ assessment: { ...change().assessment!, refused } })).toMatch(
      /refused submission's documents do not resolve/,
    );
    expect(moneyAbsence(change())).toMatch(/documents did not resolve/);
  });
});

test("diff values are shown as JSON, cut when long", () => {
  expect(shownValue(undefined)).toBe("—");
  expect(shownValue("CNY")).toBe("CNY");
  expect(shownValue({ kind: "fixed", amountMinor: 50 })).toBe('{"kind":"fixed","amountMinor":50}');
  expect(shownValue("x".repeat(200), 10)).toBe(`${"x".repeat(9)}…`);
});

test("change routes", () => {
  expect(parseRoute("#/changes")).toEqual({ page: "changes" });
  expect(parseRoute("#/changes/change-7")).toEqual({ page: "change", changeId: "change-7" });
});
