import { beforeEach, describe, expect, test } from "vitest";
import { localDate, paymentContentKey } from "../../src/core/ledger/plan-reservation.ts";
import { LedgerService, StoreDeadlineExceeded } from "../../src/ledger/ledger-service.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import {
  COFFEE_PAYMENT_AT_MS,
  coffeePayment,
  validCampaign,
  validEnvelope,
  validProgram,
  validTemplate,
  withField,
} from "../support/documents.ts";
import { snapshotOf } from "../support/snapshots.ts";

const AT_MS = COFFEE_PAYMENT_AT_MS;
const payment = coffeePayment;

const template = withField(validTemplate(), "bands", undefined);

function campaignWith(limits: Record<string, unknown>) {
  return { ...validCampaign(), limits: { totalBudgetMinor: 1_000_000, ...limits } };
}

let nowMs = AT_MS;
let store: MemoryLedgerStore;
let ledger: LedgerService;

async function ledgerWith(...documents: Record<string, unknown>[]) {
  ledger = new LedgerService({ store, nowMs: () => nowMs, reservationTtlMs: 60_000 });
  await ledger.activate(snapshotOf([template, validEnvelope(), ...documents]));
  return ledger;
}

beforeEach(() => {
  nowMs = AT_MS;
  store = new MemoryLedgerStore();
});

