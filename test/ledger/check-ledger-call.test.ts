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

describe("checkLedgerCall: guard mode's checked subsidies", () => {
  const unfunded = (campaignId: string) => ({
    ...subsidy(campaignId, 10),
    debits: [boundedDebit("identity/user:u1/platform-day/CNY/2025-01-16", 10, 1_000, null)],
  });
  const answer = {
    proposalId: "a",
    campaignRef: "partner",
    outcome: "allowed" as const,
    proposedMinor: 10,
    amountMinor: 10,
    clampedBy: null,
    reason: null,
  };

  test("an external campaign may draw on no funded budget; a native one may not", () => {
    const call = (campaignId: string) => ({
      kind: "reserve" as const,
      requests: [request("p1", [unfunded(campaignId)])],
    });
    expect(checkLedgerCall(call("ext:partner"))).toBeUndefined();
    expect(checkLedgerCall(call("partner"))).toMatch(/draws on no funded budget/);
    expect(
      checkLedgerCall({
        kind: "reserve",
        requests: [{ ...request("p1", [{ ...unfunded("ext:partner"), debits: [] }]) }],
      }),
    ).toBeUndefined();
  });

  test("a stored check and commitAtOnce are checked for shape and size", () => {
    const call = (extra: Record<string, unknown>) => ({
      kind: "reserve" as const,
      requests: [{ ...request("p1", [unfunded("ext:partner")]), ...extra }],
    });
    expect(
      checkLedgerCall(call({ commitAtOnce: true, check: { unhealthy: null, answers: [answer] } })),
    ).toBeUndefined();
    expect(checkLedgerCall(call({ commitAtOnce: "yes" }))).toMatch(
      /commitAtOnce must be a boolean/,
    );
    expect(
      checkLedgerCall(call({ check: { unhealthy: null, answers: Array(33).fill(answer) } })),
    ).toMatch(/33 answers; the limit is 32/);
    expect(
      checkLedgerCall(
        call({ check: { unhealthy: null, answers: [{ ...answer, amountMinor: 1.5 }] } }),
      ),
    ).toMatch(/amountMinor must be whole minor units/);
    expect(checkLedgerCall(call({ check: { unhealthy: 3, answers: [] } }))).toMatch(
      /unhealthy must be a code or null/,
    );
  });
});

describe("checkLedgerCall: the owner a call acts for", () => {
  const T0 = 1_700_000_000_000;
  const reserve = (owner: unknown) => ({
    kind: "reserve" as const,
    requests: [{ ...request("p1", [subsidy("c1", 10)]), owner } as never],
  });
  const commit = (owner: unknown) => ({
    kind: "settle" as const,
    commands: [{ kind: "commit", paymentId: "p1", atMs: T0, owner } as never],
  });
  const refund = (owner: unknown) => ({
    kind: "refund" as const,
    commands: [{ paymentId: "p1", refundId: "r1", amountMinor: 1, atMs: T0, owner } as never],
  });

  test("is optional, and any id when given", () => {
    for (const call of [reserve, commit, refund]) {
      expect(checkLedgerCall(call(undefined))).toBeUndefined();
      expect(checkLedgerCall(call("svc.checkout"))).toBeUndefined();
    }
  });

  test.each([
    ["empty", "", /owner must not be empty/],
    ["not a string", 7, /owner must be a string/],
    ["null", null, /owner must be a string/],
    ["longer than an id", "x".repeat(257), /owner is 257 characters; the limit is 256/],
  ])("is refused when %s", (_, owner, problem) => {
    for (const call of [reserve, commit, refund])
      expect(checkLedgerCall(call(owner))).toMatch(problem);
  });
});
