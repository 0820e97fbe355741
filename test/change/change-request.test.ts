import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { canonicalJson } from "../../src/core/change/canonical-json.ts";
import {
  CHANGE_ACTIONS,
  CHANGE_STATES,
  CHANGE_TRANSITIONS,
  nextChangeState,
} from "../../src/core/change/change-lifecycle.ts";
import {
  approveChange,
  type ChangeAssessment,
  type ChangeRequest,
  createChange,
  editChange,
  forceGate,
  keepRefusedAssessment,
  LINT_GATE_CODES,
  POLICY_APPROVER_ID,
  type Principal,
  rejectChange,
  rollBackChange,
  startRollout,
  submitChange,
} from "../../src/core/change/change-request.ts";
import type { RiskAssessment } from "../../src/core/change/change-risk.ts";
import { defaultRolloutPlan } from "../../src/core/change/rollout.ts";

const at = "2026-12-02T10:00:00.000Z";
const ana: Principal = { id: "ana", roles: ["author"] };
const rui: Principal = { id: "rui", roles: ["reviewer"] };
const mei: Principal = { id: "mei", roles: ["reviewer"] };
const authorReviewer: Principal = { id: "ana", roles: ["author", "reviewer"] };
const ops: Principal = { id: "ops", roles: ["operator"] };
const root1: Principal = { id: "root1", roles: ["admin"] };
const root2: Principal = { id: "root2", roles: ["admin"] };

const lowRisk: RiskAssessment = {
  level: "low",
  reasons: [],
  approvalsRequired: 1,
  autoApprovable: false,
};
const autoLowRisk: RiskAssessment = { ...lowRisk, autoApprovable: true };
const highRisk: RiskAssessment = {
  level: "high",
  reasons: [{ code: "envelope_changed", message: "envelope/platform changes" }],
  approvalsRequired: 2,
  autoApprovable: false,
};

function assessment(
  risk: RiskAssessment,
  findings: ChangeAssessment["findings"] = [],
): ChangeAssessment {
  return { findings, risk };
}

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function draft(contentHash = "hash-1"): ChangeRequest {
  return ok(
    createChange({
      id: "change-1",
      title: "raise the coffee budget",
      author: ana,
      edits: [{ op: "retire", key: "campaign/idc-coffee-afternoon-tea" }],
      baseVersions: { "campaign/idc-coffee-afternoon-tea": 1 },
      contentHash,
      at,
    }),
  ).change;
}

function inReview(risk: RiskAssessment): ChangeRequest {
  return ok(submitChange(draft(), ana, assessment(risk), [], at)).change;
}