describe("LedgerService", () => {
  test("activating a snapshot funds each campaign budget up to its configuration, once", async () => {
    await ledgerWith(campaignWith({ totalBudgetMinor: 5000 }));
    expect((await store.balance("campaign/sh-coffee"))?.fundedMinor).toBe(5000);
    await ledger.activate(
      snapshotOf([template, validEnvelope(), campaignWith({ totalBudgetMinor: 5000 })], 2),
    );
    expect((await store.balance("campaign/sh-coffee"))?.fundedMinor).toBe(5000);
  });

  test("apply reserves the quoted subsidy against every limit, durable before it answers", async () => {
    await ledgerWith(campaignWith({ dailyBudgetMinor: 10_000, perUser: { countPerDay: 3 } }));
    const answer = await ledger.apply(payment("p1"));
    expect(answer.code).toBe("reserved");
    expect(answer.reservation?.totalReservedMinor).toBe(80);
    expect(answer.reservation?.expiresAtMs).toBe(AT_MS + 60_000);
    for (const account of [
      "campaign/sh-coffee",
      "campaign-day/sh-coffee/2025-01-16",
      "identity/user:u1/day/sh-coffee/2025-01-16",
      "identity/user:u1/platform-day/CNY/2025-01-16",
    ]) {
      expect((await store.balance(account))?.reservedMinor, account).toBe(80);
    }
  });

  test("a retry gets the stored answer; the same id with other content is a conflict", async () => {
    await ledgerWith(campaignWith({}));
    const first = await ledger.apply(payment("p1"));
    const retry = await ledger.apply(payment("p1", { atMs: AT_MS + 5000 }));
    expect(retry.replayed).toBe(true);
    expect(retry.reservation).toEqual(first.reservation);
    const conflict = await ledger.apply(payment("p1", { amountMinor: 9900 }));
    expect(conflict.code).toBe("idempotency_conflict");
    expect((await store.balance("campaign/sh-coffee"))?.reservedMinor).toBe(80);
  });

  test("a per-user cap counts each identity: another account on the same device is capped too", async () => {
    await ledgerWith(campaignWith({ perUser: { countPerDay: 1 } }));
    expect((await ledger.apply(payment("p1", { deviceId: "d1" }))).code).toBe("reserved");
    const sameUser = await ledger.apply(payment("p2"));
    expect(sameUser.reservation?.subsidies[0]?.code).toBe("identity_cap_reached");
    const sameDevice = await ledger.apply(payment("p3", { userId: "u2", deviceId: "d1" }));
    expect(sameDevice.reservation?.subsidies[0]?.code).toBe("identity_cap_reached");
    const someoneElse = await ledger.apply(payment("p4", { userId: "u3", deviceId: "d3" }));
    expect(someoneElse.code).toBe("reserved");
  });

  test("the platform ceiling caps a user per day in the envelope's time zone", async () => {
    const envelope = withField(validEnvelope(), "currencies", [
      {
        currency: "CNY",
        perPaymentMaxRateBps: 3000,
        perPaymentMaxMinor: 20_000,
        minPayableMinor: 1,
        perUserDailyMaxMinor: 150,
      },
    ]);
    ledger = new LedgerService({ store, nowMs: () => nowMs });
    await ledger.activate(snapshotOf([template, envelope, campaignWith({})]));
    expect((await ledger.apply(payment("p1"))).code).toBe("reserved");
    const second = await ledger.apply(payment("p2"));
    expect(second.reservation?.subsidies[0]?.code).toBe("platform_ceiling_reached");
    // The same time a day later is a new day in the envelope's zone, with a fresh ceiling.
    const nextDay = await ledger.apply(payment("p3", { atMs: AT_MS + 86_400_000 }));
    expect(nextDay.code).toBe("reserved");
  });

  test("government subsidies draw on the program budget", async () => {
    const government = {
      ...template,
      id: "gov",
      label: "government_subsidy",
      funding: { source: "government", programId: "sh-consumption-2025" },
    };
    ledger = new LedgerService({ store, nowMs: () => nowMs });
    await ledger.activate(
      snapshotOf([
        template,
        government,
        validEnvelope(),
        validProgram(),
        {
          ...campaignWith({}),
          template: "gov",
          scope: { regions: ["CN-SH"], merchantCategories: ["5812"] },
        },
      ]),
    );
    const answer = await ledger.apply(payment("p1", { merchantCategory: "5812" }));
    expect(answer.reservation?.subsidies[0]).toMatchObject({
      code: "reserved",
      programId: "sh-consumption-2025",
      label: "government_subsidy",
    });
    expect((await store.balance("program/sh-consumption-2025"))?.reservedMinor).toBe(80);
  });

  test("commit, release and expiry settle through the store, and the ledger verifies", async () => {
    await ledgerWith(campaignWith({}));
    await ledger.apply(payment("p1"));
    await ledger.apply(payment("p2", { userId: "u2" }));
    await ledger.apply(payment("p3", { userId: "u3" }));
    expect((await ledger.commit("p1", 50)).entries).toEqual([
      { campaignId: "sh-coffee", reservedMinor: 80, committedMinor: 50 },
    ]);
    expect((await ledger.release("p2")).code).toBe("released");
    nowMs += 60_000;
    expect(await ledger.expireDue()).toBe(1);
    expect((await ledger.commit("p3")).code).toBe("reservation_expired");
    expect(await store.balance("campaign/sh-coffee")).toMatchObject({
      reservedMinor: 0,
      spentMinor: 50,
    });
    expect((await store.verify()).ok).toBe(true);
  });

  test("every call carries its owner: another principal's settle and refund find nothing, its apply conflicts", async () => {
    await ledgerWith(campaignWith({}));
    expect((await ledger.apply(payment("p1"), "svc.a")).code).toBe("reserved");
    expect((await ledger.apply(payment("p1"), "svc.b")).code).toBe("idempotency_conflict");
    expect((await ledger.commit("p1", undefined, "svc.b")).code).toBe("reservation_not_found");
    expect((await ledger.commit("p1", 10, "svc.b")).code).toBe("reservation_not_found");
    expect((await ledger.release("p1", "svc.b")).code).toBe("reservation_not_found");
    expect((await ledger.commit("p1", undefined, "svc.a")).code).toBe("committed");
    expect((await ledger.refund("p1", "r1", 100, "svc.b")).code).toBe("reservation_not_found");
    expect((await ledger.refund("p1", "r1", 100, "svc.a")).code).toBe("refunded");
    // In process, without an owner: not restricted.
    expect((await ledger.apply(payment("p1"))).replayed).toBe(true);
    expect((await ledger.refund("p1", "r2", 100)).code).toBe("refunded");
  });

  test("a refund follows the campaign's policy: with budgets only, the once-a-day cap keeps the use", async () => {
    await ledgerWith(campaignWith({ perUser: { countPerDay: 1 }, refundRestores: "budgets" }));
    await ledger.apply(payment("p1"));
    await ledger.commit("p1");
    const refund = await ledger.refund("p1", "r1", 3500);
    expect(refund).toMatchObject({
      code: "refunded",
      refundedMinor: 3500,
      subsidyReversedMinor: 80,
    });
    expect(await ledger.refund("p1", "r1", 3500)).toEqual({ ...refund, replayed: true });
    expect(await store.balance("campaign/sh-coffee")).toMatchObject({
      spentMinor: 0,
      spentCount: 0,
    });
    const again = await ledger.apply(payment("p2"));
    expect(again.reservation?.subsidies.map((subsidy) => subsidy.code)).toEqual([
      "identity_cap_reached",
    ]);
    expect((await store.verify()).ok).toBe(true);
  });

  test("fails closed when the store fails: no subsidy, a reason code, never an exception", async () => {
    const failures: unknown[] = [];
    const failing = new MemoryLedgerStore();
    failing.reserve = async () => Promise.reject(new Error("disk on fire"));
    failing.settle = async () => Promise.reject(new Error("disk on fire"));
    failing.refund = async () => Promise.reject(new Error("disk on fire"));
    const broken = new LedgerService({
      store: failing,
      nowMs: () => nowMs,
      onStoreFailure: (cause) => failures.push(cause),
    });
    await broken.activate(snapshotOf([template, validEnvelope(), campaignWith({})]));
    expect(await broken.apply(payment("p1"))).toMatchObject({
      code: "ledger_unavailable",
      paymentId: "p1",
      reservation: null,
    });
    expect(await broken.commit("p1")).toMatchObject({ code: "ledger_unavailable", state: null });
    expect(await broken.refund("p1", "r1", 100)).toMatchObject({
      code: "ledger_unavailable",
      subsidyReversedMinor: 0,
    });
    expect(failures).toHaveLength(3);
  });

  test("a store slower than the deadline is answered ledger_unavailable in time; a retry gets what it wrote", async () => {
    const failures: unknown[] = [];
    const late: number[] = [];
    const slow = new MemoryLedgerStore();
    const reserve = slow.reserve.bind(slow);
    let delayMs = 300;
    slow.reserve = async (requests) => {
      await new Promise((done) => setTimeout(done, delayMs));
      return reserve(requests);
    };
    const service = new LedgerService({
      store: slow,
      nowMs: () => nowMs,
      storeDeadlineMs: 40,
      onStoreFailure: (cause) => failures.push(cause),
      onLateReservation: (reservation) => late.push(reservation.totalReservedMinor),
    });
    await service.activate(snapshotOf([template, validEnvelope(), campaignWith({})]));
    const startedMs = performance.now();
    const answer = await service.apply(payment("p1"));
    // The deadline, plus timer slack on a shared machine.
    expect(performance.now() - startedMs).toBeLessThan(250);
    expect(answer).toMatchObject({ code: "ledger_unavailable", reservation: null });
    expect(failures[0]).toBeInstanceOf(StoreDeadlineExceeded);
    // The store finished the write after the deadline: the retry replays it, nothing doubles.
    await new Promise((done) => setTimeout(done, delayMs + 50));
    delayMs = 0;
    const retry = await service.apply(payment("p1"));
    expect(retry).toMatchObject({ code: "reserved", replayed: true });
    expect((await slow.balance("campaign/sh-coffee"))?.reservedMinor).toBe(80);
    // The reservation the deadline hid was told once, when the store made it; the replay is not.
    expect(late).toEqual([80]);
  });

  test("an invalid payment gets no subsidy and writes nothing", async () => {
    await ledgerWith(campaignWith({}));
    const answer = await ledger.apply({ ...payment("p1"), amountMinor: 35.5 });
    expect(answer).toMatchObject({ code: "no_subsidy", paymentId: "p1", reservation: null });
    expect((await store.balance("campaign/sh-coffee"))?.reservedMinor).toBe(0);
  });
});

describe("idempotency content and local days", () => {
  test("the content key ignores the time and the order of segments, and nothing else", () => {
    const base = { ...payment("p1"), segments: ["student", "vip"] } as never;
    expect(
      paymentContentKey({ ...(base as object), atMs: 1, segments: ["vip", "student"] } as never),
    ).toBe(paymentContentKey(base));
    expect(paymentContentKey({ ...(base as object), amountMinor: 3501 } as never)).not.toBe(
      paymentContentKey(base),
    );
    expect(paymentContentKey({ ...(base as object), deviceId: "d1" } as never)).not.toBe(
      paymentContentKey(base),
    );
  });

  test("local dates follow the zone: 23:30 UTC is the next day in Shanghai", () => {
    expect(localDate(Date.UTC(2025, 0, 16, 23, 30), "Asia/Shanghai")).toBe("2025-01-17");
    expect(localDate(Date.UTC(2025, 0, 16, 23, 30), "UTC")).toBe("2025-01-16");
  });
});
