/**
 * The payment-id filter (src/stores/sqlite/payment-id-filter.ts): a miss must prove an id new, so
 * it may never miss an id it was given, whatever the id; its false hits cost a read each, so
 * they must stay rare, in the first stage and after it has filled.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { PaymentIdFilter } from "../../src/stores/sqlite/payment-id-filter.ts";

/** Ids the filter's first stage holds (FIRST_STAGE_CAPACITY there, not exported). */
const FIRST_STAGE_CAPACITY = 1 << 20;
/** False hits the store can live with: the design is about 1 %. */
const FALSE_HIT_RATE_MAX = 0.02;

/** Ids no hash should trip on: empty, blank, NUL, lone surrogates, invisible characters. */
const oddIdArbitrary = fc.constantFrom(
  "",
  " ",
  "\u0000",
  "\u0000\u0000",
  "\uD800",
  "\uDC00",
  "\uDBFF\uDFFF",
  "\uFEFF",
  "\u200B",
  "e\u0301",
  "\u00E9",
);

const idArbitrary = fc.oneof(
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: "binary" }),
  fc.string({ unit: fc.constantFrom("\u0000", " ", "\uD800", "\uDFFF", "a", "\u{1F600}") }),
  oddIdArbitrary,
);

/** The share of `ids` the filter says it may hold. */
function hitRate(filter: PaymentIdFilter, ids: Iterable<string>): number {
  let hits = 0;
  let count = 0;
  for (const id of ids) {
    if (filter.mightHold(id)) hits += 1;
    count += 1;
  }
  return hits / count;
}

function* paymentIds(from: number, count: number): Generator<string> {
  for (let index = from; index < from + count; index += 1) yield `p-${index}`;
}

describe("PaymentIdFilter", () => {
  test.prop([fc.array(idArbitrary, { maxLength: 40 })], { numRuns: 200 })(
    "every id added is reported as maybe held, whatever its characters",
    (ids) => {
      const filter = new PaymentIdFilter();
      for (const id of ids) filter.add(id);
      for (const id of ids) expect(filter.mightHold(id), JSON.stringify(id)).toBe(true);
    },
  );

  test("an empty filter holds nothing", () => {
    const filter = new PaymentIdFilter();
    expect(hitRate(filter, ["", "p-0", "\u0000", ...paymentIds(1, 1000)])).toBe(0);
  });

  test("after 200,000 ids, fewer than 2 % of 100,000 other ids of the same shape are false hits", () => {
    const filter = new PaymentIdFilter();
    for (const id of paymentIds(0, 200_000)) filter.add(id);
    expect(hitRate(filter, paymentIds(0, 200_000))).toBe(1);
    expect(hitRate(filter, paymentIds(200_000, 100_000))).toBeLessThan(FALSE_HIT_RATE_MAX);
  });

  test("past the first stage's 1,048,576 ids, ids of both stages are still held and false hits stay rare", () => {
    const filter = new PaymentIdFilter();
    const total = FIRST_STAGE_CAPACITY + 150_000;
    for (const id of paymentIds(0, total)) filter.add(id);
    // White-box: the ids above really did reach a second stage (should the first one grow, this
    // test must grow with it).
    expect(Reflect.get(filter, "stages")).toHaveLength(2);
    const missed: string[] = [];
    for (const id of paymentIds(0, total)) if (!filter.mightHold(id)) missed.push(id);
    expect(missed).toEqual([]);
    expect(hitRate(filter, paymentIds(total, 100_000))).toBeLessThan(FALSE_HIT_RATE_MAX);
  });
});
