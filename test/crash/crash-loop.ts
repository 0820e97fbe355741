/**
 * The crash loop shared by the Vitest suite and `scripts/crash-test.ts`: fund the budgets once,
 * then again and again start the load generator on the same database file, wait a random time,
 * SIGKILL it, and every so often (and after the last kill) verify the file against the
 * acknowledgement logs (crash-verifier.ts).
 *
 * Most kills land under load, a random 50–400 ms after the generator says it is ready; some land
 * while it is still opening the store (migrations, reconciliation, expiry at open), so recovery
 * itself gets killed too. Timing comes from one seeded random source: the same seed gives the same
 * schedule and the same generator choices (the interleaving inside a run still varies).
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";
import {
  type AcknowledgementCounts,
  CrashLedgerVerifier,
  type CrashViolation,
} from "./crash-verifier.ts";
import {
  CRASH_CAMPAIGNS,
  CRASH_RUNS_PER_DAY,
  crashCampaignId,
  crashDayOfRun,
} from "./crash-workload.ts";

const PROJECT_ROOT = join(import.meta.dirname, "..", "..");
const GENERATOR = join(import.meta.dirname, "crash-load-generator.ts");
/** A generator that is not ready by then is stuck, which is a failure in itself. */
const READY_TIMEOUT_MS = 30_000;
/** Share of kills aimed at the opening of the store rather than at the load. */
const OPENING_KILL_SHARE = 0.15;
const OPENING_KILL_DELAY_MS_MAX = 60;
/** Of a generator's output, kept to explain why it failed. */
const STDERR_KEPT_CHARS = 4_000;
const FUNDED_AT_MS = Date.UTC(2025, 0, 16);

export interface CrashLoopOptions {
  /** An empty directory; the database and the acknowledgement logs go there. */
  readonly directory: string;
  /** Kills under load to perform; kills during opening come on top. */
  readonly killsUnderLoad: number;
  readonly seed: number;
  /** Verify after this many kills under load (and always after the last). */
  readonly verifyEveryKills: number;
  readonly killDelayMsMin?: number;
  readonly killDelayMsMax?: number;
  readonly concurrency?: number;
  /** Called after each verification. */
  readonly onProgress?: (progress: CrashLoopProgress) => void;
}

export interface CrashLoopProgress {
  readonly killsUnderLoad: number;
  readonly killsWhileOpening: number;
  readonly runs: number;
  readonly elapsedMs: number;
  readonly violations: readonly CrashViolation[];
  readonly counts: AcknowledgementCounts;
  readonly payments: number;
  readonly expiredAtOpen: number;
  /** The longest a generator took from `opening` to `ready`, and the latest. */
  readonly openMsMax: number;
  readonly openMsLast: number;
}

export interface CrashLoopSummary extends CrashLoopProgress {
  readonly seed: number;
  readonly verifications: number;
  readonly replayedAtEnd: number;
}

/**
 * Every child started and not yet reaped. A caller that gives up early (a failed assertion, an
 * interrupt) calls `killAll` so that no generator outlives it.
 */
export class ChildRegistry {
  private readonly children = new Set<ChildProcessWithoutNullStreams>();

  add(child: ChildProcessWithoutNullStreams): void {
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
  }

  get size(): number {
    return this.children.size;
  }

  async killAll(): Promise<void> {
    const exits = [...this.children].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            return;
          }
          child.once("exit", () => done());
          child.kill("SIGKILL");
        }),
    );
    await Promise.all(exits);
  }
}

/** Funds the campaigns of one day, once, from the test process while no generator runs. */
export async function fundCrashBudgets(databasePath: string, day: number): Promise<void> {
  const store = await SqliteLedgerStore.open({ path: databasePath, nowMs: Date.now });
  try {
    for (const campaign of CRASH_CAMPAIGNS) {
      const answer = await store.fund(
        `campaign/${crashCampaignId(campaign, day)}`,
        campaign.budgetMinor,
        `crash test budget of day ${day}`,
        FUNDED_AT_MS,
      );
      if (answer.code !== "funded") throw new Error(`funding failed: ${JSON.stringify(answer)}`);
    }
  } finally {
    await store.close();
  }
}

