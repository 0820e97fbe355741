/**
 * Rollout steps the change-pipeline tests share: a plan every check accepts, and walking a
 * change through it with a stated observation per stage (what a runner would report).
 */
import { expect } from "vitest";
import type { ChangeService } from "../../src/control/change-service.ts";
import type { Principal } from "../../src/core/change/change-request.ts";
import type { RolloutPlan, StageObservation } from "../../src/core/change/rollout.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";

/** 10 % for a minute, then everyone; judged on 100 payments within ±50 %. */
export const TWO_STAGES: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 100,
};

/**
 * Reports `seen` for every stage at the clock's time, holds through each dwell, and expects the
 * change to end active; `clock.nowMs` moves on by each dwell.
 */
export async function walkRollout(
  service: ChangeService,
  id: string,
  clock: { nowMs: number },
  seen: StageObservation,
): Promise<void> {
  for (let stage = 0; ; stage += 1) {
    const at = new Date(clock.nowMs).toISOString();
    const observed = await service.observe(id, seen, at);
    expect(observed.ok).toBe(true);
    const judged = await service.judge(id);
    if (!judged.ok) throw new Error(`stage ${stage + 1}: ${judged.message}`);
    if (judged.verdict.verdict === "complete") break;
    expect(judged.verdict.verdict).toBe("hold");
    clock.nowMs += judged.change.rollout!.plan.stages[stage]!.dwellMinMs;
    const advanced = await service.judge(id);
    if (!advanced.ok) throw new Error(advanced.message);
    expect(advanced.verdict.verdict).toBe("advance");
  }
  expect((await service.show(id))?.state).toBe("active");
}

/**
 * The documents as one change by `author`, approved by two reviewers and walked to active in two
 * stages; the service's assessment must forecast nothing (nothing is active before it).
 */
export async function importAsActive(
  service: ChangeService,
  clock: { nowMs: number },
  people: { author: Principal; reviewers: readonly [Principal, Principal]; operator: Principal },
  documents: readonly ConfigDocument[],
): Promise<void> {
  const created = await service.create(
    people.author,
    "import the examples",
    documents.map((document) => ({ op: "put", document })),
  );
  if (!created.ok) throw new Error(created.message);
  const id = created.change.id;
  const steps = [
    () => service.submit(people.author, id, []),
    () => service.approve(people.reviewers[0], id, created.change.contentHash),
    () => service.approve(people.reviewers[1], id, created.change.contentHash),
    () => service.startRollout(people.operator, id, TWO_STAGES),
  ];
  for (const step of steps) {
    const result = await step();
    if (!result.ok) throw new Error(`importing: ${result.code}: ${result.message}`);
  }
  await walkRollout(service, id, clock, { payments: 100, subsidisedPayments: 0, subsidyMinor: 0 });
}
