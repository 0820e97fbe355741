/**
 * Wall-clock time in IANA time zones, on top of the ICU data in `Intl`. Pure: it reads no clock.
 *
 * Local times that a daylight-saving change makes ambiguous or skips are resolved the way
 * Temporal's "compatible" disambiguation does: a repeated local time means its earlier instant,
 * a skipped local time is moved forward by the length of the gap (02:30 in a 02:00→03:00 jump
 * becomes 03:30). See docs/reference/schedules.md.
 */

export interface LocalDateTime {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  /** 1–31 */
  readonly day: number;
  /** 0–23 */
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export interface ZonedParts extends LocalDateTime {
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
}

/** Local times are accepted for these years only; a typo such as 20225 is caught at once. */
export const LOCAL_YEAR_MIN = 1970;
export const LOCAL_YEAR_MAX = 2999;

const MS_PER_DAY = 86_400_000;
const LOCAL_TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const OFFSET_SUFFIX_PATTERN = /(?:Z|[+-]\d{2}:?\d{2})$/i;

// Building a DateTimeFormat costs tens of microseconds; one per zone is kept for reuse.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a name `Intl` knows as a time zone (IANA names such as `Asia/Shanghai`, and `UTC`). */
export function isTimeZone(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  try {
    formatterFor(name);
    return true;
  } catch {
    return false;
  }
}

const WEEKDAYS: Readonly<Record<string, number>> = {
  Mon: 1,
  Tue: 2,
  Wed: 3,
  Thu: 4,
  Fri: 5,
  Sat: 6,
  Sun: 7,
};

/** The wall-clock reading in `timeZone` at `instantMs` (milliseconds since the Unix epoch). */
export function zonedParts(instantMs: number, timeZone: string): ZonedParts {
  const fields: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs))
    fields[part.type] = part.value;
  return {
    year: Number(fields.year),
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
    weekday: WEEKDAYS[fields.weekday ?? ""] ?? 0,
  };
}

/** UTC offset of `timeZone` at `instantMs`, in milliseconds (Asia/Shanghai: +28,800,000). */
export function offsetMsAt(instantMs: number, timeZone: string): number {
  const wholeSecondMs = Math.floor(instantMs / 1000) * 1000;
  const local = zonedParts(wholeSecondMs, timeZone);
  return localAsUtcMs(local) - wholeSecondMs;
}

function localAsUtcMs(local: LocalDateTime): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
}

/** The instant a local wall-clock time names in `timeZone` (compatible disambiguation). */
export function localToInstantMs(local: LocalDateTime, timeZone: string): number {
  const wallMs = localAsUtcMs(local);
  const offsetBeforeMs = offsetMsAt(wallMs - MS_PER_DAY, timeZone);
  const offsetAfterMs = offsetMsAt(wallMs + MS_PER_DAY, timeZone);
  let earliest: number | undefined;
  for (const offsetMs of [offsetBeforeMs, offsetAfterMs]) {
    const candidateMs = wallMs - offsetMs;
    if (offsetMsAt(candidateMs, timeZone) !== offsetMs) continue;
    if (earliest === undefined || candidateMs < earliest) earliest = candidateMs;
  }
  // No offset fits: the local time falls in a gap. Reading it with the offset from before the
  // gap lands after the gap by exactly the distance into it.
  return earliest ?? wallMs - offsetBeforeMs;
}

export type LocalTimeProblem = "invalid" | "has_offset";

/**
 * Parses `YYYY-MM-DDTHH:mm[:ss]`. A trailing `Z` or UTC offset is reported separately: a
 * schedule's local times are in its time zone, and an offset would say something else.
 */
export function parseLocalDateTime(text: string): LocalDateTime | LocalTimeProblem {
  const match = LOCAL_TIME_PATTERN.exec(text);
  if (match === null) return OFFSET_SUFFIX_PATTERN.test(text) ? "has_offset" : "invalid";
  const [year, month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0));
  const local = {
    year: year!,
    month: month!,
    day: day!,
    hour: hour!,
    minute: minute!,
    second: second!,
  };
  if (local.year < LOCAL_YEAR_MIN || local.year > LOCAL_YEAR_MAX) return "invalid";
  if (local.hour > 23 || local.minute > 59 || local.second > 59) return "invalid";
  if (local.month < 1 || local.month > 12) return "invalid";
  if (local.day < 1 || local.day > daysInMonth(local.year, local.month)) return "invalid";
  return local;
}

/** The calendar day after `local`'s, at midnight. */
export function nextDayAtMidnight(
  local: Pick<LocalDateTime, "year" | "month" | "day">,
): LocalDateTime {
  const midnight = { hour: 0, minute: 0, second: 0 };
  if (local.day < daysInMonth(local.year, local.month))
    return { year: local.year, month: local.month, day: local.day + 1, ...midnight };
  if (local.month < 12) return { year: local.year, month: local.month + 1, day: 1, ...midnight };
  return { year: local.year + 1, month: 1, day: 1, ...midnight };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Renders a local time as `YYYY-MM-DDTHH:mm:ss`. */
export function formatLocalDateTime(local: LocalDateTime): string {
  const pad = (value: number, width = 2) => String(value).padStart(width, "0");
  return `${pad(local.year, 4)}-${pad(local.month)}-${pad(local.day)}T${pad(local.hour)}:${pad(local.minute)}:${pad(local.second)}`;
}
