/**
 * The kill watcher and the guarded evaluator over the memory store, with a manual clock and
 * timers: notifications, polling only, a kill adopted in-process, the staleness gate when the
 * store stops answering, and a clean stop.
 */
import { describe, expect, test } from "vitest";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import type { KillState } from "../../src/core/guard/kill.ts";
import type { KillStore } from "../../src/guard/kill-store.ts";
import { KillWatcher, type KillWatcherOptions } from "../../src/guard/kill-watcher.ts";
import { killedEvaluator, killedEvaluatorFactory } from "../../src/guard/killed-evaluator.ts";
import { MemoryKillStore } from "../../src/guard/memory-kill-store.ts";
import { coffeePayment, killSnapshot, ManualTimers, settle } from "./kill-fixtures.ts";

const snapshot = killSnapshot();

function setUp(options: Partial<KillWatcherOptions> = {}) {
  const timers = new ManualTimers();
  const audit = new MemoryAuditLogStore();
  const store = new MemoryKillStore(audit);
  const start = (over: Partial<KillWatcherOptions> = {}) =>
    KillWatcher.start({
      store,
      nowMs: () => timers.nowMs,
      timers,
      pollMs: 250,
      allowedStalenessMs: 1_000,
      readTimeoutMs: 200,
      ...options,
      ...over,
    });
  const publish = (campaignIds: string[]) =>
    store.publishKill({
      scope: { kind: "campaigns", campaignIds },
      reason: "runaway spend",
      actor: "oncall",
      atMs: timers.nowMs,
    });
  return { timers, audit, store, start, publish };
}

/** A store that stops answering while `hung` is set (reads never settle). */
function hangable(store: KillStore): KillStore & { hung: boolean } {
  const never = new Promise<never>(() => {});
  const wrapped = {
    hung: false,
    publishKill: (request: Parameters<KillStore["publishKill"]>[0]) => store.publishKill(request),
    clearKill: (request: Parameters<KillStore["clearKill"]>[0]) => store.clearKill(request),
    readState: () => (wrapped.hung ? never : store.readState()),
    readSequence: () => (wrapped.hung ? never : store.readSequence()),
    close: () => store.close(),
  };
  return wrapped;
}

const granted = (evaluator: {
  quote(input: unknown): { subsidies: readonly { campaignId: string }[] };
}) => evaluator.quote(coffeePayment("p")).subsidies.map((subsidy) => subsidy.campaignId);

