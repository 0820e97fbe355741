import { describe, expect, test } from "vitest";
import type { Debit } from "../../src/core/ledger/reservation.ts";
import { checkLedgerCall } from "../../src/ledger/check-ledger-call.ts";
import { boundedDebit, request, subsidy } from "../support/ledger-requests.ts";

/** A reserve call whose one subsidy draws on its budget and on `debit`. */
function reserveWith(debit: Debit) {
  return { kind: "reserve" as const, requests: [request("p1", [subsidy("c1", 10, [debit])])] };
}

const cap = boundedDebit("identity/user:u1/day/c1/2025-01-16", 10, 100, 1);

describe("checkLedgerCall: a per-identity name's parts", () => {
  test("are optional, and accepted when they split the name after identity/K/", () => {
    expect(checkLedgerCall(reserveWith(cap))).toBeUndefined();
    expect(
      checkLedgerCall(
        reserveWith({
          ...cap,
          identityPrefix: "identity/user:u1/",
          identitySuffix: "day/c1/2025-01-16",
        }),
      ),
    ).toBeUndefined();
  });

  test.each([
    ["a prefix that is not the name's start", "identity/user:u2/", "day/c1/2025-01-16"],
    ["a split inside the identity", "identity/user:", "u1/day/c1/2025-01-16"],
    ["a split after the identity's first part", "identity/user:u1/day/", "c1/2025-01-16"],
    ["parts longer than the name", "identity/user:u1/", "day/c1/2025-01-16/extra"],
    ["a prefix outside identity/", "campaign/", "user:u1/day/c1/2025-01-16"],
  ])("are refused when they are %s", (_, identityPrefix, identitySuffix) => {
    expect(checkLedgerCall(reserveWith({ ...cap, identityPrefix, identitySuffix }))).toMatch(
      /identityPrefix and identitySuffix must split the name after `identity\/K\/`/,
    );
  });

  test("are refused when only one is given", () => {
    expect(checkLedgerCall(reserveWith({ ...cap, identityPrefix: "identity/user:u1/" }))).toMatch(
      /must split the name/,
    );
  });
});
