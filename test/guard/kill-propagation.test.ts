/**
 * Kill propagation between real processes on PostgreSQL (bench/kill-propagation.ts runs the same
 * harness with 100 kills): two child processes, each a kill watcher and a guarded evaluator, and
 * the parent publishing kills; with notifications, then polling only. And the fail-closed rule on
 * a real store: a watcher whose PostgreSQL stops answering grants nothing once its allowed
 * staleness has passed, and grants again when the store answers. Loopback only, bounded in kills
 * and time; the harness kills its children however a run ends.
 */
import { describe, expect, inject, test } from "vitest";
import { measureKillPropagation } from "../../bench/kill-propagation.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import { KillWatcher } from "../../src/guard/kill-watcher.ts";
import { killedEvaluator } from "../../src/guard/killed-evaluator.ts";
import { PostgresKillStore } from "../../src/stores/postgres/postgres-kill-store.ts";
import { coffeePayment } from "../support/documents.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";

const url = inject("postgresUrl");
const KILLS = 10;

describe("kill propagation between processes on PostgreSQL", () => {
  test("with notifications: every process refuses within a second of each kill's COMMIT", async () => {
    const run = await measureKillPropagation({
      url,
      schema: `kills_propagate_${process.pid}`,
      processes: 2,
      kills: KILLS,
      notifications: true,
    });
    expect(run.delaysMs).toHaveLength(2 * KILLS);
    expect(run.otherReasons).toEqual([]);
    expect(run.maxMs).toBeLessThanOrEqual(1_000);
  }, 120_000);

  test("polling only: every process refuses within two seconds", async () => {
    const run = await measureKillPropagation({
      url,
      schema: `kills_polling_${process.pid}`,
      processes: 2,
      kills: KILLS,
      notifications: false,
    });
    expect(run.delaysMs).toHaveLength(2 * KILLS);
    expect(run.otherReasons).toEqual([]);
    expect(run.maxMs).toBeLessThanOrEqual(2_000);
  }, 120_000);
});

describe("a watcher whose PostgreSQL stops answering", () => {
  test("grants nothing once its allowed staleness has passed, and grants again when the store answers", async () => {
    const target = new URL(url);
    const proxy = await FaultProxy.start(target.hostname, Number(target.port || 5432));
    const schema = `kills_stale_${process.pid}`;
    const store = await PostgresKillStore.open({
      url: proxy.urlFor(url),
      schema,
      connectTimeoutMs: 200,
      queryTimeoutMs: 200,
      reconnectMinMs: 20,
      reconnectMaxMs: 100,
    });
    const nowMs = () => performance.timeOrigin + performance.now();
    const allowedStalenessMs = 300;
    const watcher = await KillWatcher.start({
      store,
      nowMs,
      pollMs: 50,
      allowedStalenessMs,
      readTimeoutMs: 100,
    });
    const evaluator = killedEvaluator(createFastEvaluator(coffeeSnapshot(1_000_000)), watcher);
    const quote = () => evaluator.quote(coffeePayment("stale"));
    const until = async (done: () => boolean, limitMs: number) => {
      const startedMs = nowMs();
      while (!done() && nowMs() - startedMs < limitMs) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return nowMs() - startedMs;
    };
    try {
      expect(quote().subsidies).toHaveLength(1);
      const confirmedBeforeMs = watcher.confirmedAtMs!;
      proxy.mode = "hang";
      const waitedMs = await until(() => quote().subsidies.length === 0, 3_000);
      expect(quote()).toMatchObject({ reason: "guard.snapshot_stale", subsidies: [] });
      // Not before its allowed staleness after the last confirmation, and not long after either.
      expect(nowMs() - confirmedBeforeMs).toBeGreaterThan(allowedStalenessMs);
      expect(waitedMs).toBeLessThan(allowedStalenessMs + 500);
      proxy.mode = "pass";
      proxy.cutAll();
      await until(() => quote().subsidies.length === 1, 5_000);
      expect(quote()).toMatchObject({ reason: null, subsidies: [{ campaignId: "sh-coffee" }] });
    } finally {
      proxy.mode = "pass";
      await watcher.stop();
      await store.close();
      await proxy.close();
    }
  }, 60_000);
});