describe("four eyes", () => {
  test("the author can never approve their own change, even holding the reviewer role", () => {
    const change = ok(submitChange(draft(), authorReviewer, assessment(lowRisk), [], at)).change;
    expect(approveChange(change, authorReviewer, change.contentHash, at)).toMatchObject({
      ok: false,
      code: "author_cannot_approve",
    });
  });

  test("nobody but the author edits or submits a change, so no one approves content they wrote", () => {
    const bob: Principal = { id: "bob", roles: ["author", "reviewer"] };
    const change = draft();
    expect(
      editChange(
        change,
        bob,
        { edits: change.edits, baseVersions: change.baseVersions, contentHash: "hash-bob" },
        at,
      ),
    ).toMatchObject({ ok: false, code: "not_the_author" });
    expect(submitChange(change, bob, assessment(lowRisk), [], at)).toMatchObject({
      code: "not_the_author",
    });
    const submitted = ok(submitChange(change, ana, assessment(lowRisk), [], at)).change;
    expect(
      editChange(
        submitted,
        bob,
        { edits: change.edits, baseVersions: change.baseVersions, contentHash: "hash-bob" },
        at,
      ),
    ).toMatchObject({ code: "not_the_author" });
  });

  test("a low-risk change is approved by one reviewer; only reviewers approve", () => {
    const change = inReview(lowRisk);
    expect(approveChange(change, ops, change.contentHash, at)).toMatchObject({
      code: "role_missing",
    });
    expect(ok(approveChange(change, rui, change.contentHash, at)).change.state).toBe("approved");
  });

  test("an approval names the content it saw; any edit voids every approval", () => {
    const change = inReview(highRisk);
    expect(approveChange(change, rui, "some-other-hash", at)).toMatchObject({
      code: "content_changed",
    });
    const once = ok(approveChange(change, rui, change.contentHash, at)).change;
    expect(once.approvals).toHaveLength(1);

    const edited = ok(
      editChange(
        once,
        ana,
        { edits: once.edits, baseVersions: once.baseVersions, contentHash: "hash-2" },
        at,
      ),
    ).change;
    expect(edited.state).toBe("draft");
    expect(edited.approvals).toEqual([]);
    expect(edited.assessment).toBeUndefined();

    const resubmitted = ok(submitChange(edited, ana, assessment(highRisk), [], at)).change;
    expect(approveChange(resubmitted, rui, "hash-1", at)).toMatchObject({
      code: "content_changed",
    });
    const again = ok(approveChange(resubmitted, rui, "hash-2", at)).change;
    expect(again.state).toBe("in_review");
  });

  test("a high-risk change cannot be approved by one reviewer, nor by the policy", () => {
    const change = inReview({ ...highRisk, autoApprovable: true });
    expect(change.approvals).toEqual([]);
    const one = ok(approveChange(change, rui, change.contentHash, at)).change;
    expect(one.state).toBe("in_review");
    expect(approveChange(one, rui, change.contentHash, at)).toMatchObject({
      code: "already_approved",
    });
    expect(startRollout(one, ops, defaultRolloutPlan(1), [], at)).toMatchObject({
      code: "illegal_transition",
    });
    const two = ok(approveChange(one, mei, change.contentHash, at)).change;
    expect(two.state).toBe("approved");
  });

  test("the policy approves a low-risk change it may approve, and says so", () => {
    const change = inReview(autoLowRisk);
    expect(change.state).toBe("approved");
    expect(change.approvals).toEqual([
      { reviewerId: POLICY_APPROVER_ID, contentHash: change.contentHash, at, byPolicy: true },
    ]);
  });

  test("a reviewer rejects with a reason", () => {
    const change = inReview(lowRisk);
    expect(rejectChange(change, rui, "no", at)).toMatchObject({ code: "reason_required" });
    const rejected = ok(rejectChange(change, rui, "the budget has no owner yet", at)).change;
    expect(rejected).toMatchObject({
      state: "rejected",
      closingReason: "the budget has no owner yet",
    });
    expect(approveChange(rejected, mei, rejected.contentHash, at)).toMatchObject({
      code: "illegal_transition",
    });
  });
});

