/**
 * The change pipeline end to end over the memory stores (the durable stores pass the same port
 * contract): seeding, four eyes, forcing, staged rollout judged against the forecast, rollback,
 * and an audit entry for every action, in one intact chain. Lint and simulation are given as a
 * scripted assessment here; their own suites test them.
 */
import { beforeEach, describe, expect, test } from "vitest";
import {
  type AssessProposal,
  ChangeService,
  type ProposalFindings,
} from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import type { Principal } from "../../src/core/change/change-request.ts";
import { defaultRolloutPlan } from "../../src/core/change/rollout.ts";
import { buildSnapshot } from "../../src/core/evaluator/snapshot.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import { resolveConfig } from "../../src/core/model/config-set.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Template } from "../../src/core/model/template.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";
import { importAsActive, TWO_STAGES, walkRollout } from "./rollout-helpers.ts";

const ana: Principal = { id: "ana", roles: ["author"] };
const rui: Principal = { id: "rui", roles: ["reviewer"] };
const mei: Principal = { id: "mei", roles: ["reviewer"] };
const ops: Principal = { id: "ops", roles: ["operator"] };
const root1: Principal = { id: "root1", roles: ["admin"] };
const root2: Principal = { id: "root2", roles: ["admin"] };

const calm: ProposalFindings = {
  findings: [],
  money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 100_000 },
  forecast: { subsidyPerPaymentMilliMinor: 2_000, subsidisedShareBps: 4_000 },
};

const clock = { nowMs: 0 };
let next: ProposalFindings;
let audit: MemoryAuditLogStore;
let service: ChangeService;
let documents: ConfigDocument[];

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

beforeEach(async () => {
  clock.nowMs = Date.parse("2026-12-02T06:40:00.000Z");
  next = calm;
  audit = new MemoryAuditLogStore();
  const assess: AssessProposal = async () => next;
  service = new ChangeService({
    store: new MemoryChangeStore(audit),
    assess,
    now: () => new Date(clock.nowMs).toISOString(),
  });
  documents = await exampleDocuments();
  // The examples arrive as one reviewed change, rolled out in two stages. Nothing is active
  // yet, so its simulation forecasts nothing against nothing.
  next = {
    findings: [],
    money: { currentSubsidyPerHourMinor: 0, proposedSubsidyPerHourMinor: 0 },
    forecast: { subsidyPerPaymentMilliMinor: 0, subsidisedShareBps: 0 },
  };
  await importAsActive(
    service,
    clock,
    { author: ana, reviewers: [rui, mei], operator: ops },
    documents,
  );
  next = calm;
});

function template(id: string): Template {
  return documents.find(
    (document) => document.kind === "template" && document.id === id,
  ) as Template;
}

function campaign(id: string): Campaign {
  return documents.find(
    (document) => document.kind === "campaign" && document.id === id,
  ) as Campaign;
}

