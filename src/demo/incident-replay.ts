/**
 * The 2025-01-16 replay (DESIGN §5, CONTRACTS.md "The replay"): five simulated minutes of
 * seeded platform traffic from 14:40:00, after a minute of ordinary traffic the guard learns its
 * baselines from, run four ways in one pass over the payments:
 * - unguarded: the original change through the naive engine (what the incident cost);
 * - unguardedVariant: the in-envelope variant through the naive engine;
 * - guarded.forcedAsIs and guarded.forced: each change forced through Bursar's pipeline
 *   (`GuardedWorld`), where the envelope, the staged rollout and the breakers act.
 */
import type { ConfigDocument } from "../core/model/document.ts";
import type { Envelope } from "../core/model/envelope.ts";
import { TrafficGenerator } from "../traffic/traffic-generator.ts";
import { TRAFFIC_START_MS_DEFAULT } from "../traffic/traffic-options.ts";
import { type GuardedOutcome, GuardedWorld } from "./guarded-world.ts";
import {
  INCIDENT_TEMPLATE_ID,
  type IncidentChangeKind,
  incidentEdits,
  withEdits,
} from "./incident-change.ts";
import { NaiveEngine } from "./naive-engine.ts";
import { type ReplayRun, ReplayRunTally } from "./replay-run.ts";
import { runGuardedWorldInWorker } from "./replay-threads.ts";

export const REPLAY_DEFAULTS = {
  seed: 20_250_116,
  tps: 10_000,
  seconds: 300,
  /** Ordinary traffic before 14:40:00, from which the guard takes its baselines. */
  warmUpSeconds: 60,
  /** Evaluator processes serving the traffic. */
  evaluators: 4,
  /**
   * When each evaluator learns of a kill after it is published: a notification's delay on
   * PostgreSQL (see `kill.propagation.*` in docs/reference/benchmarks.md for the measured
   * figures, whose maximum is well inside this range's).
   */
  killDelayMs: { min: 5, max: 250 },
  /** When a payment completes after its reservation (the user confirms, the cashier answers). */
  completionMs: { min: 300, max: 3_000 },
  /** How often the guard checks its monitors and the runners their reports. */
  tickMs: 100,
} as const;

/** Payments between two looks at whether a guarded run is settled. */
const SETTLED_CHECK_EVERY = 10_000;

export const REPLAY_LIMITS = { tpsMax: 50_000, seedMax: 4_294_967_295 } as const;

export interface IncidentReplayOptions {
  readonly seed: number;
  readonly tps: number;
  /** The configuration in force before the change: the examples. */
  readonly examples: readonly ConfigDocument[];
  readonly seconds?: number;
  readonly warmUpSeconds?: number;
  readonly evaluators?: number;
  /** Told the simulated milliseconds done of the total, about every simulated second. */
  readonly onProgress?: (doneMs: number, totalMs: number) => void;
  /** False runs the guarded runs on this thread, one after the other (default: worker threads). */
  readonly threads?: boolean;
}

export interface GuardedRun extends ReplayRun {
  readonly detectionMs: number | null;
  readonly severity: string | null;
}

/** Exactly the object CONTRACTS.md specifies. */
export interface ReplayJson {
  readonly seed: number;
  readonly tps: number;
  readonly simulatedSeconds: number;
  readonly unguarded: ReplayRun;
  readonly unguardedVariant: ReplayRun;
  readonly guarded: {
    readonly blockedAtLint: boolean;
    readonly lintCodes: readonly string[];
    readonly forcedAsIs: GuardedRun;
    readonly forced: GuardedRun & { readonly leakedUntilLastEvaluatorStopsMinor: number };
  };
}

export interface IncidentReplay {
  readonly json: ReplayJson;
  /** The guarded runs' stories: trips, responses, kill confirmations, incidents. */
  readonly forcedAsIs: GuardedOutcome;
  readonly forced: GuardedOutcome;
}

