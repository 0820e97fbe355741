/**
 * Options of the traffic generator, their defaults and limits. Out-of-range options are an
 * expected outcome (a typo on the command line), so they come back as coded errors, not throws.
 */
import { offsetMsAt } from "../core/time-zone.ts";
import { curveHasWeight } from "./arrival-clock.ts";
import { HOURLY_WEIGHTS, POPULATION_MODEL, TRAFFIC_TIME_ZONE } from "./traffic-model.ts";

/** 2025-01-16T14:40:00+08:00, the minute the incident of DESIGN §1 began. */
export const TRAFFIC_START_MS_DEFAULT = 1_737_009_600_000;

export const TRAFFIC_LIMITS = {
  seedMax: 4_294_967_295,
  tpsMax: 1_000_000,
  /** Seven days. */
  secondsMax: 604_800,
  /** tps × seconds; a billion payments is about 300 GB of NDJSON. */
  paymentsMax: 1_000_000_000,
  /** p2p transfers need a payee other than the payer. */
  usersMin: 2,
  /** Four bytes of typed arrays per user. */
  usersMax: 20_000_000,
  /** Every (scenario, region) group of merchants holds at least one merchant. */
  merchantsMin: 1_000,
  merchantsMax: 5_000_000,
  /** The window must end before the payment schema's latest `atMs` (year 3000). */
  startMsMax: 32_503_680_000_000 - 604_800_000,
} as const;

/** Coded problems with options; each is documented in docs/reference/traffic.md. */
export const TRAFFIC_OPTION_CODES = {
  "traffic.not_integer":
    "An option that counts something (seed, tps, seconds, users, merchants, start) is not a whole number.",
  "traffic.out_of_range": "An option lies outside its documented limits.",
  "traffic.too_many_payments": "tps × seconds exceeds the per-run payment limit.",
  "traffic.invalid_instant":
    "--start is not a real date and time with a UTC offset (e.g. 2025-01-16T14:40:00+08:00).",
  "traffic.invalid_curve":
    "hourlyWeights is not 24 finite, non-negative numbers with at least one above 0.",
  "traffic.empty_window":
    "The daily curve gives the window no weight: every hour it covers weighs 0, so no payment can happen in it.",
} as const;

export type TrafficOptionCode = keyof typeof TRAFFIC_OPTION_CODES;

export interface TrafficOptionsInput {
  readonly seed: number;
  /** Mean payments per second over the window. */
  readonly tps: number;
  readonly seconds: number;
  /** Start of the window, epoch milliseconds. */
  readonly startMs?: number;
  readonly users?: number;
  readonly merchants?: number;
}

/**
 * What a library caller may set besides: the daily curve. Apart from TrafficOptionsInput, which
 * is what the command line sets (each of its options has a flag).
 */
export interface TrafficRunInput extends TrafficOptionsInput {
  /**
   * Relative density per local hour 0–23, read at each hour's midpoint and interpolated in
   * between (docs/reference/traffic.md); the model's HOURLY_WEIGHTS when absent.
   */
  readonly hourlyWeights?: readonly number[];
}

export interface TrafficOptions {
  readonly seed: number;
  readonly tps: number;
  readonly seconds: number;
  readonly startMs: number;
  readonly users: number;
  readonly merchants: number;
  /** 24 hourly weights; HOURLY_WEIGHTS itself when the caller gave none. */
  readonly hourlyWeights: readonly number[];
  /** tps × seconds: exactly how many payments the generator produces. */
  readonly total: number;
}

export interface TrafficOptionError {
  /** The option's name as in TrafficOptionsInput (and, in kebab case, on the command line). */
  readonly option: keyof TrafficOptionsInput | "total";
  readonly code: Exclude<TrafficOptionCode, TrafficCurveError["code"]>;
  readonly message: string;
}

/** A problem with the daily curve: only a library caller can give one. */
export interface TrafficCurveError {
  readonly option: "hourlyWeights";
  readonly code: "traffic.invalid_curve" | "traffic.empty_window";
  readonly message: string;
}

export type TrafficOptionsResult<Error = TrafficOptionError> =
  | { readonly ok: true; readonly options: TrafficOptions }
  | { readonly ok: false; readonly errors: readonly Error[] };

export const HOURS_PER_DAY = 24;

