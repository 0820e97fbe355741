import { z } from "zod";
import { localToInstantMs, parseLocalDateTime } from "../time-zone.ts";
import { clockTime, localDateTime, MODEL_LIMITS, minutesOfDay, timeZone } from "./fields.ts";

/** ISO weekday numbers: 1 = Monday … 7 = Sunday. */
const weekday = z.int().min(1).max(7);

const dailyWindow = z.strictObject({ from: clockTime, to: clockTime });

/** A period in an explicit time zone. `start` is inclusive and `end` exclusive. */
export const periodSchema = z.strictObject({
  timeZone,
  start: localDateTime,
  end: localDateTime,
});

export const scheduleSchema = periodSchema.extend({
  /** Optional windows of local time within each day, e.g. lunch 11:00–14:00. */
  daily: z.array(dailyWindow).min(1).max(MODEL_LIMITS.dailyWindowsMax).optional(),
  /** Optional ISO weekdays on which the campaign runs. */
  weekdays: z.array(weekday).min(1).max(7).optional(),
});

export type Period = z.output<typeof periodSchema>;
export type Schedule = z.output<typeof scheduleSchema>;

export interface PeriodProblem {
  readonly path: readonly (string | number)[];
  readonly code: "schedule.end_not_after_start" | "schedule.invalid_daily_window";
  readonly message: string;
}

/** The instants a period covers: `[startMs, endMs)`. Call only on a validated period. */
export function periodInstants(period: Period): { startMs: number; endMs: number } {
  const start = parseLocalDateTime(period.start);
  const end = parseLocalDateTime(period.end);
  if (typeof start === "string" || typeof end === "string") {
    throw new Error("periodInstants called on an unvalidated period");
  }
  return {
    startMs: localToInstantMs(start, period.timeZone),
    endMs: localToInstantMs(end, period.timeZone),
  };
}

/** Checks that need more than one field: order of start and end, and of daily windows. */
export function checkSchedule(
  schedule: Period & Partial<Pick<Schedule, "daily">>,
): PeriodProblem[] {
  const problems: PeriodProblem[] = [];
  const { startMs, endMs } = periodInstants(schedule);
  if (endMs <= startMs) {
    problems.push({
      path: ["end"],
      code: "schedule.end_not_after_start",
      message: `end ${schedule.end} is not after start ${schedule.start} in ${schedule.timeZone}`,
    });
  }
  schedule.daily?.forEach((window, index) => {
    if (minutesOfDay(window.from) >= minutesOfDay(window.to)) {
      problems.push({
        path: ["daily", index],
        code: "schedule.invalid_daily_window",
        message: `window ${window.from}–${window.to} does not start before it ends; split windows that cross midnight`,
      });
    }
  });
  return problems;
}
