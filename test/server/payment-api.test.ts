/**
 * The payment API over HTTP on both real stores: a quote reserves nothing; apply, commit (lower),
 * refunds idempotent per refund id and bounded by the payment; release, and commit after it;
 * concurrent duplicates of one payment id reserve once; other content under a used id is a
 * conflict; an invalid payment is refused with its issues; no answer carries a stack trace.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  applyAnswered,
  expectDocumentedError,
  groceryPayment,
  leakIn,
  paymentTimeClock,
} from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

describe.each(TEST_STORES)("the payment API on %s", (store) => {
  let server: TestServer;
  let token: string;
  /** One apply, tried again with the same id while the ledger answers `ledger_unavailable`. */
  const apply = async (body: unknown) => {
    const answers = await applyAnswered(server.request, token, body);
    return answers.at(-1) as (typeof answers)[number];
  };
  const post = (path: string, body?: unknown) =>
    server.request("POST", path, { token, ...(body === undefined ? {} : { body }) });

  beforeAll(async () => {
    server = await startTestServer(store, {
      demo: true,
      demoTps: 0,
      wallNowMs: paymentTimeClock(),
    });
    token = await server.tokenFor(["payment-service"]);
    // Warm: the first apply opens the ledger's connections and leases.
    await apply(groceryPayment("warm-up"));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("a quote reserves nothing: quotes do not count against a per-user cap", async () => {
    // The government subsidy allows a user two payments a day; five quotes first change nothing.
    const userId = "quote-user";
    for (let quoted = 0; quoted < 5; quoted += 1) {
      const quote = await post("/v1/payments/quote", groceryPayment(`quote-${quoted}`, { userId }));
      expect(quote.status).toBe(200);
      expect(quote.body.subsidies.map((s: { campaignId: string }) => s.campaignId)).toContain(
        "gov-sh-grocery-subsidy",
      );
    }
    const notReserved = await post("/v1/payments/quote-0/commit", {});
    expect(notReserved.body.code).toBe("reservation_not_found");

    const codesOf = (answer: { body: { reservation: { subsidies: object[] } } }) =>
      Object.fromEntries(
        answer.body.reservation.subsidies.map((s) => {
          const subsidy = s as { campaignId: string; code: string };
          return [subsidy.campaignId, subsidy.code];
        }),
      );
    const first = await apply(groceryPayment("quote-apply-1", { userId }));
    const second = await apply(groceryPayment("quote-apply-2", { userId }));
    expect(codesOf(first)["gov-sh-grocery-subsidy"]).toBe("reserved");
    expect(codesOf(second)["gov-sh-grocery-subsidy"]).toBe("reserved");
    // The cap does hold for applies: the third payment of the day is refused that subsidy.
    const third = await apply(groceryPayment("quote-apply-3", { userId }));
    expect(third.status).toBe(200);
    expect(codesOf(third)["gov-sh-grocery-subsidy"]).toBe("identity_cap_reached");
  });

  test("apply, commit lower, refund twice with one refund id, then refund too much", async () => {
    const applied = await apply(groceryPayment("settle-1"));
    expect(applied.status).toBe(200);
    expect(applied.body.code).toBe("reserved");
    expect(applied.body.replayed).toBe(false);
    const reservedMinor = applied.body.reservation.totalReservedMinor as number;
    expect(reservedMinor).toBeGreaterThan(100);

    const committed = await post("/v1/payments/settle-1/commit", {
      subsidyMinor: reservedMinor - 100,
    });
    expect(committed.status).toBe(200);
    expect(committed.body.code).toBe("committed");
    const committedMinor = committed.body.entries.reduce(
      (sum: number, entry: { committedMinor: number }) => sum + entry.committedMinor,
      0,
    );
    expect(committedMinor).toBe(reservedMinor - 100);
    const tooMuch = await post("/v1/payments/settle-1/commit", { subsidyMinor: reservedMinor });
    expect(tooMuch.body.code).toBe("already_committed");

    const refund = { refundId: "refund-1", amountMinor: 6_000 };
    const refunded = await post("/v1/payments/settle-1/refunds", refund);
    expect(refunded.status).toBe(200);
    expect(refunded.body.code).toBe("refunded");
    expect(refunded.body.replayed).toBe(false);
    expect(refunded.body.subsidyReversedMinor).toBeGreaterThan(0);
    const again = await post("/v1/payments/settle-1/refunds", refund);
    expect(again.status).toBe(200);
    expect(again.body.code).toBe("refunded");
    expect(again.body.replayed).toBe(true);
    expect(again.body.subsidyReversedMinor).toBe(refunded.body.subsidyReversedMinor);
    expect(again.body.refundedMinor).toBe(refunded.body.refundedMinor);

    const conflicting = await post("/v1/payments/settle-1/refunds", {
      refundId: "refund-1",
      amountMinor: 5_000,
    });
    expect(conflicting.body.code).toBe("refund_conflict");
    // 6,000 refunded of 12,000: 6,001 more would pass the payment's amount.
    const over = await post("/v1/payments/settle-1/refunds", {
      refundId: "refund-2",
      amountMinor: 6_001,
    });
    expect(over.status).toBe(200);
    expect(over.body.code).toBe("refund_exceeds_payment");
    const rest = await post("/v1/payments/settle-1/refunds", {
      refundId: "refund-3",
      amountMinor: 6_000,
    });
    expect(rest.body.code).toBe("refunded");
  });

  test("release returns the reservation; a commit after it is refused", async () => {
    const applied = await apply(groceryPayment("release-1"));
    expect(applied.body.code).toBe("reserved");
    const released = await post("/v1/payments/release-1/release");
    expect(released.status).toBe(200);
    expect(released.body.code).toBe("released");
    const commit = await post("/v1/payments/release-1/commit", {});
    expect(commit.status).toBe(200);
    expect(commit.body.code).toBe("reservation_released");
    const refund = await post("/v1/payments/release-1/refunds", {
      refundId: "r",
      amountMinor: 1,
    });
    expect(refund.body.code).toBe("refund_not_committed");
    const unknown = await post("/v1/payments/never-applied/release");
    expect(unknown.body.code).toBe("reservation_not_found");
  });

  test("20 concurrent applies of one payment id make exactly one reservation", async () => {
    const payment = groceryPayment("concurrent-1");
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        server.request("POST", "/v1/payments/apply", { token, body: payment }),
      ),
    );
    // At most one answer reserved afresh (none if the ledger missed its deadline on that one).
    const fresh = answers.filter((answer) => answer.status === 200 && !answer.body.replayed);
    const freshReserved = fresh.filter((answer) => answer.body.code === "reserved");
    expect(freshReserved.length).toBeLessThanOrEqual(1);
    expect(fresh.length - freshReserved.length).toBe(
      fresh.filter((answer) => answer.body.code === "ledger_unavailable").length,
    );
    // Every duplicate now gets the stored answer, and releasing returns one reservation's money.
    const replayed = await apply(payment);
    expect(replayed.body.code).toBe("reserved");
    const reservation = replayed.body.reservation;
    if (freshReserved.length === 1) {
      expect(freshReserved[0]?.body.reservation).toEqual(reservation);
      expect(replayed.body.replayed).toBe(true);
    }
    for (const answer of answers) {
      if (answer.status === 409) {
        expect(answer.body.code).toBe("request_in_progress");
        expectDocumentedError(answer.status, answer.body, "a concurrent duplicate");
        continue;
      }
      expect(answer.status).toBe(200);
      if (answer.body.code === "reserved") expect(answer.body.reservation).toEqual(reservation);
      else expect(answer.body.code).toBe("ledger_unavailable");
    }
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    expect(replayed.body.reservation).toEqual(reservation);
    const released = await post("/v1/payments/concurrent-1/release");
    const releasedMinor = released.body.entries.reduce(
      (sum: number, entry: { reservedMinor: number }) => sum + entry.reservedMinor,
      0,
    );
    expect(releasedMinor).toBe(reservation.totalReservedMinor);
  });

  test("the same payment id with other content is a conflict and changes nothing", async () => {
    const payment = groceryPayment("conflict-1");
    const first = await apply(payment);
    expect(first.body.code).toBe("reserved");
    const changed = await apply({ ...payment, amountMinor: payment.amountMinor + 1 });
    expect(changed.status).toBe(409);
    expect(changed.body.code).toBe("idempotency_conflict");
    expectDocumentedError(changed.status, changed.body, "a conflicting apply");
    // A different `atMs` is the same content (a retry's clock moved).
    const retried = await apply({ ...payment, atMs: payment.atMs + 5_000 });
    expect(retried.status).toBe(200);
    expect(retried.body.replayed).toBe(true);
    expect(retried.body.reservation).toEqual(first.body.reservation);
  });

  test("an invalid payment is refused with its issues, and no answer leaks internals", async () => {
    const invalid = await apply(
      groceryPayment("invalid-1", { amountMinor: -5, currency: 7, surprise: true }),
    );
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe("body_invalid");
    expectDocumentedError(invalid.status, invalid.body, "an invalid payment");
    const paths = invalid.body.details.issues.map((issue: { path: string }) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["body.amountMinor", "body.currency"]));
    expect(invalid.body.details.issuesTotal).toBeGreaterThanOrEqual(paths.length);

    const hostile = [
      await post("/v1/payments/apply", "{not json"),
      await post("/v1/payments/apply", "[]"),
      await post("/v1/payments/apply", "null"),
      await post("/v1/payments/%E0%A4%A/commit", {}),
      await post(`/v1/payments/${"p".repeat(300)}/commit`, {}),
      await post("/v1/payments/x/commit", { subsidyMinor: 1.5 }),
      await post("/v1/payments/x/refunds", { refundId: "r", amountMinor: 1e300 }),
      await post("/v1/payments/quote", { ...groceryPayment("q"), ["__proto__"]: { a: 1 } }),
      await server.request("POST", "/v1/payments/apply", {
        token,
        body: JSON.stringify(groceryPayment("text-1")),
        headers: { "content-type": "text/plain" },
      }),
    ];
    for (const [index, answer] of hostile.entries()) {
      expect(answer.status, `hostile ${index}: ${JSON.stringify(answer.body)}`).toBeGreaterThan(
        399,
      );
      expect(answer.status, `hostile ${index}`).toBeLessThan(500);
      expectDocumentedError(answer.status, answer.body, `hostile ${index}`);
      expect(leakIn(JSON.stringify(answer.body))).toBeUndefined();
    }
  });
});
