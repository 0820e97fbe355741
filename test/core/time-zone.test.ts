import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  formatLocalDateTime,
  isTimeZone,
  localToInstantMs,
  offsetMsAt,
  parseLocalDateTime,
  zonedParts,
} from "../../src/core/time-zone.ts";

const ZONES = [
  "Asia/Shanghai",
  "Asia/Tokyo",
  "Asia/Kuwait",
  "America/New_York",
  "Europe/London",
  "Australia/Lord_Howe",
  "UTC",
];
// 2000-01-01 .. 2100-01-01
const instantMs = fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 });
const HOUR_MS = 3_600_000;

describe("zonedParts and localToInstantMs", () => {
  test.prop([instantMs, fc.constantFrom(...ZONES)])(
    "local time of an instant maps back to an instant with the same local time, never later",
    (instant, zone) => {
      const wholeSecond = Math.floor(instant / 1000) * 1000;
      const local = zonedParts(wholeSecond, zone);
      const back = localToInstantMs(local, zone);
      expect(back).toBeLessThanOrEqual(wholeSecond);
      expect(formatLocalDateTime(zonedParts(back, zone))).toBe(formatLocalDateTime(local));
    },
  );

  test.prop([instantMs])(
    "Asia/Shanghai is UTC+8 at every instant: the round trip is exact",
    (instant) => {
      const wholeSecond = Math.floor(instant / 1000) * 1000;
      expect(offsetMsAt(wholeSecond, "Asia/Shanghai")).toBe(8 * HOUR_MS);
      expect(localToInstantMs(zonedParts(wholeSecond, "Asia/Shanghai"), "Asia/Shanghai")).toBe(
        wholeSecond,
      );
    },
  );

  test("the incident started at 14:40 Beijing time, 06:40 UTC", () => {
    const local = { year: 2025, month: 1, day: 16, hour: 14, minute: 40, second: 0 };
    expect(localToInstantMs(local, "Asia/Shanghai")).toBe(Date.UTC(2025, 0, 16, 6, 40));
    expect(zonedParts(Date.UTC(2025, 0, 16, 6, 40), "Asia/Shanghai").weekday).toBe(4);
  });

  test("a local time skipped by a daylight-saving jump moves forward by the gap", () => {
    // New York jumped from 02:00 to 03:00 on 2025-03-09; 02:30 does not exist and means 03:30 EDT.
    const skipped = { year: 2025, month: 3, day: 9, hour: 2, minute: 30, second: 0 };
    expect(localToInstantMs(skipped, "America/New_York")).toBe(Date.UTC(2025, 2, 9, 7, 30));
  });

  test("a local time repeated by a daylight-saving fall-back means its earlier instant", () => {
    // New York fell back from 02:00 EDT to 01:00 EST on 2025-11-02; 01:30 happens twice.
    const repeated = { year: 2025, month: 11, day: 2, hour: 1, minute: 30, second: 0 };
    expect(localToInstantMs(repeated, "America/New_York")).toBe(Date.UTC(2025, 10, 2, 5, 30));
  });

  test.prop([instantMs, fc.constantFrom(...ZONES)])(
    "is monotonic: later local times are not earlier instants",
    (instant, zone) => {
      const local = zonedParts(instant, zone);
      const later = zonedParts(instant + 2 * HOUR_MS + 61_000, zone);
      expect(localToInstantMs(later, zone)).toBeGreaterThanOrEqual(localToInstantMs(local, zone));
    },
  );
});

describe("parseLocalDateTime", () => {
  test.prop([instantMs])("parses what formatLocalDateTime writes", (instant) => {
    const local = zonedParts(instant, "UTC");
    const { weekday: _weekday, ...fields } = local;
    expect(parseLocalDateTime(formatLocalDateTime(local))).toEqual(fields);
  });

  test("accepts minutes without seconds and refuses impossible dates", () => {
    expect(parseLocalDateTime("2025-01-16T14:40")).toEqual({
      year: 2025,
      month: 1,
      day: 16,
      hour: 14,
      minute: 40,
      second: 0,
    });
    expect(parseLocalDateTime("2024-02-29T00:00")).not.toBe("invalid");
    expect(parseLocalDateTime("2025-02-29T00:00")).toBe("invalid");
    expect(parseLocalDateTime("2025-04-31T00:00")).toBe("invalid");
    expect(parseLocalDateTime("2025-13-01T00:00")).toBe("invalid");
    expect(parseLocalDateTime("2025-01-01T24:00")).toBe("invalid");
    expect(parseLocalDateTime("1969-12-31T23:59")).toBe("invalid");
    expect(parseLocalDateTime("2025-01-16")).toBe("invalid");
  });

  test("reports an offset separately, because the zone field says where the time is", () => {
    expect(parseLocalDateTime("2025-01-16T14:40:00Z")).toBe("has_offset");
    expect(parseLocalDateTime("2025-01-16T14:40+08:00")).toBe("has_offset");
  });
});

describe("isTimeZone", () => {
  test("knows IANA names and refuses made-up ones and offsets", () => {
    expect(isTimeZone("Asia/Shanghai")).toBe(true);
    expect(isTimeZone("Asia/Kuwait")).toBe(true);
    expect(isTimeZone("Asia/Beijing")).toBe(false);
    expect(isTimeZone("")).toBe(false);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
  });
});
