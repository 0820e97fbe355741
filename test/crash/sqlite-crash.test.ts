/**
 * The SQLite ledger store through real crashes (DESIGN §3, principles 4–6): a load generator
 * process is SIGKILLed at random moments, at least 50 times under load, on one database file,
 * and the file is checked against the answers the generators recorded outside the store
 * (crash-verifier.ts lists the checks). `CRASH_SEED=N` replays a run's kill schedule;
 * docs/reference/crash-test.md explains, and `scripts/crash-test.ts` does thousands of kills.
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ChildRegistry, type CrashLoopSummary, runCrashLoop } from "./crash-loop.ts";

const KILLS_UNDER_LOAD = 50;
const VERIFY_EVERY_KILLS = 10;

function seedFromEnvironment(): number {
  const text = process.env.CRASH_SEED;
  if (text === undefined || text === "") return randomInt(0, 2 ** 32);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`CRASH_SEED must be a whole number from 0 to 2^32 - 1, got ${text}`);
  }
  return seed;
}

const seed = seedFromEnvironment();
const directory = mkdtempSync(join(tmpdir(), "bursar-crash-"));
const children = new ChildRegistry();

afterAll(async () => {
  // Whatever happened above, no generator outlives the suite and nothing is left on disk.
  await children.killAll();
  rmSync(directory, { recursive: true, force: true });
});

describe("SQLite ledger store under SIGKILL", () => {
  let summary: CrashLoopSummary | undefined;

  test(`${KILLS_UNDER_LOAD} kills under load lose nothing acknowledged, overspend nothing, duplicate nothing (seed ${seed})`, async () => {
    // Printed first, so that a run that fails or hangs can be replayed.
    console.info(`crash test seed ${seed}: replay with CRASH_SEED=${seed}`);
    let run: CrashLoopSummary;
    try {
      run = await runCrashLoop(
        { directory, killsUnderLoad: KILLS_UNDER_LOAD, seed, verifyEveryKills: VERIFY_EVERY_KILLS },
        children,
      );
    } finally {
      await children.killAll();
    }
    summary = run;
    console.info(
      `crash test seed ${seed}: ${run.killsUnderLoad} kills under load + ${run.killsWhileOpening} while opening, ` +
        `${run.counts.decisions} decisions, ${run.counts.replays} replays, ${run.counts.conflicts} conflicts, ` +
        `${run.counts.settleAcknowledgements} settlements, ${run.replayedAtEnd} answers replayed at the end, ` +
        `${run.expiredAtOpen} expired at open, opening took up to ${run.openMsMax} ms, ${run.elapsedMs} ms`,
    );
    expect(run.violations).toEqual([]);
    expect(children.size).toBe(0);
  }, 180_000);

  // The run above proves something only if the load reached the places where bugs would show.
  test("the load was real: duplicates, retries, conflicts, exhausted budgets and caps", () => {
    if (summary === undefined) throw new Error("the crash loop did not complete");
    expect(summary.killsUnderLoad).toBeGreaterThanOrEqual(KILLS_UNDER_LOAD);
    expect(summary.verifications).toBeGreaterThanOrEqual(KILLS_UNDER_LOAD / VERIFY_EVERY_KILLS);
    expect(summary.counts.reserved).toBeGreaterThan(1_000);
    expect(summary.counts.replays).toBeGreaterThan(100);
    expect(summary.counts.conflicts).toBeGreaterThan(0);
    expect(summary.counts.settleAcknowledgements).toBeGreaterThan(100);
    expect(summary.replayedAtEnd).toBeGreaterThan(1_000);
    expect(summary.counts.refusals.budget_exhausted ?? 0).toBeGreaterThan(0);
    expect(summary.counts.refusals.identity_cap_reached ?? 0).toBeGreaterThan(0);
  });
});
