import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { type Payment, paymentSchema } from "../../src/core/model/payment.ts";
import {
  acceptsPaymentFast,
  FAST_PAYMENT_CHECK_ACTIVE,
} from "../../src/traffic/payment-fast-check.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";

const POOL: readonly Payment[] = (() => {
  const created = TrafficGenerator.create({ seed: 99, tps: 5_000, seconds: 1 });
  if (!created.ok) throw new Error("options refused");
  // Through JSON, as the reader sees them: absent optional fields are absent, not undefined.
  return [...created.generator].map((payment) => JSON.parse(JSON.stringify(payment)) as Payment);
})();

const FIELDS = Object.keys(paymentSchema.shape);

const ID_VALUES = ["", "a", "a".repeat(64), "a".repeat(65), "a b", "é", "x:y.z_-", "a\n", 5, null];

/** For each field, values on both sides of every boundary the schema draws, and wrong types. */
const BOUNDARY_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  paymentId: ID_VALUES,
  userId: ID_VALUES,
  merchantId: ID_VALUES,
  deviceId: ID_VALUES,
  cardFingerprint: ID_VALUES,
  amountMinor: [
    0,
    1,
    -1,
    1.5,
    1e15,
    1e15 + 1,
    2 ** 53,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "100",
    null,
  ],
  currency: ["CNY", "cny", "JPY", "KWD", "XXX", "", 1],
  scenario: ["rent", "p2p_transfer", "casino", "", "RENT", ["rent"]],
  payeeKind: ["merchant", "individual", "person", ""],
  merchantCategory: ["5411", "0000", "541", "54111", "abcd", 5411, "٥٤١١", "5411\n", null],
  region: ["CN-SH", "JP-13", "US-CA", "CN-XX", "cn-sh", ""],
  channel: ["app", "pos", "fax", ""],
  paymentMethod: ["balance", "credit_line", "cash", ""],
  atMs: [0, -1, 1.5, 32_503_680_000_000, 32_503_680_000_001, 2 ** 53, "1", null],
  segments: [
    [],
    ["vip"],
    ["vip", "vip"],
    ["vip", "student", "senior", "new_user"],
    ["vip", "student", "senior", "new_user", "vip"],
    ["pirate"],
    "vip",
    [1],
    null,
  ],
  extra: [1, "x", null],
  __proto__: [{}, null, 1],
};

const FIELD_NAMES = Object.keys(BOUNDARY_VALUES);

const edit = fc
  .constantFrom(...FIELD_NAMES)
  .chain((field) =>
    fc.tuple(
      fc.constant(field),
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...BOUNDARY_VALUES[field]!) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.double()) },
      ),
    ),
  );

const mutation = fc.record({
  index: fc.nat({ max: POOL.length - 1 }),
  edits: fc.array(edit, { minLength: 1, maxLength: 2 }),
});

function mutate(
  payment: Payment,
  edits: readonly (readonly [string, unknown])[],
): Record<string, unknown> {
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(payment));
  for (const [field, value] of edits) {
    if (value === undefined) delete copy[field];
    else
      Object.defineProperty(copy, field, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

describe("acceptsPaymentFast", () => {
  it("is active: the schema has not drifted away from what it understands", () => {
    expect(FAST_PAYMENT_CHECK_ACTIVE).toBe(true);
    expect(FIELD_NAMES).toEqual(expect.arrayContaining(FIELDS));
  });

  it("accepts every generated payment, so the reader's common path is fast", () => {
    expect(POOL.filter((payment) => !acceptsPaymentFast(payment))).toEqual([]);
  });

  test.prop([mutation], { numRuns: 20_000 })(
    "never accepts what paymentSchema refuses, and accepted payments equal the schema's output",
    ({ index, edits }) => {
      const value = mutate(POOL[index]!, edits);
      const parsed = paymentSchema.safeParse(value);
      if (acceptsPaymentFast(value)) {
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(value);
      }
    },
  );

  test.prop([mutation], { numRuns: 1_000 })(
    "agrees with the schema on most values it is shown",
    ({ index, edits }) => {
      // Not required for correctness (a refusal only means "ask the schema"), but a fast check
      // that refused valid payments wholesale would be no faster at all.
      const value = mutate(POOL[index]!, edits);
      if (paymentSchema.safeParse(value).success && !Array.isArray(value.segments)) {
        expect(acceptsPaymentFast(value)).toBe(true);
      }
    },
  );
});
