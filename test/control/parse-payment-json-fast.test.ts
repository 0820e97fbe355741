/**
 * The fast payment-line parser never disagrees with JSON.parse: whenever it answers, JSON.parse
 * gives an equal object (absent keys are undefined in its one shape); for the writer's own lines
 * it always answers; for anything else it may decline (undefined), never differ.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { parsePaymentJsonFast } from "../../src/control/parse-payment-json-fast.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { paymentsArbitrary, snapshotArbitrary } from "../support/evaluator-arbitraries.ts";

/** Own keys with a defined value: what JSON.stringify would keep. */
function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined));
}

function expectAgrees(line: string): boolean {
  const fast = parsePaymentJsonFast(line);
  if (fast === undefined) return false;
  expect(defined(fast)).toStrictEqual(JSON.parse(line));
  return true;
}

const KEYS = [
  "paymentId",
  "userId",
  "amountMinor",
  "currency",
  "scenario",
  "payeeKind",
  "merchantId",
  "merchantCategory",
  "region",
  "channel",
  "paymentMethod",
  "atMs",
  "deviceId",
  "cardFingerprint",
  "segments",
  "other",
  "__proto__",
  "atM",
  "paymentIdX",
];

/** Objects near the format: known and unknown keys, any JSON values, written by JSON.stringify. */
const nearLineArbitrary = fc
  .dictionary(
    fc.constantFrom(...KEYS),
    fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.array(fc.string())),
    {
      maxKeys: 16,
    },
  )
  .map((object) => JSON.stringify(object));

describe("parsePaymentJsonFast", () => {
  test("answers for every line the generator writes, with what JSON.parse gives", () => {
    const created = TrafficGenerator.create({ seed: 7, tps: 2_000, seconds: 1 });
    if (!created.ok) throw new Error("generator options");
    for (const payment of created.generator)
      expect(expectAgrees(JSON.stringify(payment))).toBe(true);
  });

  test.prop([
    snapshotArbitrary({ wild: false }, 2).chain((snapshot) =>
      paymentsArbitrary(snapshot, { mix: "both" }),
    ),
  ])("valid and corrupted payments: equal to JSON.parse whenever it answers", (payments) => {
    for (const payment of payments) {
      let line: string | undefined;
      try {
        line = JSON.stringify(payment);
      } catch {
        continue; // A bigint field: not a line anyone could have written.
      }
      if (line !== undefined) expectAgrees(line);
    }
  });

  test.prop([nearLineArbitrary])("objects near the format: equal or declined", (line) => {
    expectAgrees(line);
  });

  test.prop([nearLineArbitrary, fc.nat(), fc.string({ maxLength: 3 })])(
    "edited lines (a cut, an insertion): equal or declined, never a different object",
    (line, at, insertion) => {
      const position = at % (line.length + 1);
      const edited = line.slice(0, position) + insertion + line.slice(position + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(edited);
      } catch {
        expect(parsePaymentJsonFast(edited)).toBeUndefined();
        return;
      }
      const fast = parsePaymentJsonFast(edited);
      if (fast !== undefined) expect(defined(fast)).toStrictEqual(parsed);
    },
  );

  test("declines what is outside the format", () => {
    for (const line of [
      '{ "paymentId":"p1"}',
      '{"paymentId":"p\\u0031"}',
      '{"amountMinor":1.5}',
      '{"amountMinor":1e3}',
      '{"amountMinor":-1}',
      '{"amountMinor":01}',
      '{"amountMinor":1234567890123456}',
      '{"paymentId":"a","paymentId":"b"}',
      '{"unknown":"x"}',
      '{"paymentId":null}',
      '{"segments":["a",1]}',
      '{"paymentId":"p1"} ',
      "[]",
    ])
      expect(parsePaymentJsonFast(line), line).toBeUndefined();
  });
});
