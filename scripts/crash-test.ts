/**
 * The SQLite ledger crash test on demand, for thousands of kills (CI runs 50 in
 * test/crash/sqlite-crash.test.ts; docs/reference/crash-test.md explains both):
 *
 *   node --import tsx scripts/crash-test.ts --kills 2000 [--seed N] [--verify-every N] [--keep]
 *
 * Prints the seed first, progress after each verification and a summary at the end. Exit code 0:
 * no violation; 1: a violation or a failed run (a generator that stopped by itself, a store that
 * would not open); 2: bad arguments.
 */
import { randomInt } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  ChildRegistry,
  type CrashLoopProgress,
  type CrashLoopSummary,
  runCrashLoop,
} from "../test/crash/crash-loop.ts";
import type { CrashViolation } from "../test/crash/crash-verifier.ts";

const KILLS_MAX = 1_000_000;
const VIOLATIONS_SHOWN = 20;
const USAGE =
  "usage: node --import tsx scripts/crash-test.ts --kills N [--seed N] [--verify-every N] [--keep]";

interface ScriptOptions {
  readonly kills: number;
  readonly seed: number;
  readonly verifyEvery: number;
  readonly keep: boolean;
}

function wholeNumber(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${text}`);
  }
  return value;
}

function parseOptions(argv: readonly string[]): ScriptOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      kills: { type: "string" },
      seed: { type: "string" },
      "verify-every": { type: "string" },
      keep: { type: "boolean", default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.kills === undefined) throw new Error("--kills is required");
  const kills = wholeNumber("kills", values.kills, 1, KILLS_MAX);
  return {
    kills,
    seed:
      values.seed === undefined
        ? randomInt(0, 2 ** 32)
        : wholeNumber("seed", values.seed, 0, 2 ** 32 - 1),
    // Verifying costs about as much as a few kills; every 50 keeps it a small share.
    verifyEvery:
      values["verify-every"] === undefined
        ? Math.min(50, kills)
        : wholeNumber("verify-every", values["verify-every"], 1, KILLS_MAX),
    keep: values.keep ?? false,
  };
}

function describeProgress(progress: CrashLoopProgress, killsTarget: number): string {
  const seconds = (progress.elapsedMs / 1000).toFixed(0);
  return (
    `kills ${progress.killsUnderLoad}/${killsTarget} under load + ${progress.killsWhileOpening} while opening, ` +
    `${progress.counts.decisions} decisions, ${progress.payments} payments stored, ` +
    `store open ${progress.openMsLast} ms (max ${progress.openMsMax}), ` +
    `${progress.violations.length} violations, ${seconds} s`
  );
}

function describeSummary(summary: CrashLoopSummary): string {
  const refusals = Object.entries(summary.counts.refusals)
    .map(([code, count]) => `${code} ${count}`)
    .join(", ");
  return [
    `seed ${summary.seed}`,
    `kills: ${summary.killsUnderLoad} under load, ${summary.killsWhileOpening} while opening, ${summary.runs} runs`,
    `acknowledged: ${summary.counts.reserveAcknowledgements} reserve answers (${summary.counts.decisions} decisions: ` +
      `${summary.counts.reserved} reserved, ${summary.counts.noSubsidy} no subsidy; ${summary.counts.replays} replays; ` +
      `${summary.counts.conflicts} conflicts), ${summary.counts.settleAcknowledgements} settlements, ` +
      `${summary.counts.tornRecords} torn last records`,
    `refusals: ${refusals || "none"}`,
    `verified ${summary.verifications} times; ${summary.replayedAtEnd} acknowledged answers replayed at the end; ` +
      `${summary.payments} payments stored; ${summary.expiredAtOpen} reservations expired at verification opens`,
    `time: ${(summary.elapsedMs / 1000).toFixed(1)} s; opening the store took up to ${summary.openMsMax} ms`,
    summary.violations.length === 0 ? "violations: none" : describeViolations(summary.violations),
  ].join("\n");
}

/** How many of each check failed, then the first few in full. */
function describeViolations(violations: readonly CrashViolation[]): string {
  const byCheck = new Map<string, number>();
  for (const violation of violations) {
    byCheck.set(violation.check, (byCheck.get(violation.check) ?? 0) + 1);
  }
  const counts = [...byCheck].map(([check, count]) => `${check} ${count}`).join(", ");
  const first = violations
    .slice(0, VIOLATIONS_SHOWN)
    .map((violation) => `  ${violation.check}: ${violation.detail}`);
  return [`violations: ${violations.length} (${counts})`, ...first].join("\n");
}

async function main(): Promise<number> {
  let options: ScriptOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  const directory = mkdtempSync(join(tmpdir(), "bursar-crash-"));
  const children = new ChildRegistry();
  const stop = () => {
    // An interrupt must not leave generators or files behind.
    void children.killAll().then(() => {
      if (!options.keep) rmSync(directory, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  process.stdout.write(`crash test seed ${options.seed} (replay with --seed ${options.seed})\n`);
  process.stdout.write(`working in ${directory}\n`);
  try {
    const summary = await runCrashLoop(
      {
        directory,
        killsUnderLoad: options.kills,
        seed: options.seed,
        verifyEveryKills: options.verifyEvery,
        onProgress: (progress) =>
          process.stdout.write(`${describeProgress(progress, options.kills)}\n`),
      },
      children,
    );
    process.stdout.write(`${describeSummary(summary)}\n`);
    return summary.violations.length === 0 ? 0 : 1;
  } catch (error) {
    process.stderr.write(
      `crash test failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  } finally {
    await children.killAll();
    if (options.keep) process.stdout.write(`kept ${directory}\n`);
    else rmSync(directory, { recursive: true, force: true });
  }
}

process.exitCode = await main();
