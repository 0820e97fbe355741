/**
 * kill.propagation*: how long a kill takes from its COMMIT to the first refusal in every
 * evaluator process (DESIGN §3.8 "takes effect within a second", issue 7).
 *
 * Real child processes (`bench/kill-propagation-child.ts`), each a kill watcher on PostgreSQL and
 * the coffee evaluator guarded by it, quoting every millisecond. The parent publishes a kill of
 * the coffee campaign, takes the time as soon as the publish (its COMMIT) returns, and waits for
 * each child's first refusal; then clears the kill and waits until every child grants again, and
 * waits a seeded random 0–100 ms so that kills do not fall in step with the children's polls.
 * Times are `performance.timeOrigin + performance.now()` in each process (one machine).
 *
 * - `kill.propagation.max_ms`, `kill.propagation.p50_ms`: with notifications (LISTEN/NOTIFY) and
 *   polling every 250 ms. Target max ≤ 1,000.
 * - `kill.propagation.polling_only.max_ms`: the same without notifications. Target ≤ 2,000.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { PostgresKillStore } from "../src/stores/postgres/postgres-kill-store.ts";
import { createFreshDatabase, findOrStartPostgres } from "../test/support/postgres-server.ts";
import type { Benchmark, BenchmarkContext } from "./benchmark.ts";

const CHILD = fileURLToPath(new URL("./kill-propagation-child.ts", import.meta.url));
/** The campaign the runs kill: the coffee snapshot's only one (test/support/snapshots.ts). */
const KILLED_CAMPAIGN_ID = "sh-coffee";
const SEED = 20250116;
const PROCESSES = 2;
const KILLS = 100;
const POLL_MS = 250;
const ALLOWED_STALENESS_MS = 1_000;
/** A child that has not answered by then is broken, not slow: the run fails. */
const ANSWER_TIMEOUT_MS = 10_000;
const JITTER_MS_MAX = 100;

export interface KillPropagationOptions {
  readonly url: string;
  readonly schema: string;
  readonly processes: number;
  readonly kills: number;
  readonly notifications: boolean;
  readonly pollMs?: number;
  readonly allowedStalenessMs?: number;
  readonly seed?: number;
  readonly progress?: (message: string) => void;
}

export interface KillPropagation {
  /** One per kill and process: COMMIT returned in the parent → first refusal in the child, ≥ 0. */
  readonly delaysMs: readonly number[];
  readonly maxMs: number;
  readonly p50Ms: number;
  /** Refusals whose reason was not `guard.killed` (e.g. a stale watcher failing closed). */
  readonly otherReasons: readonly string[];
}

interface ChildEvent {
  readonly event: "refused" | "granted";
  readonly atMs: number;
  readonly reason: string | null;
  readonly sequence: number;
}

/** Lines of one child's stdout, awaited one at a time with a time-out. */
class ChildLines {
  private readonly lines: string[] = [];
  private waiting: ((line: string) => void) | undefined;
  private exited: string | undefined;