export async function runIncidentReplay(options: IncidentReplayOptions): Promise<IncidentReplay> {
  const shape = replayShape(options);
  const { startMs, endMs } = shape;
  const protectedScenarios = protectedScenariosOf(options.examples);
  const progress = new Map<string, number>();
  const report = (part: string, doneMs: number) => {
    progress.set(part, doneMs);
    // The slowest part is how far the replay is.
    if (progress.size === 3) {
      options.onProgress?.(Math.min(...progress.values()), endMs - startMs);
    }
  };
  const guarded = (kind: IncidentChangeKind) => {
    const input: GuardedRunInput = {
      seed: options.seed,
      tps: options.tps,
      seconds: shape.seconds,
      warmUpSeconds: shape.warmUpSeconds,
      evaluators: options.evaluators ?? REPLAY_DEFAULTS.evaluators,
      kind,
      examples: options.examples,
    };
    const onProgress = (doneMs: number) => report(kind, doneMs);
    return options.threads === false
      ? runGuardedWorld(input, onProgress)
      : runGuardedWorldInWorker(input, onProgress);
  };
  // The two guarded runs are independent and the costliest: each in a worker thread of its own
  // (same seed, same traffic), while this thread runs the naive engine over its own copy.
  const asIs = guarded("original");
  const variant = guarded("variant");
  const { naive, asIsRun, variantRun } = await besideGuardedRuns(asIs, variant, () =>
    runNaive(options, shape, protectedScenarios, (doneMs) => report("naive", doneMs)),
  );
  options.onProgress?.(endMs - startMs, endMs - startMs);
  return {
    json: {
      seed: options.seed,
      tps: options.tps,
      simulatedSeconds: shape.seconds,
      unguarded: naive.unguarded,
      unguardedVariant: naive.unguardedVariant,
      guarded: {
        blockedAtLint: asIsRun.outcome.blockedAtLint,
        lintCodes: asIsRun.outcome.lintCodes,
        forcedAsIs: guardedRunOf(asIsRun),
        forced: {
          ...guardedRunOf(variantRun),
          leakedUntilLastEvaluatorStopsMinor: variantRun.outcome.leakedUntilLastEvaluatorStopsMinor,
        },
      },
    },
    forcedAsIs: asIsRun.outcome,
    forced: variantRun.outcome,
  };
}

export interface ReplayShape {
  readonly seconds: number;
  readonly warmUpSeconds: number;
  readonly changeAtMs: number;
  readonly startMs: number;
  readonly endMs: number;
}

export function replayShape(options: {
  readonly seconds?: number;
  readonly warmUpSeconds?: number;
}): ReplayShape {
  const seconds = options.seconds ?? REPLAY_DEFAULTS.seconds;
  const warmUpSeconds = options.warmUpSeconds ?? REPLAY_DEFAULTS.warmUpSeconds;
  const changeAtMs = TRAFFIC_START_MS_DEFAULT;
  return {
    seconds,
    warmUpSeconds,
    changeAtMs,
    startMs: changeAtMs - warmUpSeconds * 1_000,
    endMs: changeAtMs + seconds * 1_000,
  };
}

export function protectedScenariosOf(examples: readonly ConfigDocument[]): ReadonlySet<string> {
  const envelope = examples.find((document): document is Envelope => document.kind === "envelope");
  if (envelope === undefined) throw new Error("the configuration has no envelope");
  return new Set<string>(envelope.protectedScenarios);
}

export function trafficOf(seed: number, tps: number, shape: ReplayShape): TrafficGenerator {
  const traffic = TrafficGenerator.create({
    seed,
    tps,
    seconds: shape.warmUpSeconds + shape.seconds,
    startMs: shape.startMs,
  });
  if (!traffic.ok) throw new Error(traffic.errors.map((error) => error.message).join("; "));
  return traffic.generator;
}