describe("lint at submission", () => {
  const error = {
    key: "lint.scope_all_scenarios@campaign/x#scope",
    code: "lint.scope_all_scenarios",
    severity: "error",
    message: "m",
  } as const;
  const warning = {
    key: "lint.no_velocity_ceiling@campaign/x#limits",
    code: "lint.no_velocity_ceiling",
    severity: "warning",
    message: "m",
  } as const;

  test("errors block, warnings need an acknowledgement with a reason", () => {
    expect(submitChange(draft(), ana, assessment(lowRisk, [error]), [], at)).toMatchObject({
      code: "lint_errors",
    });
    expect(submitChange(draft(), ana, assessment(lowRisk, [warning]), [], at)).toMatchObject({
      code: "warnings_unacknowledged",
    });
    const acknowledged = [
      { findingKey: warning.key, reason: "velocity is capped by the daily budget", byId: "ana" },
    ];
    expect(
      ok(submitChange(draft(), ana, assessment(lowRisk, [warning]), acknowledged, at)).change.state,
    ).toBe("in_review");
    expect(
      submitChange(
        draft(),
        ana,
        assessment(lowRisk, [warning]),
        [{ ...acknowledged[0]!, reason: "ok" }],
        at,
      ),
    ).toMatchObject({ code: "reason_required" });
  });

  test("a refusal at the lint gate keeps its assessment on the draft, marked as refused", () => {
    const later = "2026-12-02T10:05:00.000Z";
    const refusedAt = assessment(highRisk, [error, warning]);
    const refusal = submitChange(draft(), ana, refusedAt, [], later);
    if (refusal.ok) throw new Error("lint errors must refuse");
    const kept = keepRefusedAssessment(draft(), refusedAt, refusal, later)!;
    expect(kept.state).toBe("draft");
    expect(kept.contentHash).toBe(draft().contentHash);
    expect(kept.updatedAt).toBe(later);
    expect(kept.assessment).toEqual({
      ...refusedAt,
      refused: { code: "lint_errors", message: refusal.message, at: later },
    });
    expect(kept.assessment?.refused?.message).toContain("lint.scope_all_scenarios");
    // Still a draft: no one approves, forces approval into, or rolls out a refused submission.
    expect(approveChange(kept, rui, kept.contentHash, later)).toMatchObject({
      code: "illegal_transition",
    });
    const approvalForced = ok(
      forceGate(
        ok(forceGate(kept, root1, "approval", "the deadline is tonight, risk agreed", later))
          .change,
        root2,
        "approval",
        "the deadline is tonight, risk agreed",
        later,
      ),
    ).change;
    expect(approvalForced.state).toBe("draft");
    expect(startRollout(kept, ops, defaultRolloutPlan(0), [], later)).toMatchObject({
      code: "illegal_transition",
    });
    // An edit voids it, as it voids any assessment.
    const edited = ok(
      editChange(
        kept,
        ana,
        { edits: kept.edits, baseVersions: kept.baseVersions, contentHash: "hash-2" },
        later,
      ),
    ).change;
    expect(edited.assessment).toBeUndefined();
    // A later submission that passes replaces it with its own, unmarked.
    const passed = ok(submitChange(kept, ana, { ...kept.assessment!, findings: [] }, [], later));
    expect(passed.change.state).toBe("in_review");
    expect(passed.change.assessment?.refused).toBeUndefined();
  });

  test("every refusal of the lint gate is kept; refusals decided before the assessment are not", () => {
    const acknowledgement = { findingKey: warning.key, reason: "ok", byId: "ana" };
    const refusals = [
      submitChange(draft(), ana, assessment(lowRisk, [error]), [], at),
      submitChange(draft(), ana, assessment(lowRisk, [warning]), [], at),
      submitChange(draft(), ana, assessment(lowRisk, [warning]), [acknowledgement], at),
      submitChange(
        draft(),
        ana,
        assessment(lowRisk, [warning]),
        [{ ...acknowledgement, findingKey: "lint.none@campaign/x#y" }],
        at,
      ),
    ];
    const codes = refusals.map((refusal) => (refusal.ok ? "passed" : refusal.code));
    expect([...codes].sort()).toEqual([...LINT_GATE_CODES].sort());
    for (const refusal of refusals) {
      if (refusal.ok) throw new Error("refused above");
      expect(
        keepRefusedAssessment(draft(), assessment(lowRisk), refusal, at)?.assessment?.refused?.code,
      ).toBe(refusal.code);
    }
    const intruder = submitChange(
      draft(),
      { id: "eve", roles: ["author"] },
      assessment(lowRisk),
      [],
      at,
    );
    if (intruder.ok) throw new Error("not the author");
    expect(keepRefusedAssessment(draft(), assessment(lowRisk), intruder, at)).toBeUndefined();
    // Past the draft no submission reaches the gate: keeping one there is a caller's bug.
    const lintRefusal = refusals[0]!;
    if (lintRefusal.ok) throw new Error("refused above");
    expect(() =>
      keepRefusedAssessment(inReview(lowRisk), assessment(lowRisk), lintRefusal, at),
    ).toThrow(/in_review/);
  });
});

