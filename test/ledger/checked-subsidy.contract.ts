/**
 * The ledger of checked subsidies (guard mode, ADR 0023) over a real store: what a guard check
 * allows goes through the store's own `reserve` step, committed at once, so every store must
 * record it once per payment id, replay it identically, refuse other content, never overspend a
 * registered external budget under concurrent checks, refund it, keep `verify` clean beside native
 * applies, and report it by `ext:<campaignRef>` version 1. A store's test file calls
 * `describeCheckedSubsidyContract` with a factory giving a fresh, empty store for every test and,
 * for a durable store, a way to open a closed store again on its data.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import type { Snapshot } from "../../src/core/evaluator/snapshot.ts";
import { EMPTY_KILL_STATE } from "../../src/core/guard/kill.ts";
import type { ExternalCampaign } from "../../src/core/guard/proposal-input.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { GuardCheckService } from "../../src/guard/guard-check.ts";
import { CheckedSubsidyLedger } from "../../src/ledger/checked-subsidy-ledger.ts";
import type { LedgerImpactReader } from "../../src/ledger/ledger-impact-reader.ts";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import {
  COFFEE_PAYMENT_AT_MS,
  coffeePayment,
  validCampaign,
  validEnvelope,
  validProgram,
  validTemplate,
  withField,
} from "../support/documents.ts";
import { coffeeSnapshot, snapshotOf } from "../support/snapshots.ts";

export type CheckedLedgerStore = LedgerStore & LedgerImpactReader;

const NOW_MS = COFFEE_PAYMENT_AT_MS;
const DAY_MS = 24 * 3_600_000;

/** Keeps what the runtime guard is told. */
class RecordingGuard {
  readonly recorded: { payment: Payment; decision: Decision }[] = [];
  record(payment: Payment, decision: Decision): void {
    this.recorded.push({ payment, decision });
  }
}

const proposal = (
  proposalId: string,
  amountMinor: number,
  campaignRef = "partner",
  extra: Record<string, unknown> = {},
) => ({
  proposalId,
  campaignRef,
  amountMinor,
  funding: "platform",
  label: "instant_discount",
  ...extra,
});

const checkOf = (
  paymentId: string,
  proposals: unknown[],
  paymentOverrides: Record<string, unknown> = {},
) => ({ payment: coffeePayment(paymentId, paymentOverrides), proposals });

interface Setup {
  readonly service: GuardCheckService;
  readonly guard: RecordingGuard;
  readonly ledger: CheckedSubsidyLedger;
}

function guardOver(
  store: LedgerStore,
  options: { externalCampaigns?: ExternalCampaign[]; served?: Snapshot } = {},
): Setup {
  const guard = new RecordingGuard();
  // No deadline: the contract is about what the store decides, not how fast a loaded CI is.
  const ledger = new CheckedSubsidyLedger({ store, nowMs: () => NOW_MS, storeDeadlineMs: null });
  const served = options.served ?? coffeeSnapshot(1_000_000);
  const service = new GuardCheckService({
    served: () => served,
    kills: { state: EMPTY_KILL_STATE, confirmedAtMs: NOW_MS, allowedStalenessMs: 1_000 },
    guard,
    nowMs: () => NOW_MS,
    whenUnhealthy: "refuse",
    externalCampaigns: options.externalCampaigns ?? [],
    ledger,
  });
  return { service, guard, ledger };
}

const budgeted = (
  budgetMinor: number,
  extra: Partial<ExternalCampaign> = {},
): ExternalCampaign => ({
  campaignRef: "partner",
  funding: "platform",
  label: "instant_discount",
  scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
  budgetMinor,
  ...extra,
});

