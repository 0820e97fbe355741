/**
 * Guard mode's 2025-01-16 replay (`bursar demo incident --guard-mode`, issue 9,
 * docs/reference/guard-mode.md): the same seeded traffic and the same bad template edit as the
 * replay of Bursar's own campaigns (incident-replay.ts), but the edit happens in an external
 * promotion engine — the naive engine that models the incident platform's — and Bursar stands in
 * front of it as an independent check (`GuardModeWorld`). Four runs over the same seeded payments:
 * - unguarded and unguardedVariant: what the external engine grants with each change, unchecked
 *   (the native replay's own naive pass, `runNaive`: the same figures);
 * - guarded.forcedAsIs and guarded.forced: the same engine's proposals, each checked by Bursar
 *   in guard mode, which allows, clamps or refuses them, and trips, kills and opens incidents;
 *   each in a worker thread of its own by default (as the native replay's guarded runs), while
 *   this thread runs the naive pass.
 *
 * The JSON keeps CONTRACTS.md's shape. Where the native replay's fields cannot apply: the edit
 * never reaches Bursar's change pipeline, so `blockedAtLint` is false and `lintCodes` empty (no
 * lint ran), and "forced" names the run of each change through the external engine, nobody
 * having forced anything past Bursar. `detectionMs` runs from the first subsidy Bursar allowed of
 * the edited engine to the trip.
 */

import type { ExternalCampaign } from "../core/guard/proposal-input.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import {
  type CheckObserver,
  type GuardModeOutcome,
  GuardModeWorld,
  registrationsOf,
} from "./guard-mode-world.ts";
import {
  INCIDENT_TEMPLATE_ID,
  type IncidentChangeKind,
  incidentEdits,
  withEdits,
} from "./incident-change.ts";
import {
  besideGuardedRuns,
  type GuardedRun,
  type NaiveRun,
  naiveRuns,
  protectedScenariosOf,
  REPLAY_DEFAULTS,
  type ReplayJson,
  replayShape,
  runNaive,
  trafficOf,
} from "./incident-replay.ts";
import { NaiveEngine } from "./naive-engine.ts";
import { type ReplayRun, ReplayRunTally } from "./replay-run.ts";
import { runGuardModeWorldInWorker } from "./replay-threads.ts";

export interface GuardModeReplayOptions {
  readonly seed: number;
  readonly tps: number;
  /** The configuration in force before the edit: the external engine's and the guard's. */
  readonly examples: readonly ConfigDocument[];
  readonly seconds?: number;
  readonly warmUpSeconds?: number;
  /** Guard processes checking the traffic. */
  readonly evaluators?: number;
  /**
   * Whether the external engine's campaigns are registered with the guard as it declared them
   * before the edit (default true); unregistered ones are judged by the envelope, their own
   * baselines, their funders', the `ext:*` template's and the platform's.
   */
  readonly registered?: boolean;
  /**
   * The external engine's documents after the edit, original and variant, instead of the
   * incident's (tests use it to run an edit the envelope clamps).
   */
  readonly editedExamples?: readonly [readonly ConfigDocument[], readonly ConfigDocument[]];
  readonly onProgress?: (doneMs: number, totalMs: number) => void;
  /**
   * Told every check of each run (0: the original, 1: the variant), warm-up included. Needs
   * `threads: false`: a worker's checks stay in the worker.
   */
  readonly onChecked?: (run: 0 | 1, ...checked: Parameters<CheckObserver>) => void;
  /** False runs the guarded runs on this thread, interleaved (default: worker threads). */
  readonly threads?: boolean;
  /**
   * False checks every payment to the end even once a run is settled (tests prove the figures
   * the same); default true.
   */
  readonly stopWhenSettled?: boolean;
}

export interface GuardModeReplay {
  readonly json: ReplayJson;
  readonly forcedAsIs: GuardModeOutcome;
  readonly forced: GuardModeOutcome;
  /** The external campaigns registered with the guard. */
  readonly registrations: readonly ExternalCampaign[];
}

/** One guarded run of guard mode's replay: what a worker thread is given. */
export interface GuardModeRunInput {
  readonly seed: number;
  readonly tps: number;
  readonly seconds: number;
  readonly warmUpSeconds: number;
  readonly evaluators: number;
  readonly kind: IncidentChangeKind;
  readonly examples: readonly ConfigDocument[];
  readonly registered: boolean;
  /** The external engine's documents after the edit; the incident's `kind` when absent. */
  readonly edited?: readonly ConfigDocument[];
  /** False checks every payment to the end even once settled (default true). */
  readonly stopWhenSettled?: boolean;
}

export interface GuardModeRunResult {
  readonly run: ReplayRun;
  readonly outcome: GuardModeOutcome;
}

/** Payments between two looks at whether a guarded run is settled. */
const SETTLED_CHECK_EVERY = 10_000;