export async function runCrashLoop(
  options: CrashLoopOptions,
  children: ChildRegistry,
): Promise<CrashLoopSummary> {
  const startedMs = Date.now();
  const databasePath = join(options.directory, "ledger.sqlite");
  const acknowledgements = join(options.directory, "acknowledgements");
  mkdirSync(acknowledgements, { recursive: true });
  const random = new SeededRandom(options.seed);
  const verifier = new CrashLedgerVerifier(databasePath, acknowledgements);
  const violations: CrashViolation[] = [];
  const delayMin = options.killDelayMsMin ?? 50;
  const delayMax = options.killDelayMsMax ?? 400;
  let killsUnderLoad = 0;
  let killsWhileOpening = 0;
  let runs = 0;
  let verifications = 0;
  let payments = 0;
  let expiredAtOpen = 0;
  let replayedAtEnd = 0;
  let openMsMax = 0;
  let openMsLast = 0;
  const progress = (): CrashLoopProgress => ({
    killsUnderLoad,
    killsWhileOpening,
    runs,
    elapsedMs: Date.now() - startedMs,
    violations,
    counts: verifier.index.counts,
    payments,
    expiredAtOpen,
    openMsMax,
    openMsLast,
  });
  while (killsUnderLoad < options.killsUnderLoad) {
    if (runs % CRASH_RUNS_PER_DAY === 0) await fundCrashBudgets(databasePath, crashDayOfRun(runs));
    const atOpening = random.nextFloat() < OPENING_KILL_SHARE;
    const generator = startGenerator(
      options,
      databasePath,
      acknowledgements,
      runs,
      random.nextUint32(),
    );
    children.add(generator.child);
    runs += 1;
    await generator.waitForLine(atOpening ? "opening" : "ready");
    if (!atOpening) {
      // How long opening (migrations, reconciliation, expiry) took: it grows with the ledger.
      const openMs = generator.lineAtMs.get("ready")! - generator.lineAtMs.get("opening")!;
      openMsMax = Math.max(openMsMax, openMs);
      openMsLast = openMs;
    }
    const delayMs = atOpening
      ? Math.floor(random.nextFloat() * OPENING_KILL_DELAY_MS_MAX)
      : delayMin + Math.floor(random.nextFloat() * (delayMax - delayMin + 1));
    await sleep(delayMs);
    await generator.kill();
    if (atOpening) killsWhileOpening += 1;
    else killsUnderLoad += 1;
    const last = killsUnderLoad >= options.killsUnderLoad;
    if (!atOpening && (last || killsUnderLoad % options.verifyEveryKills === 0)) {
      const verification = await verifier.verify({
        replayAll: last,
        nowMs: Date.now(),
      });
      verifications += 1;
      violations.push(...verification.violations);
      payments = verification.payments;
      expiredAtOpen += verification.recovery.expiredReservations;
      if (last) replayedAtEnd = verification.replayed;
      options.onProgress?.(progress());
    }
  }
  return { ...progress(), seed: options.seed, verifications, replayedAtEnd };
}

function startGenerator(
  options: CrashLoopOptions,
  databasePath: string,
  acknowledgements: string,
  run: number,
  seed: number,
): GeneratorProcess {
  const args = [
    "--import",
    "tsx",
    GENERATOR,
    "--database",
    databasePath,
    "--acknowledgements",
    join(acknowledgements, `run-${String(run).padStart(6, "0")}.ndjson`),
    "--run",
    String(run),
    "--seed",
    String(seed),
    "--concurrency",
    String(options.concurrency ?? 48),
  ];
  return new GeneratorProcess(spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: "pipe" }));
}

/** A running generator, with the end of its stderr kept to explain a failure. */
class GeneratorProcess {
  private stdout = "";
  private stderr = "";
  private readonly lineWaiters: { word: string; done: () => void }[] = [];
  /** When each line's first word was first seen. */
  readonly lineAtMs = new Map<string, number>();

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on("data", (chunk: Buffer) => {
      this.stdout = (this.stdout + chunk.toString("utf8")).slice(-STDERR_KEPT_CHARS);
      const lines = this.stdout.split("\n");
      for (const line of lines) {
        const word = line.split(" ")[0]!;
        if (line.length > 0 && !this.lineAtMs.has(word)) this.lineAtMs.set(word, Date.now());
      }
      for (const waiter of this.lineWaiters.splice(0)) {
        if (lines.some((line) => line.startsWith(waiter.word))) waiter.done();
        else this.lineWaiters.push(waiter);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-STDERR_KEPT_CHARS);
    });
  }

  private stopped(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private describeEnd(): string {
    return `code ${this.child.exitCode}, signal ${this.child.signalCode}; stderr: ${this.stderr}`;
  }

  /** Resolves when the child prints a line starting with `word`; rejects if it exits first. */
  waitForLine(word: string): Promise<void> {
    if (this.stdout.split("\n").some((line) => line.startsWith(word))) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onExit = () => {
        clearTimeout(timer);
        reject(new Error(`the load generator ended before "${word}" (${this.describeEnd()})`));
      };
      const timer = setTimeout(() => {
        this.child.off("exit", onExit);
        reject(new Error(`the load generator did not print "${word}" in ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      this.lineWaiters.push({
        word,
        done: () => {
          clearTimeout(timer);
          this.child.off("exit", onExit);
          resolve();
        },
      });
      this.child.once("exit", onExit);
    });
  }

  /** SIGKILLs the generator; one that already stopped by itself is a failure. */
  async kill(): Promise<void> {
    if (this.stopped())
      throw new Error(`the load generator stopped by itself (${this.describeEnd()})`);
    const exited = new Promise<void>((done) => this.child.once("exit", () => done()));
    this.child.kill("SIGKILL");
    await exited;
    if (this.child.signalCode !== "SIGKILL") {
      throw new Error(`the load generator did not end by SIGKILL (${this.describeEnd()})`);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