export function describeCheckedSubsidyContract(
  name: string,
  createStore: () => Promise<CheckedLedgerStore>,
  reopen?: (closed: CheckedLedgerStore) => Promise<CheckedLedgerStore>,
): void {
  describe(`checked subsidies in the ledger: ${name}`, () => {
    const opened: CheckedLedgerStore[] = [];
    const open = async () => {
      const store = await createStore();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    test("records what a check allows once, committed at once, one entry per external campaign", async () => {
      const store = await open();
      const { service, guard } = guardOver(store);
      const recorded = await service.checkAndRecord(
        checkOf("chk-1", [
          proposal("a", 300),
          proposal("b", 200),
          proposal("c", 100, "other", { funding: "merchant", label: "merchant_offer" }),
          proposal("d", 50, "sneaky", { funding: "government", label: "government_subsidy" }),
        ]),
      );
      expect(recorded).toMatchObject({
        paymentId: "chk-1",
        ledger: "ledger.recorded",
        replayed: false,
        allowedTotalMinor: 600,
      });
      expect(recorded.answers.map((answer) => [answer.outcome, answer.reason])).toEqual([
        ["allowed", null],
        ["allowed", null],
        ["allowed", null],
        ["refused", "envelope.program_missing"],
      ]);
      // No budget of its own: the envelope's per-user daily ceiling is the account it draws on.
      expect(await store.balance("campaign/ext:partner")).toBeUndefined();
      expect(await store.balance("identity/user:u1/platform-day/CNY/2025-01-16")).toMatchObject({
        reservedMinor: 0,
        spentMinor: 600,
        spentCount: 2,
      });
      // Committed: nothing to settle, and nothing expires.
      const settling = new LedgerService({ store, nowMs: () => NOW_MS + DAY_MS });
      expect((await settling.release("chk-1")).code).toBe("already_committed");
      expect(await store.expireDue(NOW_MS + 30 * DAY_MS, 100)).toBe(0);
      expect((await store.verify()).ok).toBe(true);
      expect(guard.recorded.map(({ decision }) => decision.totalSubsidyMinor)).toEqual([600]);

      const report = await store.impactReport({
        versions: [{ campaignId: "ext:partner", version: 1 }],
      });
      expect(report.totals).toMatchObject({
        payments: 1,
        subsidies: 1,
        reservedMinor: 500,
        committedMinor: 500,
        heldMinor: 0,
        netMinor: 500,
      });
      expect(report.splits.campaign_version.rows.map((row) => [row.key, row.netMinor])).toEqual([
        ["ext:partner@1", 500],
      ]);
      expect(report.splits.funder.rows.map((row) => [row.key, row.netMinor])).toEqual([
        ["platform", 500],
      ]);
      expect(report.window).toEqual({ firstAtMs: NOW_MS, lastAtMs: NOW_MS });
    });

    test("a retry gets the identical stored answer; other content, or a native apply, is a conflict", async () => {
      const store = await open();
      const { service, guard } = guardOver(store);
      const request = checkOf("chk-2", [proposal("a", 300), proposal("b", 900, "other")]);
      const first = await service.checkAndRecord(request);
      expect(first.answers.map((answer) => [answer.outcome, answer.amountMinor])).toEqual([
        ["allowed", 300],
        ["clamped", 750],
      ]);
      const again = await service.checkAndRecord(request);
      expect(again).toEqual({ ...first, replayed: true });
      // Another `atMs` is the same content, as for `apply`.
      const later = await service.checkAndRecord(
        checkOf("chk-2", request.proposals, { atMs: NOW_MS + 5_000 }),
      );
      expect(later).toEqual({ ...first, replayed: true });
      expect(guard.recorded).toHaveLength(1);

      const changed = await service.checkAndRecord(
        checkOf("chk-2", [proposal("a", 301), proposal("b", 900, "other")]),
      );
      expect(changed.ledger).toBe("ledger.idempotency_conflict");
      expect(changed.allowedTotalMinor).toBe(0);
      expect(changed.answers.map((answer) => answer.reason)).toEqual([
        "ledger.idempotency_conflict",
        "ledger.idempotency_conflict",
      ]);
      expect(guard.recorded).toHaveLength(1);
      expect(
        (await store.balance("identity/user:u1/platform-day/CNY/2025-01-16"))?.spentMinor,
      ).toBe(1050);

      // One payment id, one record: a check's id is a conflict for `apply`, and the reverse.
      const native = new LedgerService({ store, nowMs: () => NOW_MS });
      await native.activate(coffeeSnapshot(1_000_000));
      expect((await native.apply(coffeePayment("chk-2"))).code).toBe("idempotency_conflict");
      expect((await native.apply(coffeePayment("native-1"))).code).toBe("reserved");
      const checkedNative = await service.checkAndRecord(checkOf("native-1", [proposal("a", 300)]));
      expect(checkedNative.ledger).toBe("ledger.idempotency_conflict");
      expect((await store.verify()).ok).toBe(true);
    });

    test("a registered budget is funded explicitly and never overspent by concurrent checks", async () => {
      const store = await open();
      const { service, ledger } = guardOver(store, { externalCampaigns: [budgeted(1_000)] });
      // Unfunded, a budget has nothing to give.
      const unfunded = await service.checkAndRecord(checkOf("race-0", [proposal("a", 10)]));
      expect(unfunded.answers[0]).toMatchObject({
        outcome: "refused",
        reason: "ledger.budget_exhausted",
      });
      expect(await ledger.fundRegistered([budgeted(1_000)])).toEqual([
        { code: "funded", account: "campaign/ext:partner", fundedMinor: 1_000 },
      ]);
      expect(await ledger.fundRegistered([budgeted(800)])).toEqual([
        { code: "funding_unchanged", account: "campaign/ext:partner", fundedMinor: 1_000 },
      ]);
      // Twenty checks at once for the last units: 300 each out of 1,000.
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          service.checkAndRecord(
            checkOf(`race-${index + 1}`, [proposal("a", 300)], { userId: `u${index}` }),
          ),
        ),
      );
      const allowed = answers.filter((answer) => answer.allowedTotalMinor > 0);
      expect(allowed).toHaveLength(3);
      for (const answer of answers) {
        expect(answer.ledger).toBe("ledger.recorded");
        if (answer.allowedTotalMinor === 0) {
          expect(answer.answers[0]?.reason).toBe("ledger.budget_exhausted");
        }
      }
      expect(await store.balance("campaign/ext:partner")).toMatchObject({
        fundedMinor: 1_000,
        reservedMinor: 0,
        spentMinor: 900,
      });
      // A refusal is stored: a retry after a top-up is still refused, as for `apply`.
      await store.fund("campaign/ext:partner", 1_000, "top-up", NOW_MS);
      const refused = answers.findIndex((answer) => answer.allowedTotalMinor === 0);
      const retried = await service.checkAndRecord(
        checkOf(`race-${refused + 1}`, [proposal("a", 300)], { userId: `u${refused}` }),
      );
      expect(retried).toMatchObject({ replayed: true, allowedTotalMinor: 0 });
      const verification = await store.verify();
      expect(verification.violations).toEqual([]);
    });

    test("a daily budget counts the campaign's local day; an unbudgeted campaign is recorded without one", async () => {
      const store = await open();
      const dailyOnly: ExternalCampaign = {
        campaignRef: "partner",
        funding: "platform",
        label: "instant_discount",
        scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
        dailyBudget: { amountMinor: 500, timeZone: "Asia/Shanghai" },
      };
      const { service, ledger } = guardOver(store, { externalCampaigns: [dailyOnly] });
      expect(await ledger.fundRegistered([dailyOnly])).toEqual([]);
      const first = await service.checkAndRecord(checkOf("day-1", [proposal("a", 300)]));
      const second = await service.checkAndRecord(
        checkOf("day-2", [proposal("a", 300)], { userId: "u2" }),
      );
      const nextDay = await service.checkAndRecord(
        checkOf("day-3", [proposal("a", 300)], { userId: "u3", atMs: NOW_MS + DAY_MS }),
      );
      expect([first, second, nextDay].map((answer) => answer.answers[0]?.reason)).toEqual([
        null,
        "ledger.daily_budget_exhausted",
        null,
      ]);
      expect(await store.balance("campaign-day/ext:partner/2025-01-16")).toMatchObject({
        spentMinor: 300,
      });
      expect(await store.balance("campaign/ext:partner")).toBeUndefined();
      expect((await store.verify()).ok).toBe(true);
    });

    test("refunds of a checked payment reverse its subsidy and give it back to the budget", async () => {
      const store = await open();
      const { service, ledger } = guardOver(store, { externalCampaigns: [budgeted(1_000)] });
      await ledger.fundRegistered([budgeted(1_000)]);
      await service.checkAndRecord(checkOf("refund-1", [proposal("a", 300)]));
      const refunds = new LedgerService({ store, nowMs: () => NOW_MS + 60_000 });
      const half = await refunds.refund("refund-1", "r1", 1_750);
      expect(half).toMatchObject({ code: "refunded", subsidyReversedMinor: 150 });
      expect((await store.balance("campaign/ext:partner"))?.spentMinor).toBe(150);
      const rest = await refunds.refund("refund-1", "r2", 1_750);
      expect(rest).toMatchObject({ code: "refunded", subsidyReversedMinor: 150 });
      expect(await store.balance("campaign/ext:partner")).toMatchObject({
        spentMinor: 0,
        spentCount: 0,
      });
      expect((await refunds.refund("refund-1", "r3", 1)).code).toBe("refund_exceeds_payment");
      const report = await store.impactReport({
        versions: [{ campaignId: "ext:partner", version: 1 }],
      });
      expect(report.totals).toMatchObject({ committedMinor: 300, refundedMinor: 300, netMinor: 0 });
      expect((await store.verify()).ok).toBe(true);
    });

    test("a checked payment belongs to the principal the check was made for: another's check of its id is a conflict, its refund finds nothing", async () => {
      const store = await open();
      const { service, guard, ledger } = guardOver(store, { externalCampaigns: [budgeted(1_000)] });
      await ledger.fundRegistered([budgeted(1_000)]);
      const request = checkOf("owned-1", [proposal("a", 300)]);
      const first = await service.checkAndRecord(request, "svc.a");
      expect(first.ledger).toBe("ledger.recorded");
      const theirs = await service.checkAndRecord(request, "svc.b");
      expect(theirs.ledger).toBe("ledger.idempotency_conflict");
      expect(theirs.allowedTotalMinor).toBe(0);
      expect(await service.checkAndRecord(request, "svc.a")).toEqual({ ...first, replayed: true });
      expect(guard.recorded).toHaveLength(1);

      const refunds = new LedgerService({ store, nowMs: () => NOW_MS + 60_000 });
      const refused = await refunds.refund("owned-1", "r1", 3_500, "svc.b");
      expect(refused).toEqual(
        await refunds
          .refund("never-checked", "r1", 3_500, "svc.b")
          .then((answer) => ({ ...answer, paymentId: "owned-1" })),
      );
      expect(refused.code).toBe("reservation_not_found");
      expect((await store.balance("campaign/ext:partner"))?.spentMinor).toBe(300);
      const refunded = await refunds.refund("owned-1", "r1", 3_500, "svc.a");
      expect(refunded).toMatchObject({
        code: "refunded",
        subsidyReversedMinor: 300,
        replayed: false,
      });
      expect((await store.verify()).ok).toBe(true);
    });

    test("ledger verify is clean after applies and checks, which share the platform ceiling and program budgets", async () => {
      const store = await open();
      const envelope = withField(validEnvelope(), "currencies.0.perUserDailyMaxMinor", 1_000);
      const served = snapshotOf([
        withField(validTemplate(), "bands", undefined),
        envelope,
        { ...validProgram(), budgetMinor: 1_000 },
        { ...validCampaign(), limits: { totalBudgetMinor: 100_000 } },
      ]);
      const native = new LedgerService({ store, nowMs: () => NOW_MS });
      await native.activate(served);
      const { service } = guardOver(store, { served });
      // The native campaign's 80 first: a check for 950 more passes the day's 1,000 per user.
      expect((await native.apply(coffeePayment("mix-1"))).code).toBe("reserved");
      const over = await service.checkAndRecord(checkOf("mix-2", [proposal("a", 950)]));
      expect(over.answers[0]?.reason).toBe("ledger.platform_ceiling_reached");
      const within = await service.checkAndRecord(checkOf("mix-3", [proposal("a", 900)]));
      expect(within.allowedTotalMinor).toBe(900);
      // A program's budget is one budget, whoever grants from it.
      const government = (paymentId: string, userId: string) =>
        checkOf(
          paymentId,
          [
            proposal("g", 600, "city", {
              funding: "government",
              label: "government_subsidy",
              programId: "sh-consumption-2025",
            }),
          ],
          { userId, merchantCategory: "5411" },
        );
      expect((await service.checkAndRecord(government("mix-4", "u7"))).allowedTotalMinor).toBe(600);
      expect((await service.checkAndRecord(government("mix-5", "u8"))).answers[0]?.reason).toBe(
        "ledger.program_budget_exhausted",
      );
      expect((await native.commit("mix-1")).code).toBe("committed");
      expect((await native.apply(coffeePayment("mix-6", { userId: "u9" }))).code).toBe("reserved");
      expect((await native.release("mix-6")).code).toBe("released");
      expect((await native.refund("mix-1", "r1", 3_500)).code).toBe("refunded");
      expect((await native.refund("mix-3", "r1", 1_000)).code).toBe("refunded");
      const verification = await store.verify();
      expect(verification.violations).toEqual([]);
      expect(verification.ok).toBe(true);
    });

    if (reopen !== undefined) {
      test("a recorded check survives a restart: its retry is a replay", async () => {
        const store = await open();
        const { service, ledger } = guardOver(store, { externalCampaigns: [budgeted(1_000)] });
        const request = checkOf("restart-1", [proposal("a", 300), proposal("b", 40, "other")]);
        await ledger.fundRegistered([budgeted(1_000)]);
        const first = await service.checkAndRecord(request);
        opened.splice(opened.indexOf(store), 1);
        await store.close();
        const again = await reopen(store);
        opened.push(again);
        const replayed = await guardOver(again, {
          externalCampaigns: [budgeted(1_000)],
        }).service.checkAndRecord(request);
        expect(replayed).toEqual({ ...first, replayed: true });
        expect((await again.balance("campaign/ext:partner"))?.spentMinor).toBe(300);
        expect((await again.verify()).ok).toBe(true);
      });
    }
  });
}