  constructor(readonly child: ReturnType<typeof spawn>) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (this.waiting === undefined) this.lines.push(line);
      else {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(line);
      }
    });
    child.once("exit", (code, signal) => {
      this.exited = `exited ${code ?? signal}`;
    });
  }

  next(timeoutMs: number): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.exited !== undefined) return Promise.reject(new Error(`a child ${this.exited}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(
          new Error(`a child did not answer within ${timeoutMs} ms (${this.exited ?? "running"})`),
        );
      }, timeoutMs);
      this.waiting = (answer) => {
        clearTimeout(timer);
        resolve(answer);
      };
    });
  }
}

const wallMs = () => performance.timeOrigin + performance.now();

/** Publishes and clears `kills` kills; children are always killed at the end. */
export async function measureKillPropagation(
  options: KillPropagationOptions,
): Promise<KillPropagation> {
  const progress = options.progress ?? (() => {});
  const publisher = await PostgresKillStore.open({ url: options.url, schema: options.schema });
  const children = Array.from({ length: options.processes }, () =>
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CHILD,
        options.url,
        options.schema,
        options.notifications ? "1" : "0",
        String(options.pollMs ?? POLL_MS),
        String(options.allowedStalenessMs ?? ALLOWED_STALENESS_MS),
        KILLED_CAMPAIGN_ID,
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    ),
  );
  try {
    const lines = children.map((child) => new ChildLines(child));
    for (const each of lines) {
      const ready = await each.next(30_000);
      if (ready !== "ready") throw new Error(`a child said ${ready} instead of ready`);
    }
    const next = async (each: ChildLines, expected: ChildEvent["event"]) => {
      const event = JSON.parse(await each.next(ANSWER_TIMEOUT_MS)) as ChildEvent;
      if (event.event !== expected) throw new Error(`a child said ${event.event}, not ${expected}`);
      return event;
    };
    let random = options.seed ?? SEED;
    const delaysMs: number[] = [];
    const otherReasons: string[] = [];
    for (let round = 0; round < options.kills; round += 1) {
      // A seeded LCG: reproducible waits that keep kills out of step with the polls.
      random = (Math.imul(random, 1_664_525) + 1_013_904_223) >>> 0;
      await new Promise((resolve) => setTimeout(resolve, (random / 2 ** 32) * JITTER_MS_MAX));
      const refusals = lines.map((each) => next(each, "refused"));
      const published = await publisher.publishKill({
        scope: { kind: "campaigns", campaignIds: [KILLED_CAMPAIGN_ID] },
        reason: `propagation run, kill ${round + 1}`,
        actor: "bench",
        atMs: Math.round(wallMs()),
      });
      const committedAtMs = wallMs();
      if (!published.ok) throw new Error(`the kill was refused: ${published.message}`);
      for (const refusal of await Promise.all(refusals)) {
        // A child may see the notification before the parent sees its own COMMIT's answer.
        delaysMs.push(Math.max(0, refusal.atMs - committedAtMs));
        if (refusal.reason !== "guard.killed") otherReasons.push(String(refusal.reason));
      }
      const grants = lines.map((each) => next(each, "granted"));
      const cleared = await publisher.clearKill({
        killSequence: published.kill.sequence,
        reason: "propagation run, clear",
        actor: "bench",
        atMs: Math.round(wallMs()),
      });
      if (!cleared.ok) throw new Error(`the clear was refused: ${cleared.message}`);
      await Promise.all(grants);
      if ((round + 1) % 25 === 0) progress(`${round + 1} of ${options.kills} kills propagated`);
    }
    const sorted = [...delaysMs].sort((left, right) => left - right);
    return {
      delaysMs,
      maxMs: sorted.at(-1) ?? 0,
      p50Ms: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
      otherReasons,
    };
  } finally {
    for (const child of children) {
      child.stdin?.end();
      child.kill("SIGKILL");
    }
    await publisher.close();
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;

export const killPropagationBenchmark: Benchmark = {
  name: "kill.propagation",
  figures: [
    { bench: "kill.propagation.max_ms", unit: "ms" },
    { bench: "kill.propagation.p50_ms", unit: "ms" },
    { bench: "kill.propagation.polling_only.max_ms", unit: "ms" },
  ],
  fixture: (scale) =>
    `${Math.max(3, Math.round(KILLS * scale))} kills (each cleared before the next, seeded 0–${JITTER_MS_MAX} ms apart, seed ${SEED}) × ${PROCESSES} evaluator processes quoting every 1 ms; poll ${POLL_MS} ms, allowed staleness ${ALLOWED_STALENESS_MS} ms; with notifications, then polling only; a fresh database`,
  run: async (context: BenchmarkContext) => {
    let server: Awaited<ReturnType<typeof findOrStartPostgres>>;
    try {
      server = await findOrStartPostgres();
    } catch (cause) {
      const why = `no PostgreSQL reachable: ${cause instanceof Error ? cause.message : String(cause)}`;
      return killPropagationBenchmark.figures.map((spec) => ({
        ...spec,
        value: null,
        skipped: why,
      }));
    }
    const database = await createFreshDatabase(server.url);
    try {
      const kills = Math.max(3, Math.round(KILLS * context.scale));
      context.progress(`PostgreSQL: ${server.description}`);
      const notified = await measureKillPropagation({
        url: database.url,
        schema: "bench_kills_notify",
        processes: PROCESSES,
        kills,
        notifications: true,
        progress: context.progress,
      });
      const polling = await measureKillPropagation({
        url: database.url,
        schema: "bench_kills_polling",
        processes: PROCESSES,
        kills,
        notifications: false,
        progress: context.progress,
      });
      for (const [label, run] of [
        ["notifications", notified],
        ["polling only", polling],
      ] as const) {
        context.progress(
          `${label}: ${run.delaysMs.length} propagations, p50 ${run.p50Ms.toFixed(1)} ms, max ${run.maxMs.toFixed(1)} ms${run.otherReasons.length > 0 ? `; refusals for other reasons: ${run.otherReasons.join(", ")}` : ""}`,
        );
      }
      return [
        { bench: "kill.propagation.max_ms", value: round2(notified.maxMs), unit: "ms" },
        { bench: "kill.propagation.p50_ms", value: round2(notified.p50Ms), unit: "ms" },
        {
          bench: "kill.propagation.polling_only.max_ms",
          value: round2(polling.maxMs),
          unit: "ms",
        },
      ] as const;
    } finally {
      await database.drop();
      await server.stop();
    }
  },
};
