/**
 * The ledger over PostgreSQL behind a misbehaving network or server (test/support/fault-proxy.ts:
 * refused connections, a hung link, delays, garbage for answers, a lost COMMIT answer): every
 * payment is answered within the service's deadline, with a reason code and never an exception,
 * nothing is half-written, and an ambiguous commit never applies twice on retry.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { COFFEE_PAYMENT_AT_MS, coffeePayment } from "../support/documents.ts";
import { FaultProxy } from "../support/fault-proxy.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";

const DEADLINE_MS = 50;
/** Timers on a shared 2-core machine run late; the bound still proves nobody waited on the store. */
const TIMER_SLACK_MS = 150;
const url = inject("postgresUrl");

let proxy: FaultProxy;
let store: PostgresLedgerStore;
let service: LedgerService;
const failures: unknown[] = [];

beforeAll(async () => {
  const target = new URL(url);
  proxy = await FaultProxy.start(target.hostname, Number(target.port || 5432));
  store = await PostgresLedgerStore.open({
    url: proxy.urlFor(url),
    schema: `faults_${process.pid}`,
    queryTimeoutMs: 1_000,
    connectTimeoutMs: 1_000,
  });
  service = new LedgerService({
    store,
    nowMs: () => COFFEE_PAYMENT_AT_MS,
    storeDeadlineMs: DEADLINE_MS,
    onStoreFailure: (cause) => failures.push(cause),
  });
  await service.activate(coffeeSnapshot(1_000_000));
});

afterAll(async () => {
  proxy.mode = "pass";
  await store.close();
  await proxy.close();
});

async function timedApply(paymentId: string) {
  const startedMs = performance.now();
  const answer = await service.apply(coffeePayment(paymentId));
  return { answer, elapsedMs: performance.now() - startedMs };
}

/** Waits until the store answers again through the proxy (it reconnects after a failed batch). */
async function healed(paymentId: string) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const answer = await service.apply(coffeePayment(paymentId));
    if (answer.code !== "ledger_unavailable") return answer;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error("the store did not recover within 5 s");
}

describe("the PostgreSQL ledger under network faults", () => {
  test("passing through, apply reserves", async () => {
    const { answer } = await timedApply("ok-1");
    expect(answer.code).toBe("reserved");
  });

  for (const mode of ["refuse", "hang", "delay", "garbage"] as const) {
    test(`${mode}: every apply is answered ledger_unavailable within the deadline, then the store recovers`, async () => {
      proxy.mode = mode;
      // Refusing acts on new connections: cut the store's, so that it has to reconnect. Hanging,
      // delaying and garbling act on the connection the store already holds, mid-conversation.
      if (mode === "refuse") proxy.cutAll();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, index) => timedApply(`${mode}-${index}`)),
      );
      for (const { answer, elapsedMs } of answers) {
        expect(answer.code).toBe("ledger_unavailable");
        expect(answer.reservation).toBeNull();
        expect(elapsedMs).toBeLessThan(DEADLINE_MS + TIMER_SLACK_MS);
      }
      proxy.mode = "pass";
      proxy.cutAll();
      expect((await healed(`${mode}-after`)).code).toBe("reserved");
      // A payment answered unavailable may have been written late: its retry is a replay or a
      // first reservation, never a second one.
      const retry = await service.apply(coffeePayment(`${mode}-0`));
      expect(retry.code).toBe("reserved");
      expect((await store.verify()).violations).toEqual([]);
    });
  }

  test("a commit whose answer is lost is ambiguous: the retry gets the stored answer, applied once", async () => {
    const before = (await store.balance("campaign/sh-coffee"))?.reservedMinor ?? 0;
    proxy.mode = "drop_after_commit";
    const { answer } = await timedApply("ambiguous");
    expect(answer.code).toBe("ledger_unavailable");
    expect(proxy.droppedCommits).toBeGreaterThan(0);
    proxy.mode = "pass";
    const retry = await healed("ambiguous");
    expect(retry.code).toBe("reserved");
    // Either the first attempt committed (the retry replays it) or it did not (the retry is the
    // first): in both cases exactly one reservation of 80.
    expect((await store.balance("campaign/sh-coffee"))?.reservedMinor).toBe(before + 80);
    expect((await store.verify()).violations).toEqual([]);
  });

  test("every failure reached onStoreFailure as an error with its cause, none escaped", () => {
    expect(failures.length).toBeGreaterThanOrEqual(41);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(Error);
      expect(["LedgerStoreError", "StoreDeadlineExceeded"]).toContain((failure as Error).name);
    }
  });
});