/** Options as the command line gives them: no curve, so no curve errors. */
export function resolveTrafficOptions(
  input: TrafficOptionsInput & { readonly hourlyWeights?: undefined },
): TrafficOptionsResult;
/** Options with a daily curve, which may be refused as well. */
export function resolveTrafficOptions(
  input: TrafficRunInput,
): TrafficOptionsResult<TrafficOptionError | TrafficCurveError>;
export function resolveTrafficOptions(
  input: TrafficRunInput,
): TrafficOptionsResult<TrafficOptionError | TrafficCurveError> {
  const errors: (TrafficOptionError | TrafficCurveError)[] = [];
  const check = (
    option: keyof TrafficOptionsInput,
    value: number,
    min: number,
    max: number,
  ): void => {
    if (!Number.isSafeInteger(value)) {
      errors.push({
        option,
        code: "traffic.not_integer",
        message: `${option} must be a whole number, got ${value}`,
      });
    } else if (value < min || value > max) {
      errors.push({
        option,
        code: "traffic.out_of_range",
        message: `${option} must be ${min}..${max}, got ${value}`,
      });
    }
  };
  const startMs = input.startMs ?? TRAFFIC_START_MS_DEFAULT;
  const users = input.users ?? POPULATION_MODEL.usersDefault;
  const merchants = input.merchants ?? POPULATION_MODEL.merchantsDefault;
  check("seed", input.seed, 0, TRAFFIC_LIMITS.seedMax);
  check("tps", input.tps, 1, TRAFFIC_LIMITS.tpsMax);
  check("seconds", input.seconds, 1, TRAFFIC_LIMITS.secondsMax);
  check("startMs", startMs, 0, TRAFFIC_LIMITS.startMsMax);
  check("users", users, TRAFFIC_LIMITS.usersMin, TRAFFIC_LIMITS.usersMax);
  check("merchants", merchants, TRAFFIC_LIMITS.merchantsMin, TRAFFIC_LIMITS.merchantsMax);
  const hourlyWeights = input.hourlyWeights ?? HOURLY_WEIGHTS;
  const curveError = checkCurve(hourlyWeights);
  if (curveError !== undefined) errors.push(curveError);
  const total = input.tps * input.seconds;
  if (errors.length === 0 && total > TRAFFIC_LIMITS.paymentsMax) {
    errors.push({
      option: "total",
      code: "traffic.too_many_payments",
      message: `tps × seconds is ${total}; at most ${TRAFFIC_LIMITS.paymentsMax} payments per run`,
    });
  }
  if (
    errors.length === 0 &&
    !curveHasWeight({
      startMs,
      seconds: input.seconds,
      localOffsetMs: offsetMsAt(startMs, TRAFFIC_TIME_ZONE),
      hourlyWeights,
    })
  ) {
    errors.push({
      option: "hourlyWeights",
      code: "traffic.empty_window",
      message: `the daily curve is 0 over the whole window of ${input.seconds} s from ${new Date(startMs).toISOString()}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    options: {
      seed: input.seed,
      tps: input.tps,
      seconds: input.seconds,
      startMs,
      users,
      merchants,
      // A copy, frozen: the caller's array may change after the generator has been built.
      hourlyWeights:
        hourlyWeights === HOURLY_WEIGHTS ? HOURLY_WEIGHTS : Object.freeze([...hourlyWeights]),
      total,
    },
  };
}

/** 24 finite, non-negative weights, at least one positive: anything else is no curve. */
function checkCurve(hourlyWeights: readonly number[]): TrafficCurveError | undefined {
  if (!Array.isArray(hourlyWeights) || hourlyWeights.length !== HOURS_PER_DAY) {
    return {
      option: "hourlyWeights",
      code: "traffic.invalid_curve",
      message: `hourlyWeights must be ${HOURS_PER_DAY} numbers, got ${Array.isArray(hourlyWeights) ? hourlyWeights.length : typeof hourlyWeights}`,
    };
  }
  const bad = hourlyWeights.findIndex(
    (weight) => typeof weight !== "number" || !Number.isFinite(weight) || weight < 0,
  );
  if (bad >= 0) {
    return {
      option: "hourlyWeights",
      code: "traffic.invalid_curve",
      message: `hourlyWeights[${bad}] must be a finite number of at least 0, got ${hourlyWeights[bad]}`,
    };
  }
  if (!hourlyWeights.some((weight) => weight > 0)) {
    return {
      option: "hourlyWeights",
      code: "traffic.invalid_curve",
      message: "hourlyWeights must have at least one weight above 0",
    };
  }
  return undefined;
}
