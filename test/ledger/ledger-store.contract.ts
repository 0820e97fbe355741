/**
 * The contract every ledger store passes (src/ledger/ledger-store.ts), against a real database.
 * A store's test file calls `describeLedgerStoreContract` with a factory giving a fresh, empty
 * store for every test and, for a durable store, a way to open a closed store again on its data:
 * the generated sequences then restart the store now and then and expect it to answer as before.
 */
import { fc } from "@fast-check/vitest";
import { afterEach, describe, expect, test } from "vitest";
import { REFUND_RESTORES, type RefundCommand } from "../../src/core/ledger/refund.ts";
import type {
  Debit,
  ReservationRequest,
  ReserveResult,
} from "../../src/core/ledger/reservation.ts";
import type { SettleCommand } from "../../src/core/ledger/settlement.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { LedgerModel } from "../support/ledger-model.ts";
import {
  boundedDebit,
  REQUEST_T0_MS,
  REQUEST_TTL_MS,
  request,
  subsidy,
} from "../support/ledger-requests.ts";

const T0 = REQUEST_T0_MS;

/** `request` made on behalf of the principal `owner`. */
function owned(request: ReservationRequest, owner: string): ReservationRequest {
  return { ...request, owner };
}

function answerOf(result: ReserveResult | undefined) {
  if (result?.code !== "answered")
    throw new Error(`expected an answer, got ${JSON.stringify(result)}`);
  return result.answer;
}

/**
 * Opens a store again on the data of `closed`, which the suite has closed: what a restart of the
 * process does. Given only for durable stores; nothing may be released or changed by opening.
 */
export type ReopenLedgerStore = (closed: LedgerStore) => Promise<LedgerStore>;