/** Both changes through the naive engine, from 14:40:00 on (`runs`: the incident's by default). */
export async function runNaive(
  options: Pick<IncidentReplayOptions, "seed" | "tps" | "examples">,
  shape: ReplayShape,
  protectedScenarios: ReadonlySet<string>,
  onProgress: (doneMs: number) => void,
  runs: readonly [NaiveRun, NaiveRun] = naiveRuns(options.examples, protectedScenarios),
): Promise<{ unguarded: ReplayRun; unguardedVariant: ReplayRun }> {
  let nextProgressMs = shape.startMs + 1_000;
  for (const payment of trafficOf(options.seed, options.tps, shape)) {
    if (payment.atMs >= nextProgressMs) {
      onProgress(payment.atMs - shape.startMs);
      nextProgressMs += 1_000;
      // Let the workers' progress messages through.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (payment.atMs < shape.changeAtMs) continue;
    for (const run of runs) {
      const grant = run.engine.grant(payment);
      if (grant !== undefined) run.tally.add(payment, grant.amountMinor);
    }
  }
  onProgress(shape.endMs - shape.startMs);
  return { unguarded: runs[0].tally.result(), unguardedVariant: runs[1].tally.result() };
}

/** The naive engine with each change (original, then variant), and the tally of what it grants. */
export function naiveRuns(
  examples: readonly ConfigDocument[],
  protectedScenarios: ReadonlySet<string>,
): readonly [NaiveRun, NaiveRun] {
  const naive = (kind: IncidentChangeKind): NaiveRun => ({
    engine: new NaiveEngine(
      withEdits(examples, incidentEdits(examples, kind)),
      INCIDENT_TEMPLATE_ID,
    ),
    tally: new ReplayRunTally(protectedScenarios),
  });
  return [naive("original"), naive("variant")];
}

export interface NaiveRun {
  readonly engine: NaiveEngine;
  readonly tally: ReplayRunTally;
}

export interface GuardedRunInput {
  readonly seed: number;
  readonly tps: number;
  readonly seconds: number;
  readonly warmUpSeconds: number;
  readonly evaluators: number;
  readonly kind: IncidentChangeKind;
  readonly examples: readonly ConfigDocument[];
}

export interface GuardedRunResult {
  readonly run: ReplayRun;
  readonly outcome: GuardedOutcome;
}

/** One change forced through Bursar over the replay's traffic (see guarded-world.ts). */
export async function runGuardedWorld(
  input: GuardedRunInput,
  onProgress?: (doneMs: number) => void,
): Promise<GuardedRunResult> {
  const shape = replayShape(input);
  const world = new GuardedWorld({
    seed: input.seed,
    examples: input.examples,
    edits: incidentEdits(input.examples, input.kind),
    changeAtMs: shape.changeAtMs,
    evaluators: input.evaluators,
    killDelayMs: REPLAY_DEFAULTS.killDelayMs,
    completionMs: REPLAY_DEFAULTS.completionMs,
    protectedScenarios: protectedScenariosOf(input.examples),
  });
  await world.prepare();
  const tickMs = REPLAY_DEFAULTS.tickMs;
  let nextTickMs = shape.startMs + tickMs;
  let rolledOut = false;
  let nextProgressMs = shape.startMs + 1_000;
  let index = 0;
  for (const payment of trafficOf(input.seed, input.tps, shape)) {
    while (payment.atMs >= nextTickMs) {
      if (!rolledOut && nextTickMs >= shape.changeAtMs) {
        await world.startRollout(shape.changeAtMs);
        rolledOut = true;
      }
      await world.tick(nextTickMs);
      nextTickMs += tickMs;
      if (nextTickMs >= nextProgressMs) {
        onProgress?.(nextTickMs - shape.startMs);
        nextProgressMs += 1_000;
      }
    }
    if (!rolledOut && payment.atMs >= shape.changeAtMs) {
      await world.startRollout(shape.changeAtMs);
      rolledOut = true;
    }
    const reserving = world.pay(payment, index);
    if (reserving !== undefined) await reserving;
    index += 1;
    // Stopped, obeyed everywhere and settled: the rest of the traffic cannot add to the run.
    if (index % SETTLED_CHECK_EVERY === 0 && world.settled) break;
  }
  onProgress?.(shape.endMs - shape.startMs);
  const outcome = await world.finish(shape.endMs);
  return { run: world.tally.result(), outcome };
}

function guardedRunOf({ run, outcome }: GuardedRunResult): GuardedRun {
  return {
    ...run,
    // A trip before the first bad reservation (a displaced campaign tripped first) detected it
    // at once: 0, not a negative time.
    detectionMs:
      outcome.trip === null || outcome.firstBadReservationAtMs === null
        ? null
        : Math.max(0, outcome.trip.atMs - outcome.firstBadReservationAtMs),
    severity: outcome.incident?.severity ?? null,
  };
}

/**
 * The naive runs, then the two guarded runs started before them (in workers); whichever fails,
 * every run has settled before this does, so no worker is left running unobserved.
 */
export async function besideGuardedRuns<Naive, Guarded>(
  asIs: Promise<Guarded>,
  variant: Promise<Guarded>,
  naive: () => Promise<Naive>,
): Promise<{ naive: Naive; asIsRun: Guarded; variantRun: Guarded }> {
  try {
    return { naive: await naive(), asIsRun: await asIs, variantRun: await variant };
  } finally {
    await Promise.allSettled([asIs, variant]);
  }
}
