/**
 * Guard mode's service with the ledger of checked subsidies (src/guard/guard-check.ts,
 * src/ledger/checked-subsidy-ledger.ts) on the memory store: the runtime guard sees each recorded
 * payment's grants once and only what the ledger let through; a store that fails or misses its
 * deadline is answered by the caller's `whenUnhealthy`, never thrown; a late write is what a
 * retry gets; without a ledger `checkAndRecord` answers as `check`. What every store must do with
 * a check is the contract in test/ledger/checked-subsidy.contract.ts.
 */
import { describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { EMPTY_KILL_STATE } from "../../src/core/guard/kill.ts";
import type { ExternalCampaign } from "../../src/core/guard/proposal-input.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { externalCampaignRegistry, GuardCheckService } from "../../src/guard/guard-check.ts";
import { CheckedSubsidyLedger } from "../../src/ledger/checked-subsidy-ledger.ts";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { StoreDeadlineExceeded } from "../../src/ledger/store-deadline.ts";
import {
  COFFEE_PAYMENT_AT_MS,
  coffeePayment,
  validCampaign,
  validEnvelope,
  validExternalCampaign,
  validTemplate,
  withField,
} from "../support/documents.ts";
import { coffeeSnapshot, snapshotOf } from "../support/snapshots.ts";

const NOW_MS = COFFEE_PAYMENT_AT_MS;

class RecordingGuard {
  readonly recorded: { payment: Payment; decision: Decision }[] = [];
  record(payment: Payment, decision: Decision): void {
    this.recorded.push({ payment, decision });
  }
}

/** The memory store whose `reserve` waits `delayMs` first, or fails when `failing` is set. */
class SlowStore extends MemoryLedgerStore {
  delayMs = 0;
  failing = false;
  override async reserve(requests: Parameters<LedgerStore["reserve"]>[0]) {
    if (this.failing) throw new Error("the disk is gone");
    if (this.delayMs > 0) await new Promise((done) => setTimeout(done, this.delayMs));
    return super.reserve(requests);
  }
}

const registered: ExternalCampaign[] = [
  {
    campaignRef: "budgeted",
    funding: "platform",
    label: "instant_discount",
    scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
    budgetMinor: 400,
  },
];

function setUp(options: { ledger?: boolean; deadlineMs?: number } = {}) {
  const store = new SlowStore();
  const guard = new RecordingGuard();
  const failures: unknown[] = [];
  const ledger = new CheckedSubsidyLedger({
    store,
    nowMs: () => NOW_MS,
    storeDeadlineMs: options.deadlineMs ?? 50,
    onStoreFailure: (cause) => failures.push(cause),
  });
  const served = coffeeSnapshot(1_000_000);
  const service = new GuardCheckService({
    served: () => served,
    kills: { state: EMPTY_KILL_STATE, confirmedAtMs: NOW_MS, allowedStalenessMs: 1_000 },
    guard,
    nowMs: () => NOW_MS,
    whenUnhealthy: "refuse",
    externalCampaigns: registered,
    ...(options.ledger === false ? {} : { ledger }),
  });
  return { store, guard, failures, ledger, service };
}

const proposal = (proposalId: string, campaignRef: string, amountMinor: number) => ({
  proposalId,
  campaignRef,
  amountMinor,
  funding: "platform",
  label: "instant_discount",
});

const request = (paymentId: string, extra: Record<string, unknown> = {}) => ({
  payment: coffeePayment(paymentId),
  proposals: [proposal("a", "budgeted", 300), proposal("b", "free", 200)],
  ...extra,
});

describe("GuardCheckService with the ledger of checked subsidies", () => {
  test("without a ledger, checkAndRecord answers as check and records nothing in a ledger", async () => {
    const { service, store } = setUp({ ledger: false });
    expect(service.recordsChecks).toBe(false);
    const recorded = await service.checkAndRecord(request("plain-1"));
    expect(recorded).toEqual({
      ...service.check(request("plain-1")),
      ledger: null,
      replayed: false,
    });
    expect((await store.verify()).budgets).toBe(0);
  });

  test("the runtime guard sees each payment's check once, before the ledger's limits", async () => {
    const { service, guard, ledger } = setUp();
    expect(service.recordsChecks).toBe(true);
    await ledger.fundRegistered(registered);
    const first = await service.checkAndRecord(request("g-1"));
    expect(first.answers.map((answer) => [answer.campaignRef, answer.amountMinor])).toEqual([
      ["budgeted", 300],
      ["free", 200],
    ]);
    expect(await service.checkAndRecord(request("g-1"))).toEqual({ ...first, replayed: true });
    // 300 of the 400 are spent: the next payment's 300 is refused by the budget. The guard still
    // sees it proposed and allowed by the check (ADR 0020: a runaway held back by its budget must
    // not look calm).
    const second = await service.checkAndRecord(request("g-2"));
    expect(second.answers.map((answer) => answer.reason)).toEqual([
      "ledger.budget_exhausted",
      null,
    ]);
    // Other content for a recorded id grants nothing new, and is not recorded again.
    const conflict = await service.checkAndRecord({
      ...request("g-1"),
      proposals: [proposal("a", "free", 10)],
    });
    expect(conflict.ledger).toBe("ledger.idempotency_conflict");
    // Nothing allowed: nothing stored, but the payment still counts for the monitors.
    const transfer = await service.checkAndRecord({
      ...request("g-3"),
      payment: coffeePayment("g-3", { scenario: "p2p_transfer" }),
    });
    expect(transfer.ledger).toBe("ledger.nothing_allowed");
    expect(
      guard.recorded.map(({ payment, decision }) => [
        payment.paymentId,
        decision.subsidies.map((subsidy) => [subsidy.campaignId, subsidy.amountMinor]),
      ]),
    ).toEqual([
      [
        "g-1",
        [
          ["ext:budgeted", 300],
          ["ext:free", 200],
        ],
      ],
      [
        "g-2",
        [
          ["ext:budgeted", 300],
          ["ext:free", 200],
        ],
      ],
      ["g-3", []],
    ]);
  });

  test("one campaign's proposals are one entry; another funding for it on the payment is refused", async () => {
    const { service, store } = setUp();
    const mixed = await service.checkAndRecord({
      payment: coffeePayment("mixed-1"),
      proposals: [
        proposal("a", "free", 100),
        proposal("b", "free", 150),
        { ...proposal("c", "free", 50), funding: "merchant", label: "merchant_offer" },
      ],
    });
    expect(mixed.answers.map((answer) => [answer.amountMinor, answer.reason])).toEqual([
      [100, null],
      [150, null],
      [0, "ledger.campaign_mixed"],
    ]);
    expect(mixed.allowedTotalMinor).toBe(250);
    const report = await store.impactReport({ versions: [{ campaignId: "ext:free", version: 1 }] });
    expect(report.totals).toMatchObject({ subsidies: 1, committedMinor: 250 });
    expect(report.splits.funder.rows.map((row) => row.key)).toEqual(["platform"]);
  });

  test("budgets are part of the one registration schema, checked like its other fields", () => {
    const base = registered[0]!;
    const daily = { ...base, dailyBudget: { amountMinor: 500, timeZone: "Asia/Shanghai" } };
    expect(externalCampaignRegistry([daily]).get("budgeted")).toEqual(daily);
    expect(() => externalCampaignRegistry([{ ...base, budgetMinor: 0 }])).toThrow(RangeError);
    expect(() =>
      externalCampaignRegistry([
        { ...base, dailyBudget: { amountMinor: 500, timeZone: "Mars/Olympus" } },
      ]),
    ).toThrow(/time zone/);
    expect(() =>
      externalCampaignRegistry([
        { ...base, dailyBudget: { amountMinor: 500 } } as unknown as ExternalCampaign,
      ]),
    ).toThrow(RangeError);
  });

  test("a registration served with the configuration has its budget funded with the snapshot, and enforced", async () => {
    const served = snapshotOf([
      withField(validTemplate(), "bands", undefined),
      validEnvelope(),
      validCampaign(),
      { ...validExternalCampaign(), budgetMinor: 700 },
    ]);
    const store = new MemoryLedgerStore();
    const native = new LedgerService({ store, nowMs: () => NOW_MS });
    expect(await native.activate(served)).toContainEqual({
      code: "funded",
      account: "campaign/ext:lunch-2025",
      fundedMinor: 700,
    });
    const service = new GuardCheckService({
      served: () => served,
      kills: { state: EMPTY_KILL_STATE, confirmedAtMs: NOW_MS, allowedStalenessMs: 1_000 },
      guard: new RecordingGuard(),
      nowMs: () => NOW_MS,
      whenUnhealthy: "refuse",
      ledger: new CheckedSubsidyLedger({ store, nowMs: () => NOW_MS }),
    });
    const lunch = (paymentId: string) => ({
      payment: coffeePayment(paymentId, { userId: paymentId }),
      proposals: [
        { ...proposal("a", "lunch-2025", 400), funding: "merchant", label: "merchant_offer" },
      ],
    });
    expect((await service.checkAndRecord(lunch("lunch-1"))).allowedTotalMinor).toBe(400);
    expect((await service.checkAndRecord(lunch("lunch-2"))).answers[0]?.reason).toBe(
      "ledger.budget_exhausted",
    );
    expect((await store.verify()).ok).toBe(true);
  });

  test("invalid requests are answered as check answers them, recorded nowhere", async () => {
    const { service, guard, store } = setUp();
    expect((await service.checkAndRecord(null)).reason).toBe("request.invalid");
    expect((await service.checkAndRecord({ payment: {}, proposals: [] })).reason).toBe(
      "payment.invalid",
    );
    expect(guard.recorded).toEqual([]);
    expect((await store.verify()).budgets).toBe(0);
  });

  test("a failing store is answered by whenUnhealthy: refuse allows nothing, pass only what has no budget", async () => {
    const { service, store, failures, ledger } = setUp();
    await ledger.fundRegistered(registered);
    store.failing = true;
    const refused = await service.checkAndRecord(request("f-1"));
    expect(refused).toMatchObject({
      ledger: "ledger.unavailable",
      unhealthy: "ledger.unavailable",
      allowedTotalMinor: 0,
      replayed: false,
    });
    expect(refused.answers.map((answer) => answer.reason)).toEqual([
      "ledger.unavailable",
      "ledger.unavailable",
    ]);
    const passed = await service.checkAndRecord(request("f-2", { whenUnhealthy: "pass" }));
    expect(passed.answers.map((answer) => [answer.outcome, answer.reason])).toEqual([
      ["refused", "ledger.unavailable"],
      ["allowed", null],
    ]);
    expect(passed.allowedTotalMinor).toBe(200);
    expect(failures).toHaveLength(2);
    store.failing = false;
    // Nothing was written: the same id is checked and recorded afresh once the store is back.
    expect((await service.checkAndRecord(request("f-1"))).ledger).toBe("ledger.recorded");
  });

  test("a store past its deadline is answered in time; a retry gets what it wrote late", async () => {
    const { service, store, failures } = setUp({ deadlineMs: 20 });
    store.delayMs = 200;
    const startedMs = performance.now();
    const late = await service.checkAndRecord(request("late-1"));
    expect(performance.now() - startedMs).toBeLessThan(150);
    expect(late.ledger).toBe("ledger.unavailable");
    expect(failures[0]).toBeInstanceOf(StoreDeadlineExceeded);
    await new Promise((done) => setTimeout(done, 300));
    store.delayMs = 0;
    // The write landed after the answer: the ledger holds it, and a retry is told so.
    const retried = await service.checkAndRecord(request("late-1"));
    expect(retried).toMatchObject({ ledger: "ledger.recorded", replayed: true });
    // `budgeted` was never funded here: only `free` got through.
    expect(retried.allowedTotalMinor).toBe(200);
  });
});
