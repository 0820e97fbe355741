/**
 * Guard mode's 2025-01-16 replay (`bursar demo incident --guard-mode`, issue 9,
 * docs/reference/guard-mode.md): the same seeded traffic and the same bad template edit as the
 * replay of Bursar's own campaigns (incident-replay.ts), but the edit happens in an external
 * promotion engine — the naive engine that models the incident platform's — and Bursar stands in
 * front of it as an independent check (`GuardModeWorld`). One pass over the payments runs four
 * ways at once:
 * - unguarded and unguardedVariant: what the external engine grants with each change, unchecked
 *   (the same figures as the native replay's, from the same engine and traffic);
 * - guarded.forcedAsIs and guarded.forced: the same proposals, each checked by Bursar in guard
 *   mode, which allows, clamps or refuses them, and trips, kills and opens incidents.
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
import { INCIDENT_TEMPLATE_ID } from "./incident-change.ts";
import {
  type GuardedRun,
  naiveRuns,
  protectedScenariosOf,
  REPLAY_DEFAULTS,
  type ReplayJson,
  replayShape,
  trafficOf,
} from "./incident-replay.ts";
import { NaiveEngine } from "./naive-engine.ts";
import type { ReplayRun } from "./replay-run.ts";

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
   * before the edit (default true); unregistered ones are judged by the envelope, the `ext:*`
   * template and the platform baseline only.
   */
  readonly registered?: boolean;
  /**
   * The external engine's documents after the edit, instead of the incident's (tests use it to
   * run an edit the envelope clamps); both guarded runs use the same pair.
   */
  readonly editedExamples?: readonly [readonly ConfigDocument[], readonly ConfigDocument[]];
  readonly onProgress?: (doneMs: number, totalMs: number) => void;
  /** Told every check of each run (0: the original, 1: the variant), warm-up included. */
  readonly onChecked?: (run: 0 | 1, ...checked: Parameters<CheckObserver>) => void;
}

export interface GuardModeReplay {
  readonly json: ReplayJson;
  readonly forcedAsIs: GuardModeOutcome;
  readonly forced: GuardModeOutcome;
  /** The external campaigns registered with the guard. */
  readonly registrations: readonly ExternalCampaign[];
}

/** Payments between two looks at whether a guarded run is settled. */
const SETTLED_CHECK_EVERY = 10_000;

export async function runGuardModeReplay(
  options: GuardModeReplayOptions,
): Promise<GuardModeReplay> {
  const shape = replayShape(options);
  const { startMs, endMs, changeAtMs } = shape;
  const protectedScenarios = protectedScenariosOf(options.examples);
  // Until 14:40 the external engine runs the template as it was: the guard's baselines.
  const before = new NaiveEngine(options.examples, INCIDENT_TEMPLATE_ID);
  const naive = naiveRunsOf(options, protectedScenarios);
  const registrations =
    options.registered === false ? [] : registrationsOf(options.examples, INCIDENT_TEMPLATE_ID);
  const onChecked = options.onChecked;
  const worlds = naive.map(
    (_, run) =>
      new GuardModeWorld({
        seed: options.seed,
        examples: options.examples,
        registrations,
        changeAtMs,
        evaluators: options.evaluators ?? REPLAY_DEFAULTS.evaluators,
        killDelayMs: REPLAY_DEFAULTS.killDelayMs,
        protectedScenarios,
        ...(onChecked === undefined
          ? {}
          : {
              onChecked: (...checked: Parameters<CheckObserver>) =>
                onChecked(run as 0 | 1, ...checked),
            }),
      }),
  );
  for (const world of worlds) world.start(startMs, before);
  const settled = worlds.map(() => false);
  const tickMs = REPLAY_DEFAULTS.tickMs;
  let nextTickMs = startMs + tickMs;
  let nextProgressMs = startMs + 1_000;
  let index = 0;
  for (const payment of trafficOf(options.seed, options.tps, shape)) {
    while (payment.atMs >= nextTickMs) {
      for (let run = 0; run < worlds.length; run += 1) {
        if (!settled[run]) await worlds[run]!.tick(nextTickMs);
      }
      nextTickMs += tickMs;
      if (nextTickMs >= nextProgressMs) {
        options.onProgress?.(nextTickMs - startMs, endMs - startMs);
        nextProgressMs += 1_000;
      }
    }
    for (let run = 0; run < worlds.length; run += 1) {
      const world = worlds[run]!;
      if (!settled[run] && world.killDueBy(payment.atMs)) await world.obeyKillsDue(payment.atMs);
    }
    if (payment.atMs < changeAtMs) {
      const grant = before.grant(payment);
      for (const world of worlds) world.check(payment, grant, before, index);
    } else {
      for (let run = 0; run < naive.length; run += 1) {
        const { engine, tally } = naive[run]!;
        const grant = engine.grant(payment);
        if (grant !== undefined) tally.add(payment, grant.amountMinor);
        if (!settled[run]) worlds[run]!.check(payment, grant, engine, index);
      }
    }
    index += 1;
    // A run whose every external campaign is killed everywhere can allow nothing more.
    if (index % SETTLED_CHECK_EVERY === 0) {
      for (let run = 0; run < worlds.length; run += 1) {
        settled[run] = worlds[run]!.stopIfSettled(payment.atMs);
      }
    }
  }
  const [asIs, variant] = [await worlds[0]!.finish(endMs), await worlds[1]!.finish(endMs)];
  options.onProgress?.(endMs - startMs, endMs - startMs);
  return {
    json: {
      seed: options.seed,
      tps: options.tps,
      simulatedSeconds: shape.seconds,
      unguarded: naive[0].tally.result(),
      unguardedVariant: naive[1].tally.result(),
      guarded: {
        // The edit is the external engine's: Bursar's lint never saw it.
        blockedAtLint: false,
        lintCodes: [],
        forcedAsIs: guardModeRunOf(worlds[0]!.tally.result(), asIs),
        forced: {
          ...guardModeRunOf(worlds[1]!.tally.result(), variant),
          leakedUntilLastEvaluatorStopsMinor: variant.leakedUntilLastEvaluatorStopsMinor,
        },
      },
    },
    forcedAsIs: asIs,
    forced: variant,
    registrations,
  };
}

function naiveRunsOf(
  options: GuardModeReplayOptions,
  protectedScenarios: ReadonlySet<string>,
): ReturnType<typeof naiveRuns> {
  const edited = options.editedExamples;
  if (edited === undefined) return naiveRuns(options.examples, protectedScenarios);
  const [original, variant] = naiveRuns(options.examples, protectedScenarios);
  return [
    { engine: new NaiveEngine(edited[0], INCIDENT_TEMPLATE_ID), tally: original.tally },
    { engine: new NaiveEngine(edited[1], INCIDENT_TEMPLATE_ID), tally: variant.tally },
  ];
}

function guardModeRunOf(run: ReplayRun, outcome: GuardModeOutcome): GuardedRun {
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
