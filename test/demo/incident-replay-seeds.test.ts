/**
 * Issue #7's targets for every seed 1–20 at the default rate (the default seed is in
 * incident-replay.test.ts): the forced variant detected within 2 s of its first subsidy, costing
 * at most 0.1 % of what it cost without Bursar, and no protected-scenario payment subsidised in
 * either guarded run.
 */
import { expect, test } from "vitest";
import { REPLAY_DEFAULTS, runIncidentReplay } from "../../src/demo/incident-replay.ts";
import { expectTargetsMet, replayExamples } from "./replay-fixtures.ts";

const SEEDS = Array.from({ length: 20 }, (_, index) => index + 1);

test.each(SEEDS)(
  "seed %i meets the replay's targets",
  async (seed) => {
    const replay = await runIncidentReplay({
      seed,
      tps: REPLAY_DEFAULTS.tps,
      examples: await replayExamples(),
    });
    expect(replay.json.seed).toBe(seed);
    expectTargetsMet(replay.json);
  },
  600_000,
);
