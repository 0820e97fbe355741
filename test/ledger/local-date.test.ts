import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { localDate } from "../../src/core/ledger/plan-reservation.ts";
import { zonedParts } from "../../src/core/time-zone.ts";

const ZONES = [
  "Asia/Shanghai",
  "America/New_York",
  "Australia/Lord_Howe",
  "America/Santiago",
  "UTC",
];

function uncached(atMs: number, timeZone: string): string {
  const local = zonedParts(atMs, timeZone);
  return `${local.year}-${String(local.month).padStart(2, "0")}-${String(local.day).padStart(2, "0")}`;
}

describe("localDate", () => {
  test.prop([
    fc.array(
      fc.tuple(
        fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
        fc.constantFrom(...ZONES),
      ),
      { maxLength: 50 },
    ),
  ])(
    "answers as Intl does, whatever order instants and zones come in (the day cache never goes stale)",
    (lookups) => {
      for (const [atMs, timeZone] of lookups)
        expect(localDate(atMs, timeZone)).toBe(uncached(atMs, timeZone));
    },
  );

  test.prop([
    fc.integer({ min: 1_704_067_200_000, max: 1_767_225_600_000 }),
    fc.constantFrom(...ZONES),
  ])(
    "is right at every minute around a day boundary and a daylight-saving change, in time order",
    (startMs, timeZone) => {
      for (let atMs = startMs; atMs < startMs + 3 * 3_600_000; atMs += 60_000) {
        expect(localDate(atMs, timeZone)).toBe(uncached(atMs, timeZone));
      }
    },
  );

  test("is right minute by minute through known daylight-saving changes, including ones at midnight", () => {
    const windows: [string, number][] = [
      ["America/New_York", Date.UTC(2025, 10, 2, 0, 0)], // falls back 02:00 → 01:00 on 2 November
      ["America/New_York", Date.UTC(2025, 2, 9, 2, 0)], // springs forward 02:00 → 03:00 on 9 March
      ["America/Santiago", Date.UTC(2025, 3, 5, 22, 0)], // falls back at midnight on 6 April
      ["America/Santiago", Date.UTC(2025, 8, 6, 22, 0)], // springs forward at midnight on 7 September
    ];
    for (const [timeZone, fromMs] of windows) {
      for (let atMs = fromMs; atMs < fromMs + 10 * 3_600_000; atMs += 60_000) {
        expect(localDate(atMs, timeZone), `${timeZone} ${atMs}`).toBe(uncached(atMs, timeZone));
      }
    }
  });
});