export function describeLedgerStoreContract(
  name: string,
  createStore: () => Promise<LedgerStore>,
  reopen?: ReopenLedgerStore,
): void {
  describe(`ledger store contract: ${name}`, () => {
    const opened: LedgerStore[] = [];
    const open = async () => {
      const store = await createStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    test("funds a budget and reserves within it", async () => {
      const store = await open();
      expect(await store.fund("campaign/c1", 1000, "initial budget", T0)).toEqual({
        code: "funded",
        account: "campaign/c1",
        fundedMinor: 1000,
      });
      const [result] = await store.reserve([request("p1", [subsidy("c1", 300)])]);
      const answer = answerOf(result);
      expect(answer.code).toBe("reserved");
      expect(answer.totalReservedMinor).toBe(300);
      expect(answer.expiresAtMs).toBe(T0 + REQUEST_TTL_MS);
      expect(
        answer.subsidies.map((entry) => [entry.campaignId, entry.amountMinor, entry.code]),
      ).toEqual([["c1", 300, "reserved"]]);
      expect(await store.balance("campaign/c1")).toEqual({
        account: "campaign/c1",
        fundedMinor: 1000,
        reservedMinor: 300,
        spentMinor: 0,
        reservedCount: 1,
        spentCount: 0,
      });
    });

    test("funds up to targets atomically, never lowering a budget", async () => {
      const store = await open();
      await store.fund("campaign/c1", 300, "initial", T0);
      const answers = await store.fundUpTo(
        [
          { account: "campaign/c1", targetMinor: 1000 },
          { account: "campaign/c2", targetMinor: 500 },
          { account: "campaign/c1", targetMinor: 200 },
        ],
        "snapshot 2",
        T0,
      );
      expect(answers).toEqual([
        { code: "funded", account: "campaign/c1", fundedMinor: 1000 },
        { code: "funded", account: "campaign/c2", fundedMinor: 500 },
        { code: "funding_unchanged", account: "campaign/c1", fundedMinor: 1000 },
      ]);
      // Concurrent activations of the same targets fund once.
      await Promise.all([
        store.fundUpTo([{ account: "campaign/c3", targetMinor: 700 }], "a", T0),
        store.fundUpTo([{ account: "campaign/c3", targetMinor: 700 }], "b", T0),
      ]);
      expect((await store.balance("campaign/c3"))?.fundedMinor).toBe(700);
      expect((await store.verify()).ok).toBe(true);
    });

    test("refuses malformed requests before deciding anything", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await expect(
        store.reserve([request("p1", [subsidy("c1", 100), subsidy("c1", 100)])]),
      ).rejects.toThrow(/appears twice/);
      const unfunded = {
        ...subsidy("c1", 100),
        debits: [boundedDebit("identity-day/c1/user:u1/d", 100, 500, 1)],
      };
      await expect(store.reserve([request("p2", [unfunded])])).rejects.toThrow(/no funded budget/);
      await expect(store.reserve([request("p3", [subsidy("c1", 1.5)])])).rejects.toThrow();
      expect((await store.balance("campaign/c1"))?.reservedMinor ?? 0).toBe(0);
      const [answer] = await store.reserve([request("p1", [subsidy("c1", 100)])]);
      expect(answer?.code === "answered" && answer.replayed).toBe(false);
    });

    test("refuses non-positive or unsafe funding", async () => {
      const store = await open();
      expect((await store.fund("campaign/c1", 0, "zero", T0)).code).toBe("invalid_amount");
      expect((await store.fund("campaign/c1", -5, "negative", T0)).code).toBe("invalid_amount");
      expect((await store.fund("campaign/c1", 1.5, "fraction", T0)).code).toBe("invalid_amount");
    });

    test("never reserves past a budget, and a refusal is stored: a retry after a top-up is still refused", async () => {
      const store = await open();
      await store.fund("campaign/c1", 500, "initial", T0);
      const results = await store.reserve([
        request("p1", [subsidy("c1", 300)]),
        request("p2", [subsidy("c1", 300)]),
      ]);
      expect(answerOf(results[0]).code).toBe("reserved");
      const refused = answerOf(results[1]);
      expect(refused.code).toBe("no_subsidy");
      expect(refused.subsidies[0]?.code).toBe("budget_exhausted");
      await store.fund("campaign/c1", 10_000, "top-up", T0);
      const [retry] = await store.reserve([request("p2", [subsidy("c1", 300)])]);
      expect(retry).toEqual({ code: "answered", answer: refused, replayed: true });
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(300);
    });

    test("an unfunded budget has nothing to give", async () => {
      const store = await open();
      const answer = answerOf(
        (await store.reserve([request("p1", [subsidy("never-funded", 1)])]))[0],
      );
      expect(answer.subsidies[0]?.code).toBe("budget_exhausted");
    });

    test("same id and content gets the identical answer; other content is a conflict that changes nothing", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      const first = answerOf((await store.reserve([request("p1", [subsidy("c1", 300)])]))[0]);
      const [again] = await store.reserve([request("p1", [subsidy("c1", 300)])]);
      expect(again).toEqual({ code: "answered", answer: first, replayed: true });
      const [conflict] = await store.reserve([
        request("p1", [subsidy("c1", 900)], { contentKey: "something else" }),
      ]);
      expect(conflict).toEqual({ code: "idempotency_conflict", paymentId: "p1" });
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(300);
    });

    test("duplicates within one batch reserve once", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      const results = await store.reserve([
        request("p1", [subsidy("c1", 300)]),
        request("p1", [subsidy("c1", 300)]),
      ]);
      expect(results.map((result) => result.code === "answered" && result.replayed)).toEqual([
        false,
        true,
      ]);
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(300);
    });

    test("requests in a batch are decided in order: the first takes the last units", async () => {
      const store = await open();
      await store.fund("campaign/c1", 100, "initial", T0);
      const results = await store.reserve([
        request("a", [subsidy("c1", 100)]),
        request("b", [subsidy("c1", 1)]),
      ]);
      expect(results.map((result) => answerOf(result).code)).toEqual(["reserved", "no_subsidy"]);
    });

    test("each subsidy is decided on its own, and a refused one debits nothing", async () => {
      const store = await open();
      await store.fund("campaign/rich", 1000, "initial", T0);
      await store.fund("campaign/poor", 10, "initial", T0);
      // The poor campaign's cap account would fit, its budget would not: neither is debited.
      const poor = subsidy("poor", 50, [
        boundedDebit("identity-day/poor/user:u1/2025-01-16", 50, 1000, 5),
      ]);
      const answer = answerOf(
        (await store.reserve([request("p1", [poor, subsidy("rich", 70)])]))[0],
      );
      expect(
        answer.subsidies.map((entry) => [entry.campaignId, entry.amountMinor, entry.code]),
      ).toEqual([
        ["poor", 0, "budget_exhausted"],
        ["rich", 70, "reserved"],
      ]);
      expect(answer.totalReservedMinor).toBe(70);
      expect(
        (await store.balance("identity-day/poor/user:u1/2025-01-16"))?.reservedMinor ?? 0,
      ).toBe(0);
      expect((await store.balance("campaign/poor"))?.reservedMinor ?? 0).toBe(0);
    });

    test("a count cap refuses the next use, and a later debit failing undoes nothing earlier", async () => {
      const store = await open();
      await store.fund("campaign/c1", 10_000, "initial", T0);
      const capped = () =>
        subsidy("c1", 100, [boundedDebit("identity-day/c1/user:u1/2025-01-16", 100, null, 1)]);
      expect(answerOf((await store.reserve([request("p1", [capped()])]))[0]).code).toBe("reserved");
      const second = answerOf((await store.reserve([request("p2", [capped()])]))[0]);
      expect(second.subsidies[0]?.code).toBe("identity_cap_reached");
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(100);
    });

    test("an amount cap shared by two subsidies of one payment counts the first", async () => {
      const store = await open();
      await store.fund("campaign/a", 1000, "initial", T0);
      await store.fund("campaign/b", 1000, "initial", T0);
      const ceiling = (amount: number) =>
        boundedDebit(
          "platform-user-day/u1/2025-01-16",
          amount,
          150,
          null,
          "platform_ceiling_reached",
        );
      const answer = answerOf(
        (
          await store.reserve([
            request("p1", [subsidy("a", 100, [ceiling(100)]), subsidy("b", 100, [ceiling(100)])]),
          ])
        )[0],
      );
      expect(answer.subsidies.map((entry) => entry.code)).toEqual([
        "reserved",
        "platform_ceiling_reached",
      ]);
    });

    test("commit takes a lower final subsidy from the lowest priority first and returns the rest", async () => {
      const store = await open();
      await store.fund("campaign/high", 1000, "initial", T0);
      await store.fund("campaign/low", 1000, "initial", T0);
      await store.reserve([request("p1", [subsidy("high", 300), subsidy("low", 200)])]);
      const [committed] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0 + 1000, totalMinor: 400 },
      ]);
      expect(committed).toEqual({
        paymentId: "p1",
        code: "committed",
        state: "committed",
        entries: [
          { campaignId: "high", reservedMinor: 300, committedMinor: 300 },
          { campaignId: "low", reservedMinor: 200, committedMinor: 100 },
        ],
      });
      expect(await store.balance("campaign/low")).toMatchObject({
        reservedMinor: 0,
        spentMinor: 100,
        reservedCount: 0,
        spentCount: 1,
      });
      const [retry] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0 + 2000, totalMinor: 400 },
      ]);
      expect(retry?.code).toBe("already_committed");
      const [release] = await store.settle([{ kind: "release", paymentId: "p1", atMs: T0 + 3000 }]);
      expect(release?.code).toBe("already_committed");
      expect((await store.balance("campaign/high"))?.spentMinor).toBe(300);
    });

    test("a commit above the reservation changes nothing", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([request("p1", [subsidy("c1", 300)])]);
      const [answer] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0, totalMinor: 301 },
      ]);
      expect(answer).toMatchObject({ code: "commit_exceeds_reservation", state: "reserved" });
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(300);
    });

    test("release returns money and counts; a second release answers the same; a commit after it is refused", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([
        request("p1", [
          subsidy("c1", 300, [boundedDebit("identity-day/c1/user:u1/d", 300, 500, 1)]),
        ]),
      ]);
      const answers = await store.settle([
        { kind: "release", paymentId: "p1", atMs: T0 },
        { kind: "release", paymentId: "p1", atMs: T0 },
        { kind: "commit", paymentId: "p1", atMs: T0 },
      ]);
      expect(answers.map((answer) => answer.code)).toEqual([
        "released",
        "released",
        "reservation_released",
      ]);
      expect(await store.balance("campaign/c1")).toMatchObject({
        reservedMinor: 0,
        spentMinor: 0,
        reservedCount: 0,
      });
      expect(await store.balance("identity-day/c1/user:u1/d")).toMatchObject({
        reservedMinor: 0,
        reservedCount: 0,
      });
    });

    test("a reservation expires after its time to live: a commit then answers reservation_expired", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([request("p1", [subsidy("c1", 300)], { ttlMs: 60_000 })]);
      const [late] = await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0 + 60_000 }]);
      expect(late).toMatchObject({ code: "reservation_expired", state: "expired" });
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(0);
    });

    test("expireDue releases what is due, and only that", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([
        request("early", [subsidy("c1", 100)], { ttlMs: 1000 }),
        request("late", [subsidy("c1", 200)], { ttlMs: 5000 }),
      ]);
      expect(await store.expireDue(T0 + 1000, 100)).toBe(1);
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(200);
      expect(await store.expireDue(T0 + 1000, 100)).toBe(0);
      const [commit] = await store.settle([
        { kind: "commit", paymentId: "early", atMs: T0 + 2000 },
      ]);
      expect(commit?.code).toBe("reservation_expired");
    });

    test("a refund reverses the subsidy in proportion, split across stacked campaigns, exact at the full refund", async () => {
      const store = await open();
      await store.fund("campaign/high", 1000, "initial", T0);
      await store.fund("campaign/low", 1000, "initial", T0);
      // paymentAmountMinor is 100,000 (see request()); commit 300 + 100 of 300 + 200 reserved.
      await store.reserve([request("p1", [subsidy("high", 300), subsidy("low", 200)])]);
      await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0, totalMinor: 400 }]);
      const [first] = await store.refund([
        { paymentId: "p1", refundId: "r1", amountMinor: 33_333, atMs: T0 + 1 },
      ]);
      // floor(300 × 33,333 / 100,000) = 99; floor(100 × 33,333 / 100,000) = 33.
      expect(first).toEqual({
        paymentId: "p1",
        refundId: "r1",
        code: "refunded",
        amountMinor: 33_333,
        refundedMinor: 33_333,
        paymentAmountMinor: 100_000,
        subsidyReversedMinor: 132,
        entries: [
          { campaignId: "high", committedMinor: 300, reversedMinor: 99, reversedTotalMinor: 99 },
          { campaignId: "low", committedMinor: 100, reversedMinor: 33, reversedTotalMinor: 33 },
        ],
        replayed: false,
      });
      expect(await store.balance("campaign/high")).toMatchObject({
        spentMinor: 201,
        spentCount: 1,
      });
      // The cumulative share is floored, not each refund's: 66,666 in all reverses floor(199.998).
      const [second] = await store.refund([
        { paymentId: "p1", refundId: "r2", amountMinor: 33_333, atMs: T0 + 2 },
      ]);
      expect(second?.entries.map((entry) => entry.reversedTotalMinor)).toEqual([199, 66]);
      const [rest] = await store.refund([
        { paymentId: "p1", refundId: "r3", amountMinor: 33_334, atMs: T0 + 3 },
      ]);
      expect(rest).toMatchObject({ code: "refunded", refundedMinor: 100_000 });
      expect(rest?.entries.map((entry) => entry.reversedTotalMinor)).toEqual([300, 100]);
      // Fully reversed: money and the use are back in the budgets.
      for (const campaign of ["high", "low"]) {
        expect(await store.balance(`campaign/${campaign}`)).toMatchObject({
          reservedMinor: 0,
          spentMinor: 0,
          spentCount: 0,
        });
      }
      expect((await store.verify()).violations).toEqual([]);
    });

    test("refunds are idempotent per refund id, never exceed the payment, and need a commit", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([
        request("p1", [subsidy("c1", 100)]),
        request("p2", [subsidy("c1", 100)]),
        request("nothing", []),
      ]);
      await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0 }]);
      const refund = (paymentId: string, refundId: string, amountMinor: number) => ({
        paymentId,
        refundId,
        amountMinor,
        atMs: T0 + 1,
      });
      const [applied] = await store.refund([refund("p1", "r1", 60_000)]);
      const answers = await store.refund([
        refund("p1", "r1", 60_000),
        refund("p1", "r1", 50_000),
        refund("p1", "r2", 40_001),
        refund("p1", "r3", 0),
        refund("p2", "r1", 10),
        refund("nothing", "r1", 10),
        refund("unknown", "r1", 10),
      ]);
      expect(answers[0]).toEqual({ ...applied, replayed: true });
      expect(answers.slice(1).map((answer) => answer.code)).toEqual([
        "refund_conflict",
        "refund_exceeds_payment",
        "invalid_amount",
        "refund_not_committed",
        "reservation_not_found",
        "reservation_not_found",
      ]);
      // Nothing but r1 changed anything: 60 of the 100 reversed.
      expect(await store.balance("campaign/c1")).toMatchObject({
        reservedMinor: 100,
        spentMinor: 40,
      });
      const [last] = await store.refund([refund("p1", "r2", 40_000)]);
      expect(last).toMatchObject({
        code: "refunded",
        refundedMinor: 100_000,
        subsidyReversedMinor: 40,
      });
      expect((await store.verify()).violations).toEqual([]);
    });

    test("the campaign's refund policy decides what a refund restores", async () => {
      const store = await open();
      const cap = (campaign: string) =>
        boundedDebit(`identity-day/${campaign}/user:u1/2025-01-16`, 100, 500, 1);
      for (const campaign of ["all", "budgets", "none"])
        await store.fund(`campaign/${campaign}`, 1000, "initial", T0);
      await store.reserve([
        request("p1", [
          subsidy("all", 100, [cap("all")], "budgets_and_caps"),
          subsidy("budgets", 100, [cap("budgets")], "budgets"),
          subsidy("none", 100, [cap("none")], "nothing"),
        ]),
      ]);
      await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0 }]);
      const [refund] = await store.refund([
        { paymentId: "p1", refundId: "full", amountMinor: 100_000, atMs: T0 + 1 },
      ]);
      // The subsidy is reversed to the funder whatever the policy.
      expect(refund?.subsidyReversedMinor).toBe(300);
      const spent = async (account: string) => {
        const balance = await store.balance(account);
        return [balance?.spentMinor, balance?.spentCount];
      };
      expect(await spent("campaign/all")).toEqual([0, 0]);
      expect(await spent("identity-day/all/user:u1/2025-01-16")).toEqual([0, 0]);
      expect(await spent("campaign/budgets")).toEqual([0, 0]);
      expect(await spent("identity-day/budgets/user:u1/2025-01-16")).toEqual([100, 1]);
      expect(await spent("campaign/none")).toEqual([100, 1]);
      expect(await spent("identity-day/none/user:u1/2025-01-16")).toEqual([100, 1]);
      // Only the restored cap lets the user use the once-a-day offer again.
      const [again] = await store.reserve([
        request("p2", [
          subsidy("all", 100, [cap("all")]),
          subsidy("budgets", 100, [cap("budgets")]),
          subsidy("none", 100, [cap("none")]),
        ]),
      ]);
      expect(answerOf(again).subsidies.map((each) => each.code)).toEqual([
        "reserved",
        "identity_cap_reached",
        "identity_cap_reached",
      ]);
      expect((await store.verify()).violations).toEqual([]);
    });

    test("settling an unknown payment, or one that got no subsidy, finds no reservation", async () => {
      const store = await open();
      await store.reserve([request("nothing", [])]);
      const answers = await store.settle([
        { kind: "commit", paymentId: "unknown", atMs: T0 },
        { kind: "release", paymentId: "nothing", atMs: T0 },
      ]);
      expect(answers.map((answer) => [answer.code, answer.state])).toEqual([
        ["reservation_not_found", null],
        ["reservation_not_found", null],
      ]);
    });

    /** A durable store closed and opened again on its data; the memory store goes on as it is. */
    const restarted = async (store: LedgerStore): Promise<LedgerStore> => {
      if (reopen === undefined) return store;
      await store.close();
      const again = await reopen(store);
      opened[opened.indexOf(store)] = again;
      return again;
    };

    test("another principal's apply of an owned payment's id is a conflict, even with the same content, and changes nothing", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      const [first] = await store.reserve([owned(request("p1", [subsidy("c1", 300)]), "svc.a")]);
      const applied = answerOf(first);
      // The stored answer is the owner's: a replay for another would hand it over.
      expect(await store.reserve([owned(request("p1", [subsidy("c1", 300)]), "svc.b")])).toEqual([
        { code: "idempotency_conflict", paymentId: "p1" },
      ]);
      expect(await store.reserve([owned(request("p1", [subsidy("c1", 300)]), "svc.a")])).toEqual([
        { code: "answered", answer: applied, replayed: true },
      ]);
      expect((await store.balance("campaign/c1"))?.reservedMinor).toBe(300);
      expect((await store.verify()).violations).toEqual([]);
    });

    test("another principal's commit, release and refund of an owned payment find no reservation, exactly as for an unknown id, and change nothing", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([owned(request("p1", [subsidy("c1", 300)]), "svc.a")]);
      const reserved = await store.balance("campaign/c1");
      // Each answer equals the one for an id nobody applied: existence is not revealed.
      const settleAsUnknown = async (commands: (paymentId: string) => SettleCommand[]) => {
        const mine = await store.settle(commands("p1"));
        const unknown = await store.settle(commands("unknown"));
        expect(mine).toEqual(unknown.map((answer) => ({ ...answer, paymentId: "p1" })));
        expect(mine.map((answer) => answer.code)).toEqual(mine.map(() => "reservation_not_found"));
      };
      const refundAsUnknown = async (commands: (paymentId: string) => RefundCommand[]) => {
        const mine = await store.refund(commands("p1"));
        const unknown = await store.refund(commands("unknown"));
        expect(mine).toEqual(unknown.map((answer) => ({ ...answer, paymentId: "p1" })));
        expect(mine.map((answer) => answer.code)).toEqual(mine.map(() => "reservation_not_found"));
      };
      const settleByOther = (paymentId: string, atMs: number): SettleCommand[] => [
        { kind: "commit", paymentId, atMs, owner: "svc.b" },
        { kind: "commit", paymentId, atMs, totalMinor: 100, owner: "svc.b" },
        { kind: "release", paymentId, atMs, owner: "svc.b" },
      ];
      await settleAsUnknown((paymentId) => settleByOther(paymentId, T0));
      // Refused before it is even committed, as for an unknown id.
      await refundAsUnknown((paymentId) => [
        { paymentId, refundId: "r1", amountMinor: 50_000, atMs: T0, owner: "svc.b" },
      ]);
      expect(await store.balance("campaign/c1")).toEqual(reserved);

      const [committed] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0, owner: "svc.a" },
      ]);
      expect(committed).toMatchObject({ code: "committed", state: "committed" });
      const spent = await store.balance("campaign/c1");
      expect(spent).toMatchObject({ reservedMinor: 0, spentMinor: 300 });
      await settleAsUnknown((paymentId) => settleByOther(paymentId, T0 + 1));
      await refundAsUnknown((paymentId) => [
        { paymentId, refundId: "r1", amountMinor: 50_000, atMs: T0 + 1, owner: "svc.b" },
      ]);
      expect(await store.balance("campaign/c1")).toEqual(spent);

      // The owner's refund applies; another's retry of it neither replays nor conflicts.
      const [refunded] = await store.refund([
        { paymentId: "p1", refundId: "r1", amountMinor: 50_000, atMs: T0 + 2, owner: "svc.a" },
      ]);
      expect(refunded).toMatchObject({
        code: "refunded",
        subsidyReversedMinor: 150,
        replayed: false,
      });
      await refundAsUnknown((paymentId) => [
        { paymentId, refundId: "r1", amountMinor: 50_000, atMs: T0 + 3, owner: "svc.b" },
        { paymentId, refundId: "r1", amountMinor: 1, atMs: T0 + 3, owner: "svc.b" },
      ]);
      expect(await store.balance("campaign/c1")).toMatchObject({ spentMinor: 150 });
      expect((await store.verify()).violations).toEqual([]);
    });

    test("requests without an owner (in-process callers) act on owned payments, and anyone on payments without one", async () => {
      const store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      const [owned1, open2] = await store.reserve([
        owned(request("p1", [subsidy("c1", 100)]), "svc.a"),
        request("p2", [subsidy("c1", 200)]),
      ]);
      expect(await store.reserve([request("p1", [subsidy("c1", 100)])])).toEqual([
        { code: "answered", answer: answerOf(owned1), replayed: true },
      ]);
      expect(await store.reserve([owned(request("p2", [subsidy("c1", 200)]), "svc.b")])).toEqual([
        { code: "answered", answer: answerOf(open2), replayed: true },
      ]);
      const settled = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0 },
        { kind: "commit", paymentId: "p2", atMs: T0, owner: "svc.b" },
      ]);
      expect(settled.map((answer) => answer.code)).toEqual(["committed", "committed"]);
      const refunds = await store.refund([
        { paymentId: "p1", refundId: "r1", amountMinor: 100_000, atMs: T0 + 1 },
        { paymentId: "p2", refundId: "r1", amountMinor: 100_000, atMs: T0 + 1, owner: "svc.c" },
      ]);
      expect(refunds.map((answer) => [answer.code, answer.subsidyReversedMinor])).toEqual([
        ["refunded", 100],
        ["refunded", 200],
      ]);
      expect((await store.verify()).violations).toEqual([]);
    });

    test(`the owner is kept with the payment${reopen === undefined ? "" : " across a restart"}`, async () => {
      let store = await open();
      await store.fund("campaign/c1", 1000, "initial", T0);
      await store.reserve([
        owned(request("p1", [subsidy("c1", 100)]), "svc.a"),
        owned(request("p2", [subsidy("c1", 200)]), "svc.a"),
      ]);
      await store.settle([{ kind: "commit", paymentId: "p2", atMs: T0, owner: "svc.a" }]);
      // Sent together: a store that holds a record until its write is durable (SQLite) keeps the
      // owner there too.
      const [, [early]] = await Promise.all([
        store.reserve([owned(request("p3", [subsidy("c1", 50)]), "svc.a")]),
        store.settle([{ kind: "release", paymentId: "p3", atMs: T0, owner: "svc.b" }]),
      ]);
      expect(early?.code).toBe("reservation_not_found");
      store = await restarted(store);
      expect(await store.reserve([owned(request("p1", [subsidy("c1", 100)]), "svc.b")])).toEqual([
        { code: "idempotency_conflict", paymentId: "p1" },
      ]);
      const [commit, release] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0, owner: "svc.b" },
        { kind: "release", paymentId: "p1", atMs: T0, owner: "svc.b" },
      ]);
      expect([commit?.code, release?.code]).toEqual([
        "reservation_not_found",
        "reservation_not_found",
      ]);
      const [refund] = await store.refund([
        { paymentId: "p2", refundId: "r1", amountMinor: 100_000, atMs: T0, owner: "svc.b" },
      ]);
      expect(refund?.code).toBe("reservation_not_found");
      expect(await store.balance("campaign/c1")).toMatchObject({
        reservedMinor: 150,
        spentMinor: 200,
      });
      const [mine] = await store.settle([
        { kind: "commit", paymentId: "p1", atMs: T0, owner: "svc.a" },
      ]);
      expect(mine?.code).toBe("committed");
      const [myRefund] = await store.refund([
        { paymentId: "p2", refundId: "r1", amountMinor: 100_000, atMs: T0, owner: "svc.a" },
      ]);
      expect(myRefund?.code).toBe("refunded");
      expect(await store.balance("campaign/c1")).toMatchObject({
        reservedMinor: 50,
        spentMinor: 100,
      });
      expect((await store.verify()).violations).toEqual([]);
    });

    const restarts = reopen === undefined ? "" : ", across restarts";
    test(`generated sequences answer exactly as a simple model${restarts}, balance as it sums, and keep every invariant after every step`, async () => {
      await fc.assert(
        fc.asyncProperty(operationsArbitrary(reopen !== undefined), async (operations) => {
          // Closed after each run: a server store holds connections, and 60 runs would hoard them.
          const current = { store: await createStore() };
          try {
            await runAgainstModel(current, operations, reopen);
          } finally {
            await current.store.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}

/** `current.store` is the store in use: a restart closes it and puts the reopened one there. */
async function runAgainstModel(
  current: { store: LedgerStore },
  operations: readonly Operation[],
  reopen: ReopenLedgerStore | undefined,
): Promise<void> {
  const model = new LedgerModel();
  const accounts = new Set<string>();
  for (const operation of operations) {
    if (operation.kind === "restart") {
      if (reopen === undefined) throw new Error("a restart was generated for a store without one");
      // The model goes on unchanged: a durable store answers after a restart exactly as before
      // (stored answers replay, balances are equal, what was due is still due).
      await current.store.close();
      current.store = await reopen(current.store);
    } else {
      expect(await apply(current.store, operation)).toEqual(applyToModel(model, operation));
    }
    const store = current.store;
    expect((await store.verify()).violations).toEqual([]);
    for (const account of accountsOf(operation)) accounts.add(account);
    for (const account of accounts) {
      const balance = await store.balance(account);
      const use = model.use(account);
      // A store may not know an account nothing was ever written to; the model sums to zero.
      expect(balance ?? { fundedMinor: 0, ...use }).toMatchObject({
        fundedMinor: model.fundedOf(account),
        ...use,
      });
      if (balance !== undefined && account.startsWith("campaign/"))
        expect(balance.reservedMinor + balance.spentMinor).toBeLessThanOrEqual(balance.fundedMinor);
    }
  }
}

function applyToModel(model: LedgerModel, operation: StoreOperation): unknown {
  switch (operation.kind) {
    case "fund":
      return model.fund(`campaign/${operation.campaign}`, operation.amountMinor);
    case "reserve":
      return operation.requests.map((request) => model.reserve(request));
    case "settle":
      return operation.commands.map((command) => model.settle(command));
    case "refund":
      return operation.commands.map((command) => model.refund(command));
    case "expire":
      return model.expireDue(operation.nowMs, 100);
  }
}

function accountsOf(operation: Operation): string[] {
  if (operation.kind === "fund") return [`campaign/${operation.campaign}`];
  if (operation.kind !== "reserve") return [];
  return operation.requests.flatMap((request) =>
    request.subsidies.flatMap((subsidy) => subsidy.debits.map((debit) => debit.account)),
  );
}

const CAMPAIGNS = ["a", "b", "c"] as const;

type StoreOperation =
  | { kind: "fund"; campaign: string; amountMinor: number }
  | { kind: "reserve"; requests: ReservationRequest[] }
  | { kind: "settle"; commands: SettleCommand[] }
  | { kind: "refund"; commands: RefundCommand[] }
  | { kind: "expire"; nowMs: number };

/** A store operation, or the store closed and opened again on its data. */
type Operation = StoreOperation | { kind: "restart" };

const paymentIdArbitrary = fc.constantFrom("p1", "p2", "p3", "p4");
/**
 * Whom a request or command acts for: mostly one payment service, sometimes another, sometimes an
 * in-process caller (no owner). About three commands in four still reach their payment.
 */
const ownerArbitrary = fc.constantFrom<string | undefined>(
  ...Array<string>(6).fill("svc.a"),
  "svc.b",
  "svc.b",
  undefined,
  undefined,
);

/** `value` acting for `owner`; the field left out when there is none, as in-process callers do. */
function actingFor<T extends object>(value: T, owner: string | undefined): T {
  return owner === undefined ? value : { ...value, owner };
}
const atArbitrary = fc.integer({ min: 0, max: 10 }).map((step) => T0 + step * 30_000);

const subsidyArbitrary = fc
  .record({
    campaign: fc.constantFrom(...CAMPAIGNS),
    amountMinor: fc.integer({ min: 1, max: 400 }),
    capped: fc.boolean(),
    ceiling: fc.boolean(),
    policy: fc.constantFrom(...REFUND_RESTORES),
  })
  .map(({ campaign, amountMinor, capped, ceiling, policy }) => {
    const extra: Debit[] = [];
    if (capped)
      extra.push(boundedDebit(`identity-day/${campaign}/user:u1/2025-01-16`, amountMinor, 600, 2));
    if (ceiling)
      extra.push(
        boundedDebit(
          "platform-user-day/u1/2025-01-16",
          amountMinor,
          700,
          null,
          "platform_ceiling_reached",
        ),
      );
    return subsidy(campaign, amountMinor, extra, policy);
  });

const requestArbitrary = fc
  .record({
    paymentId: paymentIdArbitrary,
    subsidies: fc.uniqueArray(subsidyArbitrary, {
      maxLength: 3,
      selector: (entry) => entry.campaignId,
    }),
    atMs: atArbitrary,
    ttlMs: fc.constantFrom(30_000, 90_000, 3_600_000, 3_600_000),
    variant: fc.constantFrom("same", "same", "same", "other"),
    owner: ownerArbitrary,
  })
  .map(({ paymentId, subsidies, atMs, ttlMs, variant, owner }) =>
    // The content key follows the subsidies' shape so that "same content" retries repeat them.
    actingFor(
      request(paymentId, subsidies, { atMs, ttlMs, contentKey: `${paymentId}:${variant}` }),
      owner,
    ),
  );

const settleArbitrary: fc.Arbitrary<SettleCommand> = fc.oneof(
  {
    // Commits: mostly of the whole reservation, sometimes lower, now and then above it.
    weight: 3,
    arbitrary: fc
      .record({
        kind: fc.constant("commit" as const),
        paymentId: paymentIdArbitrary,
        atMs: atArbitrary,
        totalMinor: fc.oneof(
          { weight: 2, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.integer({ min: 0, max: 400 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 1300 }) },
        ),
        owner: ownerArbitrary,
      })
      .map(({ totalMinor, owner, ...command }) =>
        actingFor(totalMinor === undefined ? command : { ...command, totalMinor }, owner),
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        kind: fc.constant("release" as const),
        paymentId: paymentIdArbitrary,
        atMs: atArbitrary,
        owner: ownerArbitrary,
      })
      .map(({ owner, ...command }) => actingFor(command, owner)),
  },
);

const refundArbitrary: fc.Arbitrary<RefundCommand> = fc
  .record({
    paymentId: paymentIdArbitrary,
    refundId: fc.constantFrom("r1", "r2", "r3"),
    // Payments are 100,000 (see request()): some refunds fit, some add up to more.
    amountMinor: fc.oneof(
      fc.integer({ min: 1, max: 100_000 }),
      fc.constantFrom(0, 25_000, 50_000, 100_000),
    ),
    atMs: atArbitrary,
    owner: ownerArbitrary,
  })
  .map(({ owner, ...command }) => actingFor(command, owner));

/**
 * Every sequence starts with the three budgets funded, and weighs reserving, settling and
 * refunding over the rest, so that the generated runs reach commits, partial commits and refunds
 * (measured over 60 runs before this weighting: 2 commits and no refund).
 */
const storeOperationArbitrary: fc.Arbitrary<StoreOperation> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("fund" as const),
      campaign: fc.constantFrom(...CAMPAIGNS),
      amountMinor: fc.integer({ min: 1, max: 1000 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("reserve" as const),
      requests: fc.array(requestArbitrary, { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("settle" as const),
      commands: fc.array(settleArbitrary, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("refund" as const),
      commands: fc.array(refundArbitrary, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("expire" as const), nowMs: atArbitrary }),
  },
);

/**
 * One step in this many, on average, is a restart (when the store can restart). Opening a store
 * costs about as much as a whole generated run (SQLite starts its writer thread), and sequences
 * average ~5 steps: at 1 in 21 about one run in five restarts, and the test takes ~20 % longer.
 */
const RESTART_ODDS = 21;

function operationsArbitrary(withRestarts: boolean): fc.Arbitrary<Operation[]> {
  const step: fc.Arbitrary<Operation> = withRestarts
    ? fc.oneof(
        { weight: RESTART_ODDS - 1, arbitrary: storeOperationArbitrary },
        { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
      )
    : storeOperationArbitrary;
  return fc
    .array(step, { maxLength: 30 })
    .map((operations): Operation[] => [
      ...CAMPAIGNS.map((campaign) => ({ kind: "fund" as const, campaign, amountMinor: 1500 })),
      ...operations,
    ]);
}

async function apply(store: LedgerStore, operation: StoreOperation): Promise<unknown> {
  switch (operation.kind) {
    case "fund":
      return store.fund(`campaign/${operation.campaign}`, operation.amountMinor, "generated", T0);
    case "reserve":
      return store.reserve(operation.requests);
    case "settle":
      return store.settle(operation.commands);
    case "refund":
      return store.refund(operation.commands);
    case "expire":
      return store.expireDue(operation.nowMs, 100);
  }
}
