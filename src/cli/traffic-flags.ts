/**
 * Flags shared by the commands that generate traffic (`traffic generate`, `traffic summarize`,
 * `run`): parsed here into a TrafficGenerator, every problem reported at once with its code.
 */
import { TrafficGenerator } from "../traffic/traffic-generator.ts";
import type { TrafficOptionsInput } from "../traffic/traffic-options.ts";
import { EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "./exit-codes.ts";

export interface GenerationFlags {
  seed?: string;
  tps?: string;
  seconds?: string;
  start?: string;
  users?: string;
  merchants?: string;
}

export const FLAG_NAMES: Readonly<Record<keyof TrafficOptionsInput | "total", string>> = {
  seed: "--seed",
  tps: "--tps",
  seconds: "--seconds",
  startMs: "--start",
  users: "--users",
  merchants: "--merchants",
  total: "--tps × --seconds",
};

export type Complain = (message: string) => void;

/** Reports a problem with the invocation on stderr and sets exit code 2. */
export function complainer(command: string, outcome: ExitCodeHolder): Complain {
  return (message) => {
    process.stderr.write(`${command}: ${message}\n`);
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  };
}

export function createGenerator(
  flags: GenerationFlags,
  say: Complain,
): TrafficGenerator | undefined {
  const problems: string[] = [];
  // Flags that are not numbers at all are reported once, here, and not again as out of range.
  const unparsed = new Set<string>();
  const whole = (name: keyof GenerationFlags): number | undefined => {
    const text = flags[name];
    if (text === undefined) return undefined;
    if (/^\d{1,16}$/.test(text)) return Number(text);
    problems.push(
      `--${name}: expected a whole number, got ${JSON.stringify(text)} [traffic.not_integer]`,
    );
    unparsed.add(FLAG_NAMES[name as keyof typeof FLAG_NAMES]);
    return Number.NaN;
  };
  const seed = whole("seed") ?? Number.NaN;
  const tps = whole("tps") ?? Number.NaN;
  const seconds = whole("seconds") ?? Number.NaN;
  const users = whole("users");
  const merchants = whole("merchants");
  let startMs: number | undefined;
  if (flags.start !== undefined) {
    startMs = parseInstantWithOffset(flags.start);
    if (startMs === undefined) {
      problems.push(
        `--start: expected a date and time with its offset, such as 2025-01-16T14:40:00+08:00, got ${JSON.stringify(flags.start)} [traffic.invalid_instant]`,
      );
    }
  }
  const created = TrafficGenerator.create({ seed, tps, seconds, startMs, users, merchants });
  if (created.ok && problems.length === 0) return created.generator;
  if (!created.ok) {
    for (const error of created.errors) {
      const flag = FLAG_NAMES[error.option];
      if (!unparsed.has(flag)) problems.push(`${flag}: ${error.message} [${error.code}]`);
    }
  }
  for (const problem of problems) say(problem);
  return undefined;
}

const INSTANT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * Epoch milliseconds of `2025-01-16T14:40:00+08:00` (seconds and milliseconds optional, `Z` for
 * UTC). The offset is required: a bare local time would depend on the machine's time zone.
 * Impossible dates (February 30th) are refused rather than rolled over as Date.parse does.
 */
export function parseInstantWithOffset(text: string): number | undefined {
  const match = INSTANT_PATTERN.exec(text);
  if (match === null) return undefined;
  const [
    ,
    yearText,
    monthText,
    dayText,
    hourText,
    minuteText,
    secondText,
    millisText,
    zone,
    sign,
    offsetHoursText,
    offsetMinutesText,
  ] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText ?? "0");
  const millis = Number((millisText ?? "0").padEnd(3, "0"));
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const wall = new Date(wallMs);
  const sameDate =
    wall.getUTCFullYear() === year && wall.getUTCMonth() === month - 1 && wall.getUTCDate() === day;
  if (!sameDate || hour > 23 || minute > 59 || second > 59) return undefined;
  if (zone!.toUpperCase() === "Z") return wallMs;
  const offsetHours = Number(offsetHoursText);
  const offsetMinutes = Number(offsetMinutesText);
  if (offsetHours > 18 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (sign === "-" ? -1 : 1);
  return wallMs - offsetMs;
}

export function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown })?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return cause instanceof Error ? cause.message : String(cause);
}