describe("the change pipeline", () => {
  test("a submission by anyone but the author is refused before the assessment runs", async () => {
    let assessments = 0;
    const counting = new ChangeService({
      store: new MemoryChangeStore(audit),
      assess: async () => {
        assessments += 1;
        return calm;
      },
      now: () => new Date(clock.nowMs).toISOString(),
    });
    const edited = {
      ...template("instant-discount"),
      offer: { kind: "fixed", amountMinor: 60 },
    } as Template;
    const created = ok(
      await counting.create(ana, "a cent more", [{ op: "put", document: edited }]),
    );
    const intruder = { id: "eve", roles: ["author" as const] };
    expect(await counting.submit(intruder, created.change.id, [])).toMatchObject({
      ok: false,
      code: "not_the_author",
    });
    expect(assessments).toBe(0);
    ok(await counting.submit(ana, created.change.id, []));
    expect(assessments).toBe(1);
  });

  test("a template edit reaches review with its fan-out and cannot be approved by its author or one reviewer", async () => {
    const edited = {
      ...template("instant-discount"),
      offer: { kind: "fixed", amountMinor: 150 },
    } as Template;
    const created = ok(
      await service.create(ana, "bigger routine discount", [{ op: "put", document: edited }]),
    );
    const submitted = ok(await service.submit(ana, created.change.id, []));
    expect(submitted.change.assessment?.risk.level).toBe("high");
    expect(submitted.change.assessment?.diff?.campaigns.length).toBeGreaterThan(3);
    expect(
      submitted.change.assessment?.diff?.campaigns.every((effect) => effect.fields[0]?.inherited),
    ).toBe(true);

    expect(
      await service.approve(
        { ...ana, roles: ["author", "reviewer"] },
        created.change.id,
        created.change.contentHash,
      ),
    ).toMatchObject({
      code: "author_cannot_approve",
    });
    const once = ok(await service.approve(rui, created.change.id, created.change.contentHash));
    expect(once.change.state).toBe("in_review");
    expect(await service.startRollout(ops, created.change.id)).toMatchObject({
      code: "illegal_transition",
    });
  });

  test("an edit voids approvals; the reviewer must approve the new content", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const first = { ...coffee, name: "Coffee: afternoon tea" };
    const created = ok(await service.create(ana, "rename", [{ op: "put", document: first }]));
    ok(await service.submit(ana, created.change.id, []));
    // The policy approves a rename with no money moving: it is low-risk and changes nothing else.
    const approved = ok(
      await service
        .show(created.change.id)
        .then((change) => ({ ok: true as const, change: change! })),
    );
    expect(approved.change.state).toBe("approved");
    expect(approved.change.approvals[0]?.byPolicy).toBe(true);

    const edited = ok(
      await service.edit(ana, created.change.id, [
        {
          op: "put",
          document: {
            ...first,
            limits: { ...coffee.limits, totalBudgetMinor: coffee.limits.totalBudgetMinor * 3 },
          },
        },
      ]),
    );
    expect(edited.change).toMatchObject({ state: "draft", approvals: [] });
    const resubmitted = ok(await service.submit(ana, created.change.id, []));
    // Raising a budget is never approved by policy.
    expect(resubmitted.change.state).toBe("in_review");
    expect(await service.approve(rui, created.change.id, created.change.contentHash)).toMatchObject(
      { code: "content_changed" },
    );
    expect(
      ok(await service.approve(rui, created.change.id, resubmitted.change.contentHash)).change
        .state,
    ).toBe("approved");
  });

  test("forcing past lint and approval takes two administrators and is audited", async () => {
    const edited = { ...template("instant-discount"), funding: { source: "bank" } } as Template;
    next = {
      ...calm,
      findings: [
        {
          key: "lint.x@template/instant-discount#funding",
          code: "lint.template_edit_changes_active_campaigns",
          severity: "error",
          message: "fan-out",
        },
      ],
    };
    const created = ok(await service.create(ana, "bank pays", [{ op: "put", document: edited }]));
    expect(await service.submit(ana, created.change.id, [])).toMatchObject({ code: "lint_errors" });
    const reason = "bank co-funding deadline; risk signed off in writing";
    for (const gate of ["lint", "approval"]) {
      ok(await service.force(root1, created.change.id, gate, reason));
      expect(await service.force(root1, created.change.id, gate, reason)).toMatchObject({
        code: "second_admin_required",
      });
      ok(await service.force(root2, created.change.id, gate, reason));
    }
    const submitted = ok(await service.submit(ana, created.change.id, []));
    expect(submitted.change.state).toBe("approved");
    expect(submitted.change.forced.map((force) => [force.gate, force.adminIds])).toEqual([
      ["lint", ["root1", "root2"]],
      ["approval", ["root1", "root2"]],
    ]);
    const entries = await audit.read(1, 1_000);
    expect(
      entries
        .filter((entry) => entry.action === "change.forced")
        .map((entry) => entry.details.gate),
    ).toEqual(["lint", "approval"]);
  });

  test("a submission refused at lint keeps its findings and money on the draft, for every reader, until a later submission", async () => {
    // The 2025-01-16 shape: a template edit lint refuses, which two administrators then force.
    const edited = {
      ...template("instant-discount"),
      offer: { kind: "percent", rateBps: 2_000, capMinor: 20_000 },
    } as Template;
    const lintError = {
      key: "lint.template_edit_changes_offer_kind|template/instant-discount|offer",
      code: "lint.template_edit_changes_offer_kind",
      severity: "error",
      message: "fixed becomes percent for every campaign of the template",
    } as const;
    next = {
      findings: [lintError],
      money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 9_000_000 },
      forecast: { subsidyPerPaymentMilliMinor: 2_500_000, subsidisedShareBps: 4_000 },
      sample: "synthetic traffic for the test",
    };
    const created = ok(await service.create(ana, "20 % off", [{ op: "put", document: edited }]));
    const id = created.change.id;
    const auditedBefore = (await audit.read(1, 1_000)).length;
    clock.nowMs += 60_000;
    const refusal = await service.submit(ana, id, []);
    expect(refusal).toMatchObject({ ok: false, code: "lint_errors" });
    if (refusal.ok) throw new Error("refused above");

    const kept = (await service.show(id))!;
    expect(kept.state).toBe("draft");
    expect(kept.contentHash).toBe(created.change.contentHash);
    expect(kept.assessment).toMatchObject({
      findings: [lintError],
      currentSubsidyPerHourMinor: 100_000,
      proposedSubsidyPerHourMinor: 9_000_000,
      sample: "synthetic traffic for the test",
      refused: {
        code: "lint_errors",
        message: refusal.message,
        at: new Date(clock.nowMs).toISOString(),
      },
    });
    expect(kept.assessment?.risk.level).toBe("high");
    expect(kept.assessment?.diff?.campaigns.length).toBeGreaterThan(3);
    // A refusal moves nothing, so nothing is audited; the draft cannot be approved or rolled out.
    expect(await audit.read(1, 1_000)).toHaveLength(auditedBefore);
    expect(await service.approve(rui, id, kept.contentHash)).toMatchObject({
      code: "illegal_transition",
    });
    expect(await service.startRollout(ops, id)).toMatchObject({ code: "illegal_transition" });
    expect((await service.list({ state: "draft", limit: 10 })).map((change) => change.id)).toEqual([
      id,
    ]);

    // Refused again, on another day's sample: the newer refusal replaces the older.
    next = {
      ...next,
      money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 8_000_000 },
    };
    clock.nowMs += 60_000;
    expect(await service.submit(ana, id, [])).toMatchObject({ code: "lint_errors" });
    const again = (await service.show(id))!.assessment!;
    expect(again.proposedSubsidyPerHourMinor).toBe(8_000_000);
    expect(again.refused?.at).toBe(new Date(clock.nowMs).toISOString());

    // Two administrators force lint with the money in front of them; the author submits again,
    // and that submission's assessment replaces the refused one.
    const reason = "the deadline is tonight; the money above was read and accepted";
    ok(await service.force(root1, id, "lint", reason));
    expect((await service.show(id))!.assessment?.refused?.code).toBe("lint_errors");
    ok(await service.force(root2, id, "lint", reason));
    const submitted = ok(await service.submit(ana, id, []));
    expect(submitted.change.state).toBe("in_review");
    expect(submitted.change.assessment?.refused).toBeUndefined();
    expect(submitted.change.assessment?.findings).toEqual([lintError]);
    expect((await service.show(id))!.assessment?.refused).toBeUndefined();
  });

  test("a refused submission whose documents do not resolve keeps its findings, without money; an edit voids it", async () => {
    const orphan = { ...campaign("idc-coffee-afternoon-tea"), id: "idc-orphan", template: "gone" };
    // What the real assessment answers when documents do not resolve: findings, no simulation.
    next = {
      findings: [
        {
          key: "ref.unknown_template|campaign/idc-orphan|template",
          code: "ref.unknown_template",
          severity: "error",
          message: "no template gone",
        },
      ],
    };
    const created = ok(
      await service.create(ana, "an orphan campaign", [{ op: "put", document: orphan }]),
    );
    expect(await service.submit(ana, created.change.id, [])).toMatchObject({
      code: "lint_errors",
    });
    const kept = (await service.show(created.change.id))!.assessment!;
    expect(kept.findings.map((finding) => finding.code)).toEqual(["ref.unknown_template"]);
    expect(kept.refused?.code).toBe("lint_errors");
    expect(kept.simulation).toBeUndefined();
    expect(kept.proposedSubsidyPerHourMinor).toBeUndefined();
    expect(kept.risk.reasons.map((reason) => reason.code)).toContain("simulation_missing");

    // Warnings left unacknowledged are the lint gate's refusal too, and kept alike.
    const fixed = { ...orphan, template: "instant-discount" };
    next = {
      ...calm,
      findings: [
        {
          key: "lint.no_velocity_ceiling|campaign/idc-orphan|limits",
          code: "lint.no_velocity_ceiling",
          severity: "warning",
          message: "no ceiling",
        },
      ],
    };
    const edited = ok(await service.edit(ana, created.change.id, [{ op: "put", document: fixed }]));
    expect(edited.change.assessment).toBeUndefined();
    expect(await service.submit(ana, created.change.id, [])).toMatchObject({
      code: "warnings_unacknowledged",
    });
    expect((await service.show(created.change.id))!.assessment?.refused?.code).toBe(
      "warnings_unacknowledged",
    );
  });

  test("a rollout that observes more than its forecast aborts and restores the prior content", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const generous: Campaign = { ...coffee, offer: { amountMinor: 200 } };
    next = {
      ...calm,
      money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 130_000 },
    };
    const created = ok(
      await service.create(ana, "coffee 2 yuan", [{ op: "put", document: generous }]),
    );
    const submitted = ok(await service.submit(ana, created.change.id, []));
    expect(submitted.change.assessment?.risk.reasons.map((reason) => reason.code)).toEqual([
      "offer_raised",
      "spend_growth",
    ]);
    ok(await service.approve(rui, created.change.id, created.change.contentHash));
    ok(await service.approve(mei, created.change.id, created.change.contentHash));
    ok(await service.startRollout(ops, created.change.id));

    const serving = await service.servingConfiguration();
    expect(serving.rollout?.shareBps).toBe(100);
    expect(serving.stable.find((document) => document.id === coffee.id)).toEqual(coffee);
    expect(serving.rollout?.documents.find((document) => document.id === coffee.id)).toEqual(
      generous,
    );

    // Forecast 2 fen per payment; the stage sees 9 fen per payment.
    ok(
      await service.observe(
        created.change.id,
        { payments: 2_000, subsidisedPayments: 800, subsidyMinor: 18_000 },
        new Date(clock.nowMs).toISOString(),
      ),
    );
    const judged = ok(await service.judge(created.change.id));
    expect(judged.verdict.verdict).toBe("abort_subsidy_mismatch");
    expect(judged.change.state).toBe("rolled_back");
    expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
      coffee,
    );
    expect((await service.servingConfiguration()).rollout).toBeUndefined();
  });

  test("a rollout that matches its forecast advances stage by stage after each dwell, then rollback restores", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const renamed: Campaign = { ...coffee, name: "Coffee, renamed" };
    const created = ok(await service.create(ana, "rename", [{ op: "put", document: renamed }]));
    ok(await service.submit(ana, created.change.id, []));
    ok(await service.startRollout(ops, created.change.id));
    // The default plan, 1 % → 10 % → 50 % → 100 %, each stage held through its dwell.
    await walkRollout(service, created.change.id, clock, {
      payments: 1_000,
      subsidisedPayments: 400,
      subsidyMinor: 2_000,
    });
    expect((await service.show(created.change.id))!.state).toBe("active");
    expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
      renamed,
    );

    expect(await service.rollBack(ops, created.change.id, "no")).toMatchObject({
      code: "reason_required",
    });
    ok(await service.rollBack(ops, created.change.id, "the name confused the cashier screen"));
    expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
      coffee,
    );
  });

  test("every action is in the audit log, and the chain verifies", async () => {
    const created = ok(
      await service.create(ana, "retire coffee", [
        { op: "retire", key: "campaign/idc-coffee-afternoon-tea" },
      ]),
    );
    ok(await service.submit(ana, created.change.id, []));
    ok(await service.reject(rui, created.change.id, "the campaign still has budget left"));
    const entries = await audit.read(1, 1_000);
    expect(entries.slice(-3).map((entry) => [entry.action, entry.actor, entry.subject])).toEqual([
      ["change.created", "ana", `change/${created.change.id}`],
      ["change.submitted", "ana", `change/${created.change.id}`],
      ["change.rejected", "rui", `change/${created.change.id}`],
    ]);
    expect((await audit.verify()).ok).toBe(true);
  });

  test("one change rolls out at a time", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const lunch = campaign("idc-gd-lunch-qr");
    const first = ok(
      await service.create(ana, "a", [{ op: "put", document: { ...coffee, name: "a" } }]),
    );
    const second = ok(
      await service.create(ana, "b", [{ op: "put", document: { ...lunch, name: "b" } }]),
    );
    ok(await service.submit(ana, first.change.id, []));
    ok(await service.submit(ana, second.change.id, []));
    const backwards = {
      ...defaultRolloutPlan(1_000),
      stages: [...defaultRolloutPlan(1_000).stages].reverse(),
    };
    expect(await service.startRollout(ops, first.change.id, backwards)).toMatchObject({
      code: "invalid_rollout_plan",
    });
    // Started at once: the store lets one through, the other learns why it was refused.
    const results = await Promise.all([
      service.startRollout(ops, first.change.id),
      service.startRollout(ops, second.change.id),
    ]);
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.find((result) => !result.ok)).toMatchObject({ code: "rollout_in_progress" });
    expect(await service.startRollout(ops, second.change.id)).toMatchObject({
      ok: false,
    });
  });

  test("an operator lowers a budget at once, alone, audited; undoing it takes a change request", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const lowered: Campaign = {
      ...coffee,
      limits: { ...coffee.limits, totalBudgetMinor: coffee.limits.totalBudgetMinor - 100 },
    };
    const reason = "finance cut the quarter's budget";
    expect(await service.lowerLimits(rui, lowered, reason)).toMatchObject({ code: "role_missing" });
    const raised: Campaign = {
      ...coffee,
      limits: { ...coffee.limits, totalBudgetMinor: coffee.limits.totalBudgetMinor + 100 },
    };
    expect(await service.lowerLimits(ops, raised, reason)).toMatchObject({
      code: "not_a_lowering",
    });

    const done = ok(await service.lowerLimits(ops, lowered, reason));
    expect(done.change).toMatchObject({
      state: "active",
      operatorAction: { kind: "lower_limits", reason },
    });
    expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
      lowered,
    );
    const [entry] = (await audit.read(1, 1_000)).slice(-1);
    expect(entry).toMatchObject({
      action: "budget.lowered",
      actor: "ops",
      reason,
      details: {
        document: `campaign/${coffee.id}`,
        lowered: [
          {
            field: "limits.totalBudgetMinor",
            beforeMinor: coffee.limits.totalBudgetMinor,
            afterMinor: coffee.limits.totalBudgetMinor - 100,
          },
        ],
      },
    });
    expect(await service.rollBack(ops, done.change.id, "undo the cut, please")).toMatchObject({
      code: "operator_action_final",
    });
  });

  test("an operator pauses a campaign alone; it leaves what is served; resuming takes review", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const reason = "complaints about the afternoon offer";
    expect(await service.pause(rui, coffee.id, reason)).toMatchObject({ code: "role_missing" });
    expect(await service.pause(ops, "no-such-campaign", reason)).toMatchObject({
      code: "document_not_found",
    });
    const paused = ok(await service.pause(ops, coffee.id, reason));
    expect(paused.change).toMatchObject({
      state: "active",
      operatorAction: { kind: "pause", reason },
    });
    expect(await service.pause(ops, coffee.id, reason)).toMatchObject({ code: "not_a_pause" });
    expect(await service.rollBack(ops, paused.change.id, "resume it, please")).toMatchObject({
      code: "operator_action_final",
    });
    const [entry] = (await audit.read(1, 1_000)).slice(-1);
    expect(entry).toMatchObject({ action: "campaign.paused", actor: "ops", reason });

    const served = resolveConfig(
      (await service.servingConfiguration()).stable.map((document) => ({
        source: document.id,
        document,
      })),
    ).config;
    const built = buildSnapshot(served, { version: 1, randomSeed: 1 });
    expect(
      built.ok && built.snapshot.campaigns.map((effective) => effective.campaign.id),
    ).not.toContain(coffee.id);
    expect(built.ok && built.snapshot.campaigns.length).toBe(served.campaigns.length - 1);

    const resumed = ok(
      await service.create(ana, "resume coffee", [{ op: "put", document: coffee }]),
    );
    const submitted = ok(await service.submit(ana, resumed.change.id, []));
    expect(submitted.change.state).toBe("in_review");
    expect(submitted.change.assessment?.risk.reasons.map((reason) => reason.code)).toContain(
      "campaign_resumed",
    );
  });

  test("a campaign rolling out is paused or lowered only after its rollout is rolled back", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const renamed: Campaign = { ...coffee, name: "Coffee, renamed" };
    const created = ok(await service.create(ana, "rename", [{ op: "put", document: renamed }]));
    ok(await service.submit(ana, created.change.id, []));
    ok(await service.startRollout(ops, created.change.id));
    const reason = "complaints about the afternoon offer";
    expect(await service.pause(ops, coffee.id, reason)).toMatchObject({
      code: "rollout_in_progress",
    });
    const lowered = { ...renamed, limits: { ...renamed.limits, totalBudgetMinor: 1 } };
    expect(await service.lowerLimits(ops, lowered, reason)).toMatchObject({
      code: "rollout_in_progress",
    });
    // Other campaigns stay in the operator's hands meanwhile.
    ok(await service.pause(ops, "idc-gd-lunch-qr", reason));
    ok(await service.rollBack(ops, created.change.id, "pausing the campaign instead"));
    ok(await service.pause(ops, coffee.id, reason));
    const served = (await service.servingConfiguration()).stable.find(
      (document) => document.id === coffee.id,
    );
    expect(served).toEqual({ ...coffee, paused: true });
  });

  test("what rolls out is what was assessed: a change approved before the configuration moved is sent back", async () => {
    const coffee = campaign("idc-coffee-afternoon-tea");
    const lunch = campaign("idc-gd-lunch-qr");
    const renamed: Campaign = { ...coffee, name: "Coffee, renamed" };
    const created = ok(await service.create(ana, "rename", [{ op: "put", document: renamed }]));
    expect(ok(await service.submit(ana, created.change.id, [])).change.state).toBe("approved");
    // Meanwhile something else changes what the approval was about.
    const lowered = {
      ...lunch,
      limits: { ...lunch.limits, totalBudgetMinor: lunch.limits.totalBudgetMinor - 1 },
    };
    ok(await service.lowerLimits(ops, lowered, "finance cut the quarter"));
    expect(await service.startRollout(ops, created.change.id)).toMatchObject({
      code: "assessment_outdated",
    });
    ok(await service.edit(ana, created.change.id, [{ op: "put", document: renamed }]));
    expect(ok(await service.submit(ana, created.change.id, [])).change.state).toBe("approved");
    ok(await service.startRollout(ops, created.change.id));
  });

  test("the serving configuration never mixes a rollout that ended between its reads", async () => {
    // A store whose first read of the versions lets a rollback land before it answers.
    class RacingStore extends MemoryChangeStore {
      interleave: (() => Promise<unknown>) | undefined;
      override async latestVersions() {
        const versions = await super.latestVersions();
        const step = this.interleave;
        this.interleave = undefined;
        if (step !== undefined) await step();
        return versions;
      }
    }
    const store = new RacingStore(new MemoryAuditLogStore());
    const racing = new ChangeService({
      store,
      assess: async () => calm,
      now: () => new Date(clock.nowMs).toISOString(),
    });
    const coffee = campaign("idc-coffee-afternoon-tea");
    const seed = ok(await racing.create(ana, "seed", [{ op: "put", document: coffee }]));
    ok(await racing.submit(ana, seed.change.id, []));
    ok(await racing.startRollout(ops, seed.change.id, TWO_STAGES));
    store.interleave = () =>
      racing.rollBack(ops, seed.change.id, "the rollout is stopped meanwhile");
    // The first read saw the change rolling out with its version; the rollback ended it before
    // the second: the answer is what holds after it, with no rollout and nothing of it served.
    // (The rollback's version retires the campaign: it is listed, with nothing served under it.)
    expect(await racing.servingConfiguration()).toEqual({
      stable: [],
      stableVersions: new Map([["campaign/idc-coffee-afternoon-tea", 2]]),
    });
  });
});