describe("forcing a gate", () => {
  const reason = "regulator deadline tonight; reviewed on the phone by risk";

  test("needs two different administrators, skips only the named gate, and is recorded", () => {
    const change = draft();
    expect(forceGate(change, rui, "lint", reason, at)).toMatchObject({ code: "role_missing" });
    expect(forceGate(change, root1, "lint", "because", at)).toMatchObject({
      code: "reason_required",
    });
    const requested = ok(forceGate(change, root1, "lint", reason, at)).change;
    expect(requested.forced).toEqual([]);
    expect(forceGate(requested, root1, "lint", reason, at)).toMatchObject({
      code: "second_admin_required",
    });
    const forced = ok(
      forceGate(requested, root2, "lint", "confirmed, same reason as root1", at),
    ).change;
    expect(forced.forced).toEqual([
      expect.objectContaining({
        gate: "lint",
        adminIds: ["root1", "root2"],
        contentHash: change.contentHash,
      }),
    ]);

    const lintError = { key: "k", code: "lint.x", severity: "error", message: "m" } as const;
    const submitted = ok(
      submitChange(forced, ana, assessment(highRisk, [lintError]), [], at),
    ).change;
    // Lint was forced, approval was not: the change still waits for two reviewers.
    expect(submitted.state).toBe("in_review");
  });

  test("forcing approval approves a high-risk change only with two administrators", () => {
    const change = inReview(highRisk);
    const half = ok(forceGate(change, root1, "approval", reason, at)).change;
    expect(half.state).toBe("in_review");
    const forced = ok(forceGate(half, root2, "approval", reason, at)).change;
    expect(forced.state).toBe("approved");
  });

  test("the author, even an administrator, is never one of the two who force its approval", () => {
    const anaAdmin: Principal = { id: "ana", roles: ["author", "admin"] };
    const change = ok(
      createChange({
        id: "c",
        title: "t",
        author: anaAdmin,
        edits: [],
        baseVersions: {},
        contentHash: "h",
        at,
      }),
    ).change;
    expect(forceGate(change, anaAdmin, "approval", reason, at)).toMatchObject({
      code: "author_cannot_approve",
    });
    expect(forceGate(change, anaAdmin, "lint", reason, at).ok).toBe(true);
  });

  test("the envelope, the rollout and the breakers are not gates", () => {
    for (const gate of ["envelope", "rollout", "breakers", "staged_rollout"]) {
      expect(forceGate(draft(), root1, gate, reason, at)).toMatchObject({
        code: "gate_not_forceable",
      });
    }
  });

  test("a forced gate is void once the content changes", () => {
    const requested = ok(forceGate(draft(), root1, "lint", reason, at)).change;
    const forced = ok(forceGate(requested, root2, "lint", reason, at)).change;
    const edited = ok(
      editChange(
        forced,
        ana,
        { edits: forced.edits, baseVersions: forced.baseVersions, contentHash: "hash-2" },
        at,
      ),
    ).change;
    expect(edited.forced).toEqual([]);
  });
});

describe("rollback", () => {
  test("one operator with a reason rolls back an active or rolling-out change", () => {
    const approved = ok(approveChange(inReview(lowRisk), rui, "hash-1", at)).change;
    const rolling = ok(startRollout(approved, ops, defaultRolloutPlan(1_000), [], at)).change;
    expect(rollBackChange(rolling, rui, "spend is off the forecast", at)).toMatchObject({
      code: "role_missing",
    });
    expect(ok(rollBackChange(rolling, ops, "spend is off the forecast", at)).change.state).toBe(
      "rolled_back",
    );
  });
});

describe("the lifecycle table", () => {
  propertyTest.prop([fc.constantFrom(...CHANGE_STATES), fc.constantFrom(...CHANGE_ACTIONS)])(
    "allows exactly the moves it lists; every other move is illegal_transition",
    (state, action) => {
      const result = nextChangeState(state, action);
      const allowed = CHANGE_TRANSITIONS[action].from.includes(state);
      expect(result.ok).toBe(allowed);
      if (!result.ok) expect(result.code).toBe("illegal_transition");
    },
  );

  test("is the documented one, move by move", () => {
    // Written out by hand from docs/reference/changes.md: an edit of the table must change this.
    const expected: Record<string, [string[], string]> = {
      edit: [["draft", "in_review", "approved"], "draft"],
      submit: [["draft"], "in_review"],
      record_approval: [["in_review"], "same"],
      approve: [["in_review"], "approved"],
      reject: [["in_review", "approved"], "rejected"],
      request_force: [["draft", "in_review"], "same"],
      start_rollout: [["approved"], "rolling_out"],
      advance_stage: [["rolling_out"], "same"],
      complete_rollout: [["rolling_out"], "active"],
      abort_rollout: [["rolling_out"], "rolled_back"],
      roll_back: [["rolling_out", "active"], "rolled_back"],
    };
    expect(
      Object.fromEntries(
        Object.entries(CHANGE_TRANSITIONS).map(([action, { from, to }]) => [
          action,
          [[...from], to],
        ]),
      ),
    ).toEqual(expected);
  });

  test("rejected and rolled-back changes are final", () => {
    for (const action of CHANGE_ACTIONS) {
      expect(nextChangeState("rejected", action).ok).toBe(false);
      expect(nextChangeState("rolled_back", action).ok).toBe(false);
    }
  });
});

describe("canonicalJson", () => {
  propertyTest.prop([fc.jsonValue()])("is the same text whatever the key order", (value) => {
    const reordered = JSON.parse(JSON.stringify(value), (_key, field) =>
      field !== null && typeof field === "object" && !Array.isArray(field)
        ? Object.fromEntries(Object.entries(field).reverse())
        : field,
    );
    expect(canonicalJson(reordered)).toBe(canonicalJson(value));
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
  });
});
