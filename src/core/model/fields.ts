/**
 * Field schemas shared by every document. Domain checks report their own finding code through
 * `params.finding`; `toFindings` maps the rest of Zod's issues onto the catalog. Each field also
 * carries JSON Schema metadata so the published schemas say what the checks say.
 */
import { z } from "zod";
import type { FindingCode } from "../findings.ts";
import { AMOUNT_MINOR_MAX, BPS_PER_UNIT, CURRENCIES, type Currency, isCurrency } from "../money.ts";
import { isRegion, REGIONS, type Region } from "../region.ts";
import { isScenario, SCENARIOS, type Scenario } from "../scenario.ts";
import { isTimeZone, parseLocalDateTime } from "../time-zone.ts";

/** Limits on document sizes, checked at load time (STYLE: limits on everything). */
export const MODEL_LIMITS = {
  idLengthMax: 64,
  nameLengthMax: 200,
  displayTitleLengthMax: 40,
  displayDescriptionLengthMax: 400,
  scopeListLengthMax: 1_000,
  merchantIdsMax: 10_000,
  thresholdTiersMax: 10,
  dailyWindowsMax: 8,
  priorityMax: 1_000_000,
  countMax: 1_000_000,
  /** Ten years: longer is not a campaign but a standing subsidy. */
  campaignDaysMax: 3_660,
} as const;

export interface FindingParams {
  readonly finding: FindingCode;
}

type Check<T> = (value: T) => { code: FindingCode; message: string } | undefined;

function checked<S extends z.ZodType>(schema: S, check: Check<z.output<S>>): S {
  return schema.check((context) => {
    const problem = check(context.value);
    if (problem === undefined) return;
    context.issues.push({
      code: "custom",
      input: context.value,
      message: problem.message,
      params: { finding: problem.code } satisfies FindingParams,
    });
  }) as S;
}

export const identifier = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, "expected lower-case letters, digits and dashes")
  .max(MODEL_LIMITS.idLengthMax)
  .meta({ description: "Stable identifier: lower-case letters, digits and dashes; never reused." });

export const name = z.string().min(1).max(MODEL_LIMITS.nameLengthMax);

export interface MinorUnitsOptions {
  readonly min?: number;
  readonly max?: number;
  readonly description?: string;
}

/** An amount in integer minor units (fen for CNY, cents for USD, yen for JPY, fils for KWD). */
export function minorUnits(options: MinorUnitsOptions = {}) {
  const min = options.min ?? 0;
  const max = options.max ?? AMOUNT_MINOR_MAX;
  return checked(z.number(), (value) => {
    if (!Number.isInteger(value)) {
      return {
        code: "money.not_integer",
        message: `expected an integer amount in minor units (fen, cents), got ${value}`,
      };
    }
    if (!Number.isSafeInteger(value) || value > AMOUNT_MINOR_MAX) {
      return {
        code: "money.unsafe_integer",
        message: `amount ${value} is beyond the largest allowed amount ${AMOUNT_MINOR_MAX}`,
      };
    }
    if (value < min || value > max) {
      return {
        code: "money.out_of_range",
        message: `expected ${min}..${max} minor units, got ${value}`,
      };
    }
    return undefined;
  }).meta({
    type: "integer",
    minimum: min,
    maximum: max,
    description: options.description ?? "Amount in integer minor units of the currency.",
  });
}

/** A rate in integer basis points: 100 = 1 %, 10,000 = 100 %. */
export function basisPoints(min = 1, max = BPS_PER_UNIT) {
  return checked(z.number(), (value) => {
    const expected = `expected an integer ${min}..${max} (basis points: 2000 = 20 %), got ${value}`;
    if (!Number.isInteger(value)) return { code: "rate.not_integer", message: expected };
    if (value < min || value > max) return { code: "rate.out_of_range", message: expected };
    return undefined;
  }).meta({ type: "integer", minimum: min, maximum: max, description: "Rate in basis points." });
}

/** A whole number such as a count or a priority. */
export function wholeNumber(min: number, max: number) {
  return checked(z.number(), (value) => {
    const expected = `expected a whole number ${min}..${max}, got ${value}`;
    if (!Number.isInteger(value)) return { code: "number.not_integer", message: expected };
    if (value < min || value > max) return { code: "number.out_of_range", message: expected };
    return undefined;
  }).meta({ type: "integer", minimum: min, maximum: max });
}

function closedSet<T extends string>(
  values: readonly T[],
  isMember: (value: string) => value is T,
  code: FindingCode,
  noun: string,
) {
  return checked(z.string(), (value) =>
    isMember(value)
      ? undefined
      : { code, message: `unknown ${noun} "${value}"; expected one of ${values.join(", ")}` },
  ).meta({ enum: [...values] }) as unknown as z.ZodType<T, string>;
}

export const currency = closedSet<Currency>(CURRENCIES, isCurrency, "currency.unknown", "currency");
export const scenario = closedSet<Scenario>(SCENARIOS, isScenario, "scenario.unknown", "scenario");
export const region = closedSet<Region>(REGIONS, isRegion, "region.unknown", "region");

export const timeZone = checked(z.string(), (value) =>
  isTimeZone(value)
    ? undefined
    : {
        code: "time_zone.unknown",
        message: `unknown time zone "${value}"; use an IANA name such as Asia/Shanghai`,
      },
).meta({ description: "IANA time zone name, e.g. Asia/Shanghai." });

/** A wall-clock time without offset; the enclosing period's `timeZone` says where it is. */
export const localDateTime = checked(z.string(), (value) => {
  const parsed = parseLocalDateTime(value);
  if (parsed === "has_offset") {
    return {
      code: "schedule.offset_in_local_time",
      message: `"${value}" carries a UTC offset; write the local time and set timeZone instead`,
    };
  }
  if (parsed === "invalid") {
    return {
      code: "schedule.invalid_local_time",
      message: `expected a local time YYYY-MM-DDTHH:mm[:ss], got "${value}"`,
    };
  }
  return undefined;
}).meta({
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?$",
  description: "Local date and time in the period's time zone, without offset.",
});

/** `HH:mm` within a day; `24:00` closes a window at midnight. */
export const clockTime = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, "expected HH:mm between 00:00 and 24:00");

export function minutesOfDay(text: string): number {
  const [hours, minutes] = text.split(":").map(Number);
  return hours! * 60 + minutes!;
}

/** A bounded list of scope values. */
export function scopeList<T extends z.ZodType>(
  item: T,
  max: number = MODEL_LIMITS.scopeListLengthMax,
) {
  return z.array(item).max(max);
}

export function findingOf(issue: z.core.$ZodIssue): FindingCode | undefined {
  if (issue.code !== "custom") return undefined;
  const finding = (issue.params as Partial<FindingParams> | undefined)?.finding;
  return finding;
}
