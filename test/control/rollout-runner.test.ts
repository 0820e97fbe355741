/**
 * The rollout runner over synthetic traffic: identities in the stage's buckets get the new
 * configuration and everyone else the stable one; what the stage grants is reported and judged
 * against the forecast; a change forecast by simulating the same traffic goes stage by stage to
 * active, one whose forecast does not match what it grants is aborted and the stable
 * configuration is served again.
 */
import { beforeEach, describe, expect, test } from "vitest";
import { lintAndSimulate } from "../../src/control/assess-proposal.ts";
import { type AssessProposal, ChangeService } from "../../src/control/change-service.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import { RolloutRunner } from "../../src/control/rollout-runner.ts";
import type { Principal } from "../../src/core/change/change-request.ts";
import { isInRollout, type RolloutPlan } from "../../src/core/change/rollout.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import { buildSnapshot } from "../../src/core/evaluator/snapshot.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { exampleDocuments, replaced, resolve } from "../change/change-fixtures.ts";

const ana: Principal = { id: "ana", roles: ["author"] };
const rui: Principal = { id: "rui", roles: ["reviewer"] };
const mei: Principal = { id: "mei", roles: ["reviewer"] };
const ops: Principal = { id: "ops", roles: ["operator"] };
const START_MS = Date.parse("2025-01-16T06:40:00.000Z");

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

function traffic(seconds: number, startMs = START_MS) {
  const created = TrafficGenerator.create({ seed: 11, tps: 200, seconds, startMs });
  if (!created.ok) throw new Error("traffic options");
  return created.generator;
}

const clock = { nowMs: START_MS };
let service: ChangeService;
let assessment: AssessProposal;
let documents: ConfigDocument[];

beforeEach(async () => {
  clock.nowMs = START_MS;
  const real = lintAndSimulate({
    payments: () => traffic(120),
    currency: "CNY",
    sample: "synthetic traffic for the test",
    randomSeed: 1,
    nowMs: () => clock.nowMs,
  });
  assessment = real;
  service = new ChangeService({
    store: new MemoryChangeStore(new MemoryAuditLogStore()),
    assess: (proposal) => assessment(proposal),
    now: () => new Date(clock.nowMs).toISOString(),
  });
  documents = await exampleDocuments();
  const seed = ok(
    await service.create(
      ana,
      "import the examples",
      documents.map((document) => ({ op: "put", document })),
    ),
  );
  const refused = await service.submit(ana, seed.change.id, []);
  const keys = [...(refused.ok ? "" : refused.message).matchAll(/lint\.[a-z_]+\|[^,\s]+/g)].map(
    ([key]) => key,
  );
  ok(
    await service.submit(
      ana,
      seed.change.id,
      keys.map((findingKey) => ({ findingKey, reason: "reviewed at import", byId: "ana" })),
    ),
  );
  ok(await service.approve(rui, seed.change.id, seed.change.contentHash));
  ok(await service.approve(mei, seed.change.id, seed.change.contentHash));
  // The import rolls out like any change, judged on the same traffic its forecast was
  // simulated on, so it completes: 10 % for a minute, then everyone.
  ok(await service.startRollout(ops, seed.change.id, twoStages));
  const runner = await RolloutRunner.open(service, { randomSeed: 1, judgeEveryMs: 5_000 });
  await play(runner, 80, START_MS);
  expect((await service.show(seed.change.id))?.state).toBe("active");
});

/** Submits and approves an edit of the coffee campaign, and starts its rollout with `plan`. */
async function rollOut(edited: Campaign, plan: RolloutPlan): Promise<string> {
  const created = ok(await service.create(ana, "coffee change", [{ op: "put", document: edited }]));
  const submitted = await service.submit(ana, created.change.id, []);
  const keys = [...(submitted.ok ? "" : submitted.message).matchAll(/lint\.[a-z_]+\|[^,\s]+/g)].map(
    ([key]) => key,
  );
  if (!submitted.ok)
    ok(
      await service.submit(
        ana,
        created.change.id,
        keys.map((findingKey) => ({ findingKey, reason: "reviewed in the test", byId: "ana" })),
      ),
    );
  const change = (await service.show(created.change.id))!;
  if (change.state === "in_review") {
    ok(await service.approve(rui, change.id, change.contentHash));
    if ((await service.show(change.id))!.state === "in_review")
      ok(await service.approve(mei, change.id, change.contentHash));
  }
  ok(await service.startRollout(ops, change.id, plan));
  return change.id;
}