describe("a kill watcher", () => {
  test("with notifications: a kill is obeyed as soon as the store has it, without waiting for a poll", async () => {
    const { timers, start, publish } = setUp();
    const watcher = await start();
    const evaluator = killedEvaluator(createFastEvaluator(snapshot), watcher);
    expect(granted(evaluator)).toEqual(["a-coffee", "c-bank"]);
    const published = await publish(["a-coffee"]);
    expect(published).toMatchObject({ ok: true, sequence: 1, kill: { sequence: 1 } });
    await settle();
    expect(timers.nowMs).toBe(1_000_000);
    expect(watcher.state.sequence).toBe(1);
    expect(granted(evaluator)).toEqual(["c-bank"]);
    expect(evaluator.quote(coffeePayment("p")).rejected).toContainEqual({
      campaignId: "a-coffee",
      reason: "guard.killed",
    });
    await watcher.stop();
  });

  test("polling only: a kill is obeyed at the next poll, and a clear likewise", async () => {
    const { timers, store, start, publish } = setUp({ notifications: false });
    const states: KillState[] = [];
    const watcher = await start({ onState: (state) => states.push(state) });
    const evaluator = killedEvaluator(createFastEvaluator(snapshot), watcher);
    await publish(["c-bank"]);
    await settle();
    expect(granted(evaluator)).toEqual(["a-coffee", "c-bank"]);
    await timers.advance(250);
    expect(granted(evaluator)).toEqual(["a-coffee"]);
    const cleared = await store.clearKill({
      killSequence: 1,
      reason: "understood",
      actor: "oncall",
      atMs: timers.nowMs,
    });
    expect(cleared).toMatchObject({ ok: true, sequence: 2 });
    await timers.advance(250);
    expect(granted(evaluator)).toEqual(["a-coffee", "c-bank"]);
    expect(states.map((state) => state.sequence)).toEqual([1, 2]);
    await watcher.stop();
  });

  test("a kill published in this process is obeyed at once through adopt, before any read", async () => {
    const { start, publish } = setUp({ notifications: false });
    const watcher = await start();
    const evaluator = killedEvaluator(createFastEvaluator(snapshot), watcher);
    const published = await publish(["a-coffee", "c-bank"]);
    if (!published.ok) throw new Error(published.message);
    watcher.adopt(published.kill);
    expect(granted(evaluator)).toEqual([]);
    await watcher.stop();
  });

  test("fails closed when the store stops answering for longer than the allowed staleness, and grants again when it answers", async () => {
    const { timers, store } = setUp();
    const flaky = hangable(store);
    const failures: unknown[] = [];
    const watcher = await KillWatcher.start({
      store: flaky,
      nowMs: () => timers.nowMs,
      timers,
      pollMs: 250,
      allowedStalenessMs: 1_000,
      readTimeoutMs: 200,
      onReadFailure: (cause) => failures.push(cause),
    });
    const evaluator = killedEvaluatorFactory(watcher)(snapshot);
    await timers.advance(300);
    const lastConfirmedMs = watcher.confirmedAtMs!;
    flaky.hung = true;
    await timers.advance(lastConfirmedMs + 1_000 - timers.nowMs);
    expect(granted(evaluator)).toEqual(["a-coffee", "c-bank"]);
    await timers.advance(1);
    expect(watcher.isStale()).toBe(true);
    const decision = evaluator.quote(coffeePayment("p"));
    expect(decision).toMatchObject({
      reason: "guard.snapshot_stale",
      subsidies: [],
      totalSubsidyMinor: 0,
    });
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(String(failures[0])).toMatch(/took over 200 ms/);
    flaky.hung = false;
    await timers.advance(250);
    expect(watcher.isStale()).toBe(false);
    expect(granted(evaluator)).toEqual(["a-coffee", "c-bank"]);
    await watcher.stop();
  });

  test("a watcher whose first read fails starts stale", async () => {
    const { timers, store } = setUp();
    const flaky = hangable(store);
    flaky.hung = true;
    const starting = KillWatcher.start({
      store: flaky,
      nowMs: () => timers.nowMs,
      timers,
      readTimeoutMs: 100,
    });
    await timers.advance(100);
    const watcher = await starting;
    expect(watcher.confirmedAtMs).toBeNull();
    expect(
      killedEvaluator(createFastEvaluator(snapshot), watcher).quote(coffeePayment("p")).reason,
    ).toBe("guard.snapshot_stale");
    await watcher.stop();
  });

  test("stop clears its timers and unsubscribes; options out of range are refused", async () => {
    const { timers, start, publish } = setUp();
    const watcher = await start();
    expect(timers.pending).toBe(1);
    await watcher.stop();
    expect(timers.pending).toBe(0);
    await publish(["a-coffee"]);
    await timers.advance(1_000);
    expect(watcher.state.sequence).toBe(0);
    await expect(start({ pollMs: 1_000, allowedStalenessMs: 1_000 })).rejects.toThrow(
      /above pollMs/,
    );
    await expect(start({ pollMs: 0 })).rejects.toThrow(RangeError);
  });
});

describe("the memory kill store", () => {
  test("each write appends its audit entry; refusals write nothing", async () => {
    const { store, audit, publish } = setUp();
    await publish(["a-coffee"]);
    await store.clearKill({ killSequence: 1, reason: "fixed", actor: "oncall", atMs: 0 });
    expect(
      await store.clearKill({ killSequence: 1, reason: "again", actor: "oncall", atMs: 0 }),
    ).toMatchObject({
      ok: false,
      code: "kill_not_active",
    });
    expect(
      await store.publishKill({
        scope: { kind: "all" },
        reason: "r",
        actor: "not a valid actor!",
        atMs: 0,
      }),
    ).toMatchObject({ ok: false, code: "audit_refused" });
    const entries = await audit.read(1, 10);
    expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
      ["kill.set", "kill/1"],
      ["kill.cleared", "kill/1"],
    ]);
    expect(await store.readSequence()).toBe(2);
  });
});
