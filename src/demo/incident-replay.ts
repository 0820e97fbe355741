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
  const seconds = options.seconds ?? REPLAY_DEFAULTS.seconds;
  const warmUpSeconds = options.warmUpSeconds ?? REPLAY_DEFAULTS.warmUpSeconds;
  const evaluators = options.evaluators ?? REPLAY_DEFAULTS.evaluators;
  const changeAtMs = TRAFFIC_START_MS_DEFAULT;
  const startMs = changeAtMs - warmUpSeconds * 1_000;
  const endMs = changeAtMs + seconds * 1_000;
  const envelope = options.examples.find(
    (document): document is Envelope => document.kind === "envelope",
  );
  if (envelope === undefined) throw new Error("the configuration has no envelope");
  const protectedScenarios = new Set<string>(envelope.protectedScenarios);

  const naive = (kind: IncidentChangeKind) => ({
    engine: new NaiveEngine(
      withEdits(options.examples, incidentEdits(options.examples, kind)),
      INCIDENT_TEMPLATE_ID,
    ),
    tally: new ReplayRunTally(protectedScenarios),
  });
  const unguarded = naive("original");
  const unguardedVariant = naive("variant");
  const world = (kind: IncidentChangeKind) =>
    new GuardedWorld({
      seed: options.seed,
      examples: options.examples,
      edits: incidentEdits(options.examples, kind),
      changeAtMs,
      evaluators,
      killDelayMs: REPLAY_DEFAULTS.killDelayMs,
      completionMs: REPLAY_DEFAULTS.completionMs,
      protectedScenarios,
    });
  const worlds = [world("original"), world("variant")] as const;
  for (const guarded of worlds) await guarded.prepare();

  const traffic = TrafficGenerator.create({
    seed: options.seed,
    tps: options.tps,
    seconds: warmUpSeconds + seconds,
    startMs,
  });
  if (!traffic.ok) throw new Error(traffic.errors.map((error) => error.message).join("; "));
  const tickMs = REPLAY_DEFAULTS.tickMs;
  let nextTickMs = startMs + tickMs;
  let rolledOut = false;
  let nextProgressMs = startMs + 1_000;
  let index = 0;
  for (const payment of traffic.generator) {
    while (payment.atMs >= nextTickMs) {
      if (!rolledOut && nextTickMs >= changeAtMs) {
        for (const guarded of worlds) await guarded.startRollout(changeAtMs);
        rolledOut = true;
      }
      for (const guarded of worlds) await guarded.tick(nextTickMs);
      nextTickMs += tickMs;
      if (nextTickMs >= nextProgressMs) {
        options.onProgress?.(nextTickMs - startMs, endMs - startMs);
        nextProgressMs += 1_000;
      }
    }
    if (!rolledOut && payment.atMs >= changeAtMs) {
      for (const guarded of worlds) await guarded.startRollout(changeAtMs);
      rolledOut = true;
    }
    if (rolledOut) {
      for (const run of [unguarded, unguardedVariant]) {
        const grant = run.engine.grant(payment);
        if (grant !== undefined) run.tally.add(payment, grant.amountMinor);
      }
    }
    for (const guarded of worlds) {
      const reserving = guarded.pay(payment, index);
      if (reserving !== undefined) await reserving;
    }
    index += 1;
  }
  const [asIsOutcome, forcedOutcome] = [
    await worlds[0].finish(endMs),
    await worlds[1].finish(endMs),
  ];
  options.onProgress?.(endMs - startMs, endMs - startMs);
  const guardedRun = (world: GuardedWorld, outcome: GuardedOutcome): GuardedRun => ({
    ...world.tally.result(),
    // A trip before the first bad reservation (a displaced campaign tripped first) detected it
    // at once: 0, not a negative time.
    detectionMs:
      outcome.trip === null || outcome.firstBadReservationAtMs === null
        ? null
        : Math.max(0, outcome.trip.atMs - outcome.firstBadReservationAtMs),
    severity: outcome.incident?.severity ?? null,
  });
  return {
    json: {
      seed: options.seed,
      tps: options.tps,
      simulatedSeconds: seconds,
      unguarded: unguarded.tally.result(),
      unguardedVariant: unguardedVariant.tally.result(),
      guarded: {
        blockedAtLint: asIsOutcome.blockedAtLint,
        lintCodes: asIsOutcome.lintCodes,
        forcedAsIs: guardedRun(worlds[0], asIsOutcome),
        forced: {
          ...guardedRun(worlds[1], forcedOutcome),
          leakedUntilLastEvaluatorStopsMinor: forcedOutcome.leakedUntilLastEvaluatorStopsMinor,
        },
      },
    },
    forcedAsIs: asIsOutcome,
    forced: forcedOutcome,
  };
}