/** Plays `seconds` of traffic through the runner, reporting when due, as a server would. */
async function play(runner: RolloutRunner, seconds: number, startMs: number) {
  const decisions = [];
  for (const payment of traffic(seconds, startMs)) {
    clock.nowMs = payment.atMs;
    if (runner.isReportDue(payment.atMs)) await runner.report(payment.atMs);
    decisions.push({
      payment,
      shareBps: runner.rollout?.shareBps ?? 0,
      decision: runner.quote(payment),
    });
  }
  return decisions;
}

const twoStages: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 100_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 200,
};

describe("the rollout runner", () => {
  test("serves the change only to identities in the stage's buckets", async () => {
    const coffee = documents.find(
      (document) => document.id === "idc-coffee-afternoon-tea",
    ) as Campaign;
    const generous: Campaign = { ...coffee, offer: { amountMinor: 200 } };
    await rollOut(generous, twoStages);
    const runner = await RolloutRunner.open(service, { randomSeed: 1, judgeEveryMs: 1_000_000 });
    expect(runner.rollout?.shareBps).toBe(1_000);

    const stable = createFastEvaluator(snapshotOf(documents));
    const proposed = createFastEvaluator(snapshotOf(replaced(documents, generous)));
    const played = await play(runner, 20, START_MS);
    let inside = 0;
    for (const { payment, decision } of played) {
      const expected = isInRollout(payment.userId, 1_000)
        ? proposed.quote(payment)
        : stable.quote(payment);
      if (isInRollout(payment.userId, 1_000)) inside += 1;
      expect(decision.totalSubsidyMinor).toBe(expected.totalSubsidyMinor);
    }
    expect(inside).toBeGreaterThan(played.length * 0.05);
    expect(inside).toBeLessThan(played.length * 0.15);
  });

  test("a change whose forecast matches what it grants goes stage by stage to active", async () => {
    const coffee = documents.find(
      (document) => document.id === "idc-coffee-afternoon-tea",
    ) as Campaign;
    const changeId = await rollOut({ ...coffee, offer: { amountMinor: 80 } }, twoStages);
    const runner = await RolloutRunner.open(service, { randomSeed: 1, judgeEveryMs: 10_000 });
    await play(runner, 120, START_MS);
    expect(runner.events.map((event) => [event.verdict.verdict, event.shareBpsAfter])).toEqual([
      ["advance", 10_000],
      ["complete", 10_000],
    ]);
    expect((await service.show(changeId))!.state).toBe("active");
    expect(runner.rollout).toBeUndefined();
  });

  test("a change that grants far more than its forecast is aborted, and the stable configuration is served again", async () => {
    const coffee = documents.find(
      (document) => document.id === "idc-coffee-afternoon-tea",
    ) as Campaign;
    // The forecast says the change moves no money (as a sample from the wrong hour might);
    // the stage then sees every payment subsidised as the whole configuration subsidises it.
    assessment = async (proposal) => ({
      ...(await lintAndSimulate({
        payments: () => traffic(120),
        currency: "CNY",
        sample: "synthetic traffic for the test",
        randomSeed: 1,
        nowMs: () => clock.nowMs,
      })(proposal)),
      forecast: { subsidyPerPaymentMilliMinor: 1, subsidisedShareBps: 1 },
    });
    const changeId = await rollOut({ ...coffee, offer: { amountMinor: 200 } }, twoStages);
    const runner = await RolloutRunner.open(service, { randomSeed: 1, judgeEveryMs: 5_000 });
    const played = await play(runner, 60, START_MS);
    expect(runner.events.map((event) => [event.verdict.verdict, event.shareBpsAfter])).toEqual([
      ["abort_subsidy_mismatch", 0],
    ]);
    expect((await service.show(changeId))!.state).toBe("rolled_back");
    expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
      coffee,
    );
    // After the abort, nobody is served the change.
    const after = played.filter(({ payment }) => payment.atMs > runner.events[0]!.atMs);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every(({ shareBps }) => shareBps === 0)).toBe(true);
  });
});

function snapshotOf(config: ConfigDocument[]) {
  const built = buildSnapshot(resolve(config), { version: 1, randomSeed: 1 });
  if (!built.ok) throw new Error(built.message);
  return built.snapshot;
}