export async function runGuardModeReplay(
  options: GuardModeReplayOptions,
): Promise<GuardModeReplay> {
  if (options.onChecked !== undefined && options.threads !== false) {
    throw new Error("onChecked needs threads: false");
  }
  const shape = replayShape(options);
  const { startMs, endMs } = shape;
  const protectedScenarios = protectedScenariosOf(options.examples);
  const registered = options.registered !== false;
  const progress = new Map<string, number>();
  const report = (part: string, doneMs: number) => {
    progress.set(part, doneMs);
    // The slowest part is how far the replay is.
    if (progress.size === 3) {
      options.onProgress?.(Math.min(...progress.values()), endMs - startMs);
    }
  };
  const guarded = (run: 0 | 1) => {
    const kind: IncidentChangeKind = run === 0 ? "original" : "variant";
    const edited = options.editedExamples?.[run];
    const input: GuardModeRunInput = {
      seed: options.seed,
      tps: options.tps,
      seconds: shape.seconds,
      warmUpSeconds: shape.warmUpSeconds,
      evaluators: options.evaluators ?? REPLAY_DEFAULTS.evaluators,
      kind,
      examples: options.examples,
      registered,
      ...(edited === undefined ? {} : { edited }),
      ...(options.stopWhenSettled === false ? { stopWhenSettled: false } : {}),
    };
    const onProgress = (doneMs: number) => report(kind, doneMs);
    const onChecked = options.onChecked;
    return options.threads === false
      ? runGuardModeWorld(
          input,
          onProgress,
          onChecked === undefined ? undefined : (...checked) => onChecked(run, ...checked),
        )
      : runGuardModeWorldInWorker(input, onProgress);
  };
  const asIs = guarded(0);
  const variant = guarded(1);
  const { naive, asIsRun, variantRun } = await besideGuardedRuns(asIs, variant, () =>
    runNaive(
      options,
      shape,
      protectedScenarios,
      (doneMs) => report("naive", doneMs),
      naiveRunsOf(options, protectedScenarios),
    ),
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
        // The edit is the external engine's: Bursar's lint never saw it.
        blockedAtLint: false,
        lintCodes: [],
        forcedAsIs: guardModeRunOf(asIsRun),
        forced: {
          ...guardModeRunOf(variantRun),
          leakedUntilLastEvaluatorStopsMinor: variantRun.outcome.leakedUntilLastEvaluatorStopsMinor,
        },
      },
    },
    forcedAsIs: asIsRun.outcome,
    forced: variantRun.outcome,
    registrations: registered ? registrationsOf(options.examples, INCIDENT_TEMPLATE_ID) : [],
  };
}

/**
 * One change made in the external engine, checked by the guard over the replay's traffic: until
 * 14:40 the engine proposes the template as it was (the guard's baselines), then the edited one.
 * Stops early once nothing the engine proposes can be allowed any more.
 */
export async function runGuardModeWorld(
  input: GuardModeRunInput,
  onProgress?: (doneMs: number) => void,
  onChecked?: CheckObserver,
): Promise<GuardModeRunResult> {
  const shape = replayShape(input);
  const { startMs, endMs, changeAtMs } = shape;
  const before = new NaiveEngine(input.examples, INCIDENT_TEMPLATE_ID);
  const after = new NaiveEngine(
    input.edited ?? withEdits(input.examples, incidentEdits(input.examples, input.kind)),
    INCIDENT_TEMPLATE_ID,
  );
  const world = new GuardModeWorld({
    seed: input.seed,
    examples: input.examples,
    registrations: input.registered ? registrationsOf(input.examples, INCIDENT_TEMPLATE_ID) : [],
    changeAtMs,
    evaluators: input.evaluators,
    killDelayMs: REPLAY_DEFAULTS.killDelayMs,
    protectedScenarios: protectedScenariosOf(input.examples),
    ...(onChecked === undefined ? {} : { onChecked }),
  });
  await world.start(startMs, before, after);
  const tickMs = REPLAY_DEFAULTS.tickMs;
  let nextTickMs = startMs + tickMs;
  let nextProgressMs = startMs + 1_000;
  let index = 0;
  for (const payment of trafficOf(input.seed, input.tps, shape)) {
    while (payment.atMs >= nextTickMs) {
      await world.tick(nextTickMs);
      nextTickMs += tickMs;
      if (nextTickMs >= nextProgressMs) {
        onProgress?.(nextTickMs - startMs);
        nextProgressMs += 1_000;
      }
    }
    // Each guard process obeys a kill at its own delay, not at the next tick.
    if (world.killDueBy(payment.atMs)) await world.obeyKillsDue(payment.atMs);
    const engine = payment.atMs < changeAtMs ? before : after;
    const recording = world.check(payment, engine.grant(payment), engine, index);
    if (recording !== undefined) await recording;
    index += 1;
    // Everything the engine proposes for is killed everywhere: the rest cannot add to the run.
    if (
      index % SETTLED_CHECK_EVERY === 0 &&
      world.stopIfSettled(payment.atMs) &&
      input.stopWhenSettled !== false
    ) {
      break;
    }
  }
  onProgress?.(endMs - startMs);
  const outcome = await world.finish(endMs);
  return { run: world.tally.result(), outcome };
}

function naiveRunsOf(
  options: GuardModeReplayOptions,
  protectedScenarios: ReadonlySet<string>,
): readonly [NaiveRun, NaiveRun] {
  const edited = options.editedExamples;
  if (edited === undefined) return naiveRuns(options.examples, protectedScenarios);
  return [
    {
      engine: new NaiveEngine(edited[0], INCIDENT_TEMPLATE_ID),
      tally: new ReplayRunTally(protectedScenarios),
    },
    {
      engine: new NaiveEngine(edited[1], INCIDENT_TEMPLATE_ID),
      tally: new ReplayRunTally(protectedScenarios),
    },
  ];
}

function guardModeRunOf({ run, outcome }: GuardModeRunResult): GuardedRun {
  return {
    ...run,
    // A trip before the first allowed subsidy of the edit detected it at once: 0.
    detectionMs:
      outcome.trip === null || outcome.firstAllowedAtMs === null
        ? null
        : Math.max(0, outcome.trip.atMs - outcome.firstAllowedAtMs),
    severity: outcome.incident?.severity ?? null,
  };
}
