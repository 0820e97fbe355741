/**
 * `LedgerService.apply` obeys kills when a composition gives it `killedEvaluatorFactory(watcher)`:
 * a subsidy an earlier quote showed is not reserved after a kill names it, and a stale watcher
 * makes `apply` grant nothing. Over the memory stores, and once over SQLite files.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import type { Snapshot } from "../../src/core/evaluator/snapshot.ts";
import type { KillStore } from "../../src/guard/kill-store.ts";
import { KillWatcher } from "../../src/guard/kill-watcher.ts";
import { killedEvaluatorFactory } from "../../src/guard/killed-evaluator.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { MemoryLedgerStore } from "../../src/ledger/memory-ledger-store.ts";
import { SqliteKillStore } from "../../src/stores/sqlite/sqlite-kill-store.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import {
  COFFEE_PAYMENT_AT_MS,
  coffeePayment,
  killSnapshot,
  ManualTimers,
} from "./kill-fixtures.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-killed-ledger-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function guardedLedger(store: LedgerStore, kills: KillStore, snapshot: Snapshot) {
  const timers = new ManualTimers();
  const watcher = await KillWatcher.start({
    store: kills,
    nowMs: () => timers.nowMs,
    timers,
    notifications: false,
  });
  const ledger = new LedgerService({
    store,
    nowMs: () => COFFEE_PAYMENT_AT_MS,
    storeDeadlineMs: null,
    createEvaluator: killedEvaluatorFactory(watcher),
  });
  await ledger.activate(snapshot);
  return { ledger, watcher, timers };
}

const grantedIds = (answer: Awaited<ReturnType<LedgerService["apply"]>>) =>
  (answer.reservation?.subsidies ?? [])
    .filter((subsidy) => subsidy.code === "reserved")
    .map((subsidy) => subsidy.campaignId);

describe("apply through a killed evaluator", () => {
  test("a subsidy an earlier quote showed is not reserved once a kill names it", async () => {
    const store = new MemoryLedgerStore();
    const kills = new MemoryKillStore(new MemoryAuditLogStore());
    const { ledger, watcher } = await guardedLedger(store, kills, killSnapshot());
    const quoted = killedEvaluatorFactory(watcher)(killSnapshot()).quote(coffeePayment("p1"));
    expect(quoted.subsidies.map((subsidy) => subsidy.campaignId)).toEqual(["a-coffee", "c-bank"]);

    const published = await kills.publishKill({
      scope: { kind: "campaigns", campaignIds: ["a-coffee"] },
      reason: "a runaway subsidy",
      actor: "ops",
      atMs: COFFEE_PAYMENT_AT_MS,
    });
    if (!published.ok) throw new Error(published.message);
    watcher.adopt(published.kill);

    const applied = await ledger.apply(coffeePayment("p1"));
    expect(applied.code).toBe("reserved");
    // The killed winner's runner-up (b-coffee) is not promoted: stacking ran before the kill.
    expect(grantedIds(applied)).toEqual(["c-bank"]);
    expect(applied.decision.rejected).toContainEqual({
      campaignId: "a-coffee",
      reason: "guard.killed",
    });
    expect((await store.balance("campaign/a-coffee"))?.reservedMinor ?? 0).toBe(0);
    expect((await store.balance("campaign/b-coffee"))?.reservedMinor ?? 0).toBe(0);
    expect((await store.balance("campaign/c-bank"))?.reservedMinor).toBe(30);
    await watcher.stop();
  });

  test("a stale watcher makes apply grant nothing, and it grants again once a read answers", async () => {
    const store = new MemoryLedgerStore();
    const kills = new MemoryKillStore(new MemoryAuditLogStore());
    const { ledger, watcher, timers } = await guardedLedger(store, kills, killSnapshot());
    // The store stops answering: every poll times out, the last confirmation ages past 1 s.
    const readSequence = kills.readSequence.bind(kills);
    kills.readSequence = () => new Promise<number>(() => {});
    await timers.advance(2_000);
    const refused = await ledger.apply(coffeePayment("p1"));
    expect(refused.code).toBe("no_subsidy");
    expect(refused.decision.reason).toBe("guard.snapshot_stale");
    expect(refused.reservation?.totalReservedMinor ?? 0).toBe(0);

    kills.readSequence = readSequence;
    await timers.advance(1_000);
    expect(watcher.isStale()).toBe(false);
    expect(grantedIds(await ledger.apply(coffeePayment("p2", { userId: "u2" })))).toEqual([
      "a-coffee",
      "c-bank",
    ]);
    await watcher.stop();
  });

  test("on SQLite: a kill published in the control file withdraws the subsidy from apply", async () => {
    const store = await SqliteLedgerStore.open({
      path: join(directory, "ledger.db"),
      nowMs: () => COFFEE_PAYMENT_AT_MS,
    });
    const kills = SqliteKillStore.open({ path: join(directory, "control.sqlite") });
    const { ledger, watcher, timers } = await guardedLedger(store, kills, killSnapshot());
    try {
      expect(grantedIds(await ledger.apply(coffeePayment("p1")))).toEqual(["a-coffee", "c-bank"]);
      // Published by another process: this watcher learns of it by polling, not by adopting.
      const other = SqliteKillStore.open({ path: join(directory, "control.sqlite") });
      const published = await other.publishKill({
        scope: { kind: "template", templateId: "instant-discount" },
        reason: "the platform template runs away",
        actor: "ops",
        atMs: COFFEE_PAYMENT_AT_MS,
      });
      expect(published.ok).toBe(true);
      await other.close();
      await timers.advance(300);
      expect(watcher.state.active).toHaveLength(1);

      const applied = await ledger.apply(coffeePayment("p2", { userId: "u2" }));
      expect(grantedIds(applied)).toEqual(["c-bank"]);
      expect((await store.balance("campaign/a-coffee"))?.reservedMinor).toBe(80);
      expect((await store.balance("campaign/c-bank"))?.reservedMinor).toBe(60);
    } finally {
      await watcher.stop();
      await kills.close();
      await store.close();
    }
  });
});
