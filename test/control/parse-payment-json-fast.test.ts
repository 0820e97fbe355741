/**
 * The fast payment-line parser never disagrees with JSON.parse: whenever it answers, JSON.parse
 * gives an equal object (absent keys are undefined in its one shape); for the writer's own lines
 * it always answers; for anything else it may decline (undefined), never differ. The direct
 * parser into a simulation's checked payment is held to JSON.parse and the payment check.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  parsePaymentJsonFast,
  parsePaymentLineInto,
} from "../../src/control/parse-payment-json-fast.ts";
import { CheckedPayment, fastPaymentCheck } from "../../src/core/evaluator/fast-payment-check.ts";
import { SimulatedPayment } from "../../src/core/simulation/simulated-payment.ts";
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

/**
 * The direct parser (lines straight into a simulation's checked payment) claims a line only when
 * the object path would find a valid payment in it, and then holds exactly what the payment check
 * writes; every other line — invalid payments, hostile text, anything outside the format — it
 * leaves to the object path, which counts and explains it as before.
 */
describe("parsePaymentLineInto", () => {
  const into = new SimulatedPayment();

  /** True when the direct parser claimed `line`; then it agrees with JSON.parse + the check. */
  function expectDirectAgrees(line: string, padding = ""): boolean {
    const text = `${padding}${line}${padding}`;
    const claimed = parsePaymentLineInto(text, padding.length, padding.length + line.length, into);
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      expect(claimed, line).toBe(false);
      return false;
    }
    const expected = new CheckedPayment();
    const valid = fastPaymentCheck(parsed, expected);
    if (!claimed) return false;
    expect(valid, line).toBe(true);
    expect({ ...into.checked }).toStrictEqual({ ...expected });
    const payment = parsed as Record<string, string | undefined>;
    const identity = (text: string, start: number, end: number) =>
      start < 0 ? undefined : text.slice(start, end);
    expect(identity(into.userText, into.userStart, into.userEnd)).toBe(payment.userId);
    expect(identity(into.deviceText, into.deviceStart, into.deviceEnd)).toBe(payment.deviceId);
    expect(identity(into.cardText, into.cardStart, into.cardEnd)).toBe(payment.cardFingerprint);
    return true;
  }

  test("claims every line the generator writes", () => {
    const created = TrafficGenerator.create({ seed: 11, tps: 2_000, seconds: 1 });
    if (!created.ok) throw new Error("generator options");
    for (const payment of created.generator)
      expect(expectDirectAgrees(JSON.stringify(payment), "x\n")).toBe(true);
  });

  test.prop([
    snapshotArbitrary({ wild: false }, 2).chain((snapshot) =>
      paymentsArbitrary(snapshot, { mix: "both" }),
    ),
  ])(
    "valid and corrupted payments: claimed only when valid, with the check's fields",
    (payments) => {
      for (const payment of payments) {
        let line: string | undefined;
        try {
          line = JSON.stringify(payment);
        } catch {
          continue;
        }
        if (line !== undefined) expectDirectAgrees(line);
      }
    },
  );

  test.prop([nearLineArbitrary])("objects near the format: claimed only when valid", (line) => {
    expectDirectAgrees(line);
  });

  let base: Record<string, unknown> | undefined;
  /** A generated payment with every optional field: the line the hostile values go into. */
  function basePayment(): Record<string, unknown> {
    if (base === undefined) {
      const created = TrafficGenerator.create({ seed: 3, tps: 10, seconds: 1 });
      if (!created.ok) throw new Error("generator options");
      const [payment] = [...created.generator];
      base = { ...payment, cardFingerprint: "c1", segments: ["vip"], merchantCategory: "5411" };
    }
    return base;
  }

  /** A valid line with one value replaced by hostile or borderline text. */
  const hostileLineArbitrary = fc
    .tuple(
      fc.constantFrom(...KEYS.slice(0, 15)),
      fc.oneof(
        fc.constantFrom(
          '""',
          '"a b"',
          '"a\\"b"',
          '"\\u0041"',
          '"é"',
          '"\u0001"',
          "null",
          "0",
          "-1",
          "1.5",
          "1e3",
          "01",
          "999999999999999",
          "1000000000000000",
          "32503680000000",
          "32503680000001",
          '"CN-SH"',
          '"cny"',
          '"CNY"',
          '"merchant_qr"',
          '"individual"',
          '"12345"',
          '"0000"',
          '"12a4"',
          "[]",
          '["vip"]',
          '["vip","vip","vip","vip"]',
          '["vip","vip","vip","vip","vip"]',
          '["VIP"]',
          '"x".repeat',
          `"${"a".repeat(64)}"`,
          `"${"a".repeat(65)}"`,
          "{}",
          "true",
        ),
        fc.string({ maxLength: 8 }).map((text) => JSON.stringify(text)),
      ),
    )
    .map(([key, raw]) => {
      const line = JSON.stringify({ ...basePayment(), [key]: "\u0000" });
      return line.replace('"\\u0000"', raw);
    });

  test.prop([hostileLineArbitrary])("hostile values: claimed only when valid", (line) => {
    expectDirectAgrees(line);
  });

  test.prop([nearLineArbitrary, fc.nat(), fc.string({ maxLength: 3 })])(
    "edited lines: claimed only when valid",
    (line, at, insertion) => {
      const position = at % (line.length + 1);
      expectDirectAgrees(line.slice(0, position) + insertion + line.slice(position + 1));
    },
  );

  test("declines lines the object path must judge", () => {
    for (const line of [
      '{"paymentId":"p1"}',
      "{}",
      '{"paymentId":"p1","userId":"u1","amountMinor":0,"currency":"CNY","scenario":"merchant_qr","payeeKind":"merchant","merchantId":"m1","region":"CN-SH","channel":"app","paymentMethod":"balance","atMs":1}',
      '{"paymentId":"p 1","userId":"u1","amountMinor":5,"currency":"CNY","scenario":"merchant_qr","payeeKind":"merchant","merchantId":"m1","region":"CN-SH","channel":"app","paymentMethod":"balance","atMs":1}',
    ])
      expect(parsePaymentLineInto(line, 0, line.length, into), line).toBe(false);
    const valid =
      '{"paymentId":"p1","userId":"u1","amountMinor":5,"currency":"CNY","scenario":"merchant_qr","payeeKind":"merchant","merchantId":"m1","region":"CN-SH","channel":"app","paymentMethod":"balance","atMs":1}';
    expect(expectDirectAgrees(valid)).toBe(true);
  });
});
