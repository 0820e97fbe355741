/**
 * Options of the traffic generator, their defaults and limits. Out-of-range options are an
 * expected outcome (a typo on the command line), so they come back as coded errors, not throws.
 */
import { POPULATION_MODEL } from "./traffic-model.ts";

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

export interface TrafficOptions {
  readonly seed: number;
  readonly tps: number;
  readonly seconds: number;
  readonly startMs: number;
  readonly users: number;
  readonly merchants: number;
  /** tps × seconds: exactly how many payments the generator produces. */
  readonly total: number;
}

export interface TrafficOptionError {
  /** The option's name as in TrafficOptionsInput (and, in kebab case, on the command line). */
  readonly option: keyof TrafficOptionsInput | "total";
  readonly code: TrafficOptionCode;
  readonly message: string;
}

export type TrafficOptionsResult =
  | { readonly ok: true; readonly options: TrafficOptions }
  | { readonly ok: false; readonly errors: readonly TrafficOptionError[] };

export function resolveTrafficOptions(input: TrafficOptionsInput): TrafficOptionsResult {
  const errors: TrafficOptionError[] = [];
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
  const total = input.tps * input.seconds;
  if (errors.length === 0 && total > TRAFFIC_LIMITS.paymentsMax) {
    errors.push({
      option: "total",
      code: "traffic.too_many_payments",
      message: `tps × seconds is ${total}; at most ${TRAFFIC_LIMITS.paymentsMax} payments per run`,
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
      total,
    },
  };
}
