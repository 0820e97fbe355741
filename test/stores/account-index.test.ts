import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { AccountNameParts } from "../../src/core/ledger/reservation.ts";
import { AccountIndex } from "../../src/stores/sqlite/account-index.ts";

/** Names as the plan makes them, and the odd ones a caller of the port may send. */
const accountName = fc.oneof(
  fc.constantFrom(
    "campaign/c1",
    "campaign-day/c1/2025-01-16",
    "identity/",
    "identity//",
    "identity//day/c1/2025-01-16",
    "identity/user:u1",
    "identity/user:u1/",
    "identity/user:u1/day/c1/2025-01-16",
    "identity/user:u1/campaign/c1",
    "identity/user:u2/campaign/c1",
    "identity/device:d1/platform-day/CNY/2025-01-16",
    "identityx/user:u1/day",
  ),
  fc
    .tuple(
      fc.constantFrom("user:u1", "user:u2", "card:k1", "", "a/b"),
      fc.constantFrom("day/c1/2025-01-16", "campaign/c2", "program/p1", "", "x/y/z"),
    )
    .map(([identity, suffix]) => `identity/${identity}/${suffix}`),
  fc.string({ maxLength: 24 }),
);

/** The parts a planned debit brings for a per-identity name (as check-ledger-call accepts them). */
function partsOf(name: string): AccountNameParts | undefined {
  const match = /^(identity\/[^/]*\/)(.*)$/s.exec(name);
  return match === null ? undefined : { identityPrefix: match[1]!, identitySuffix: match[2]! };
}

describe("AccountIndex", () => {
  test.prop([
    fc.array(fc.tuple(accountName, fc.boolean(), fc.nat(1000), fc.boolean()), { maxLength: 200 }),
  ])(
    "finds, creates and lists accounts exactly as one map of full names would, with or without the name's parts",
    (steps) => {
      const index = new AccountIndex();
      const model = new Map<string, { reservedMinor: number }>();
      for (const [name, create, amount, withParts] of steps) {
        const parts = withParts ? partsOf(name) : undefined;
        if (create) {
          index.getOrCreate(name, parts).reservedMinor += amount;
          const counters = model.get(name) ?? { reservedMinor: 0 };
          counters.reservedMinor += amount;
          model.set(name, counters);
        }
        expect(index.get(name, parts)?.reservedMinor).toBe(model.get(name)?.reservedMinor);
        expect(index.get(name)?.reservedMinor).toBe(model.get(name)?.reservedMinor);
      }
      expect(index.size).toBe(model.size);
      const listed = new Map([...index.entries()].map(([name, c]) => [name, c.reservedMinor]));
      expect(listed).toEqual(new Map([...model].map(([name, c]) => [name, c.reservedMinor])));
    },
  );

  test("hands out live counters: a change through one lookup is seen by the next", () => {
    const index = new AccountIndex();
    index.getOrCreate("identity/user:u1/day/c1/2025-01-16").reservedCount += 1;
    // Another identity in between, so the first is found again through the large map.
    for (let user = 2; user < 10; user += 1) index.getOrCreate(`identity/user:u${user}/x`);
    expect(index.get("identity/user:u1/day/c1/2025-01-16")).toMatchObject({ reservedCount: 1 });
    expect(index.get("identity/user:u1/day/c1/2025-01-17")).toBeUndefined();
  });
});
