/**
 * Guard mode's replay against the guard issue's targets for every seed 1–20 at the default rate
 * (the default seed is in guard-mode-replay.test.ts): the external engine's variant detected
 * within 2 s of the first subsidy Bursar allowed, costing at most 0.1 % of what it cost
 * unchecked, no protected-scenario payment subsidised in either guarded run, the runaway
 * campaign killed, and nothing tripped before the edit.
 */
import { expect, test } from "vitest";
import { runGuardModeReplay } from "../../src/demo/guard-mode-replay.ts";
import { REPLAY_DEFAULTS } from "../../src/demo/incident-replay.ts";
import { expectTargetsMet, replayExamples } from "./replay-fixtures.ts";

const SEEDS = Array.from({ length: 20 }, (_, index) => index + 1);

test.each(SEEDS)(
  "seed %i meets the targets in guard mode",
  async (seed) => {
    const replay = await runGuardModeReplay({
      seed,
      tps: REPLAY_DEFAULTS.tps,
      examples: await replayExamples(),
    });
    expect(replay.json.seed).toBe(seed);
    expectTargetsMet(replay.json);
    expect(replay.forced.response?.killedCampaignIds.length).toBeGreaterThan(0);
    expect(replay.forced.tripsBeforeChange + replay.forcedAsIs.tripsBeforeChange).toBe(0);
  },
  600_000,
);
