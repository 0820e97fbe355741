import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import type { ReserveResult } from "../../src/core/ledger/reservation.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { LedgerStoreError } from "../../src/ledger/ledger-store-error.ts";
import { MIGRATIONS } from "../../src/stores/sqlite/sqlite-ledger-schema.ts";
import {
  SqliteLedgerStore,
  type SqliteLedgerStoreOptions,
} from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { describeLedgerStoreContract } from "../ledger/ledger-store.contract.ts";
import { boundedDebit, REQUEST_TTL_MS, request, subsidy } from "../support/ledger-requests.ts";
import { WRITER_CHILD_ACCOUNT, WRITER_CHILD_FUNDED_MINOR } from "./sqlite-writer-child.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);
const directory = mkdtempSync(join(tmpdir(), "bursar-sqlite-ledger-"));
let databases = 0;

function freshPath(): string {
  databases += 1;
  // A folder that does not exist yet: open creates it.
  return join(directory, `case-${databases}`, "ledger.sqlite");
}

afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The file each store of the contract suite writes, to open it again there after a restart. */
const contractPaths = new WeakMap<LedgerStore, string>();

async function openContractStore(path: string): Promise<LedgerStore> {
  // Requests happen from T0 on and hold at least 30 s: opening at T0 releases nothing, so the
  // store after a restart must answer as the model does, which has no restarts.
  const store = await SqliteLedgerStore.open({ path, nowMs: () => T0 });
  contractPaths.set(store, path);
  return store;
}

describeLedgerStoreContract(
  "sqlite",
  () => openContractStore(freshPath()),
  (closed) => openContractStore(contractPaths.get(closed)!),
);

const WRITER_CHILD = fileURLToPath(new URL("./sqlite-writer-child.ts", import.meta.url));
/** How long a child process may take to start and open its store, or to die once killed. */
const CHILD_WAIT_MS = 20_000;

/** Child processes a test started: killed after it, whatever happened. */
const children: ChildProcessWithoutNullStreams[] = [];

function spawnChild(script: string, ...args: string[]): ChildProcessWithoutNullStreams {
  // stdin stays open while the child lives: the child leaves when it closes.
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args]);
  children.push(child);
  return child;
}

/** The child's first line on stdout; fails if it exits first or says nothing in `timeoutMs`. */
function firstLine(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<string> {
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolveLine, rejectLine) => {
    const timer = setTimeout(
      () => rejectLine(new Error(`no line from the child in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout }).once("line", (line) => {
      clearTimeout(timer);
      resolveLine(line);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      rejectLine(new Error(`the child exited (${code ?? signal}) before a line: ${stderr}`));
    });
  });
}

/** Resolves with how the child ended; fails if it is still running after `timeoutMs`. */
function exitOf(
  child: ChildProcessWithoutNullStreams,
  timeoutMs: number,
): Promise<number | NodeJS.Signals> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode!);
  }
  return new Promise((resolveExit, rejectExit) => {
    const timer = setTimeout(
      () => rejectExit(new Error(`the child is still running after ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolveExit(code ?? signal!);
    });
  });
}

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill("SIGKILL");
    await exitOf(child, CHILD_WAIT_MS);
  }
});

describe("SqliteLedgerStore", () => {
  const opened: SqliteLedgerStore[] = [];
  const open = async (options: SqliteLedgerStoreOptions) => {
    const store = await SqliteLedgerStore.open(options);
    opened.push(store);
    return store;
  };
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  test("opens a new file in WAL mode with full sync and a versioned schema, and migrates once", async () => {
    const path = freshPath();
    const first = await open({ path });
    expect(first.recovery).toEqual({
      migrationsApplied: [1, 2, 3, 4, 5],
      paymentsRead: 0,
      accountsRebuilt: 0,
      expiredReservations: 0,
    });
    await first.close();
    const second = await open({ path });
    expect(second.recovery.migrationsApplied).toEqual([]);
    await second.close();
    const raw = new BetterSqlite3(path, { readonly: true });
    try {
      expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(raw.prepare("SELECT version, name FROM schema_migrations").all()).toEqual([
        { version: 1, name: "ledger" },
        { version: 2, name: "entries in the payment row, refunds" },
        { version: 3, name: "counters kept by the writer, rebuilt from the ledger" },
        { version: 4, name: "impact facts" },
        { version: 5, name: "payment owners" },
      ]);
    } finally {
      raw.close();
    }
  });

  test("refuses to open a database written by a newer schema, with a clear error", async () => {
    const path = freshPath();
    await (await open({ path })).close();
    const raw = new BetterSqlite3(path);
    raw
      .prepare(
        "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (99, 'future', 0)",
      )
      .run();
    raw.close();
    await expect(SqliteLedgerStore.open({ path })).rejects.toMatchObject({
      code: "open_failed",
      message: expect.stringMatching(/schema version 99, newer than this build knows \(5\)/),
    });
  });

  test("answers, balances and stored answers survive close and reopen", async () => {
    const path = freshPath();
    const before = await open({ path });
    await before.fund("campaign/c1", 1000, "initial", T0);
    const [granted] = await before.reserve([request("p1", [subsidy("c1", 300)])]);
    const [refused] = await before.reserve([request("p2", [subsidy("c1", 800)])]);
    await before.reserve([request("p3", [subsidy("c1", 200)])]);
    await before.settle([{ kind: "commit", paymentId: "p3", atMs: T0, totalMinor: 150 }]);
    await before.close();

    const after = await open({ path, nowMs: () => T0 });
    expect(await after.balance("campaign/c1")).toEqual({
      account: "campaign/c1",
      fundedMinor: 1000,
      reservedMinor: 300,
      spentMinor: 150,
      reservedCount: 1,
      spentCount: 1,
    });
    const replays = await after.reserve([
      request("p1", [subsidy("c1", 300)]),
      request("p2", [subsidy("c1", 800)]),
      request("p1", [subsidy("c1", 1)], { contentKey: "other" }),
    ]);
    expect(replays).toEqual([
      { ...granted, replayed: true },
      { ...refused, replayed: true },
      { code: "idempotency_conflict", paymentId: "p1" },
    ]);
    const [retry] = await after.settle([{ kind: "commit", paymentId: "p3", atMs: T0 }]);
    expect(retry).toMatchObject({ code: "already_committed", state: "committed" });
    expect((await after.verify()).ok).toBe(true);
  });

  test("many concurrent calls for one budget reserve exactly the budget, and one per id", async () => {
    const store = await open({ path: freshPath() });
    await store.fund("campaign/hot", 500, "initial", T0);
    const distinct = Array.from({ length: 2000 }, (_, index) =>
      store.reserve([request(`p${index}`, [subsidy("hot", 1)])]),
    );
    const duplicates = Array.from({ length: 100 }, () =>
      store.reserve([request("same-payment", [subsidy("hot", 1)])]),
    );
    const results = (await Promise.all([...distinct, ...duplicates])).flat();
    const answered = results.filter(
      (result): result is Extract<ReserveResult, { code: "answered" }> =>
        result.code === "answered",
    );
    expect(answered).toHaveLength(2100);
    const firstAnswers = answered.filter((result) => !result.replayed);
    expect(firstAnswers).toHaveLength(2001);
    const reservedUnits = firstAnswers.filter((result) => result.answer.code === "reserved").length;
    expect(reservedUnits).toBe(500);
    const sameAnswers = answered.filter((result) => result.answer.paymentId === "same-payment");
    expect(sameAnswers.filter((result) => !result.replayed)).toHaveLength(1);
    expect(new Set(sameAnswers.map((result) => JSON.stringify(result.answer))).size).toBe(1);
    expect(await store.balance("campaign/hot")).toMatchObject({
      reservedMinor: 500,
      reservedCount: 500,
    });
    expect(await store.verify()).toMatchObject({ ok: true, violations: [] });
  });

  test("every call is answered once, and only when what it rests on can be read from the file, over small batches with and without writes", async () => {
    const path = freshPath();
    const store = await open({ path, batchSizeMax: 3, batchWaitMs: 0 });
    await store.fund("campaign/c1", 1_000_000, "initial", T0);
    // A second connection, as `bursar ledger verify` would open: it sees committed rows only.
    const file = new BetterSqlite3(path, { readonly: true });
    const stored = file.prepare("SELECT answer_json FROM payments WHERE payment_id = ?").pluck();
    const answeredTimes = new Map<number, number>();
    const notOnDisk: string[] = [];
    const calls: Promise<unknown>[] = [];
    const track = (index: number, paymentId: string, call: Promise<unknown>) =>
      calls.push(
        call.then((answer) => {
          answeredTimes.set(index, (answeredTimes.get(index) ?? 0) + 1);
          // The answer's payment must already be durable: a reserve's own row, a replay's or a
          // settle's the row it read — whichever batch wrote it, that batch has committed. (A
          // commit that came before any reserve of its id found nothing, and rests on nothing.)
          const [first] = answer as [{ code: string }];
          const restsOnRow = first.code !== "reservation_not_found";
          if (restsOnRow && stored.get(paymentId) === undefined) {
            notOnDisk.push(`${index} ${paymentId} ${first.code}`);
          }
          return first.code;
        }),
      );
    try {
      for (let index = 0; index < 300; index += 1) {
        const paymentId = `p${index % 121}`;
        if (index % 5 === 4) {
          // Writes nothing unless its reservation is there: then a commit.
          track(index, paymentId, store.settle([{ kind: "commit", paymentId, atMs: T0 }]));
        } else {
          // The first of each id writes its row; the later ones are replays, which write nothing.
          track(index, paymentId, store.reserve([request(paymentId, [subsidy("c1", 10)])]));
        }
        // Now and then the loop yields, so that batches are sent, committed and answered while
        // later calls keep arriving: replays and commits then land in batches of their own.
        if (index % 7 === 6) await new Promise(setImmediate);
      }
      const codes = await Promise.all(calls);
      expect(codes).toHaveLength(300);
      // Each kind of answer occurred: first reserves, replays (as "answered") and commits.
      expect(new Set(codes)).toEqual(new Set(["answered", "committed", "reservation_not_found"]));
      expect([...answeredTimes.values()].every((times) => times === 1)).toBe(true);
      expect(answeredTimes.size).toBe(300);
      expect(notOnDisk).toEqual([]);
    } finally {
      file.close();
    }
    expect(await store.verify()).toMatchObject({ ok: true, violations: [] });
  });

  test("a replay and a settlement of a payment whose batch is still on its way get its stored answer, not the first call's object", async () => {
    const path = freshPath();
    // Batches of one request: the reserve's batch goes to the writer as it is decided, and the
    // calls below are decided while it is on its way.
    const store = await open({ path, batchSizeMax: 1 });
    await store.fund("campaign/c1", 1000, "initial", T0);
    const first = store.reserve([request("p1", [subsidy("c1", 300)])]);
    const replay = store.reserve([request("p1", [subsidy("c1", 300)])]);
    const conflict = store.reserve([request("p1", [subsidy("c1", 1)], { contentKey: "other" })]);
    const commit = store.settle([{ kind: "commit", paymentId: "p1", atMs: T0, totalMinor: 200 }]);
    const [[granted], [replayed], [conflicting], [committed]] = await Promise.all([
      first,
      replay,
      conflict,
      commit,
    ]);
    if (granted?.code !== "answered" || replayed?.code !== "answered") {
      throw new Error("expected answers");
    }
    expect(granted.answer).toMatchObject({ code: "reserved", totalReservedMinor: 300 });
    expect(replayed).toEqual({ ...granted, replayed: true });
    expect(replayed.answer).not.toBe(granted.answer);
    expect(conflicting).toEqual({ code: "idempotency_conflict", paymentId: "p1" });
    expect(committed).toMatchObject({ code: "committed", state: "committed" });
    await store.close();
    const after = await open({ path, nowMs: () => T0 });
    const [again] = await after.reserve([request("p1", [subsidy("c1", 300)])]);
    expect(again).toEqual({ ...granted, replayed: true });
    expect(await after.balance("campaign/c1")).toMatchObject({
      reservedMinor: 0,
      spentMinor: 200,
    });
    expect((await after.verify()).ok).toBe(true);
  });

  test("one writer per file: a second store is refused while the first is open, and opens after it closed", async () => {
    const path = freshPath();
    const first = await open({ path });
    await first.fund("campaign/c1", 300, "initial", T0);
    await expect(SqliteLedgerStore.open({ path })).rejects.toMatchObject({
      code: "open_failed",
      message: expect.stringMatching(/open for writing by another store/),
    });
    // The file stays readable beside its writer: verification reads it.
    expect((await first.verify()).ok).toBe(true);
    await first.close();
    const second = await open({ path });
    expect((await second.balance("campaign/c1"))?.fundedMinor).toBe(300);
  });

  test("one writer per file across processes: refused while another process holds it, and opens once that process is killed", async () => {
    const path = freshPath();
    const child = spawnChild(WRITER_CHILD, path);
    expect(await firstLine(child, CHILD_WAIT_MS)).toBe("ready");
    await expect(open({ path })).rejects.toMatchObject({
      code: "open_failed",
      message: expect.stringMatching(/open for writing by another store/),
    });
    // Killed without a chance to close anything: the operating system releases its lock.
    child.kill("SIGKILL");
    expect(await exitOf(child, CHILD_WAIT_MS)).toBe("SIGKILL");
    const store = await open({ path, nowMs: () => T0 });
    expect(await store.balance(WRITER_CHILD_ACCOUNT)).toMatchObject({
      fundedMinor: WRITER_CHILD_FUNDED_MINOR,
    });
    expect((await store.verify()).violations).toEqual([]);
  }, 60_000);

  test("concurrent calls across many batches racing for the last uses of one person's cap grant exactly the cap", async () => {
    const store = await open({ path: freshPath(), batchSizeMax: 7, batchWaitMs: 0 });
    await store.fund("campaign/big", 1_000_000, "initial", T0);
    const cap = () => boundedDebit("identity/user:u1/day/big/2025-01-16", 10, 1_000, 5);
    const calls = Array.from({ length: 200 }, (_, index) =>
      store.reserve([request(`p${index}`, [subsidy("big", 10, [cap()])])]),
    );
    const codes = (await Promise.all(calls)).flat().map((result) => {
      if (result.code !== "answered") throw new Error(JSON.stringify(result));
      return result.answer.subsidies[0]?.code;
    });
    expect(codes.filter((code) => code === "reserved")).toHaveLength(5);
    expect(codes.filter((code) => code === "identity_cap_reached")).toHaveLength(195);
    expect(await store.balance("identity/user:u1/day/big/2025-01-16")).toMatchObject({
      reservedMinor: 50,
      reservedCount: 5,
    });
    expect((await store.verify()).violations).toEqual([]);
  });

  test("reservations that expired while closed are released at reopen", async () => {
    const path = freshPath();
    const before = await open({ path });
    await before.fund("campaign/c1", 1000, "initial", T0);
    await before.reserve([
      request("short", [subsidy("c1", 100)], { ttlMs: 60_000 }),
      request("long", [subsidy("c1", 200)], { ttlMs: 3_600_000 }),
    ]);
    await before.close();

    const after = await open({ path, nowMs: () => T0 + 120_000 });
    expect(after.recovery.expiredReservations).toBe(1);
    expect((await after.balance("campaign/c1"))?.reservedMinor).toBe(200);
    const [late] = await after.settle([{ kind: "commit", paymentId: "short", atMs: T0 + 1 }]);
    expect(late).toMatchObject({ code: "reservation_expired", state: "expired" });
  });

  test("counters are rebuilt from the ledger at open, and the ledger wins over anything else", async () => {
    const path = freshPath();
    const before = await open({ path });
    await before.fund("campaign/c1", 1000, "initial", T0);
    await before.reserve([
      request("p1", [subsidy("c1", 300)]),
      request("p2", [subsidy("c1", 2000)]),
      request("p3", [subsidy("c1", 200)]),
    ]);
    await before.settle([{ kind: "commit", paymentId: "p3", atMs: T0, totalMinor: 120 }]);
    await before.close();
    // What the rows say is what the counters become: a payment row edited behind the store moves them.
    const raw = new BetterSqlite3(path);
    raw
      .prepare(
        "UPDATE payments SET entries_json = replace(entries_json, ',300,', ',310,') WHERE payment_id = 'p1'",
      )
      .run();
    raw.close();

    const after = await open({ path, nowMs: () => T0 });
    expect(after.recovery).toEqual({
      migrationsApplied: [],
      paymentsRead: 3,
      accountsRebuilt: 1,
      expiredReservations: 0,
    });
    expect(await after.balance("campaign/c1")).toMatchObject({
      fundedMinor: 1000,
      reservedMinor: 310,
      spentMinor: 120,
      reservedCount: 1,
      spentCount: 1,
    });
  });

  test("a batch that fails to commit fails its calls and those decided after it; the store rebuilds and goes on", async () => {
    const path = freshPath();
    const store = await open({ path, batchWaitMs: 20 });
    await store.fund("campaign/c1", 1000, "initial", T0);
    // A row written behind the store with an id the store has not seen: deciding it as new, the
    // store's INSERT breaks the primary key, and the transaction holding it fails.
    const raw = new BetterSqlite3(path);
    raw
      .prepare(
        "INSERT INTO payments (payment_id, content_key, answer_json, state, expires_at_ms, payment_amount_minor, refunded_minor, entries_json) VALUES ('behind', 'elsewhere', '{}', 'reserved', ?, 500, 0, ?)",
      )
      .run(
        T0 + REQUEST_TTL_MS,
        JSON.stringify([["c1", 100, 0, 0, [["campaign/c1", 100, 1, 1, 1]]]]),
      );
    raw.close();
    const sameBatch = [
      store.reserve([request("before", [subsidy("c1", 10)])]),
      store.reserve([request("behind", [subsidy("c1", 20)])]),
      store.reserve([request("after", [subsidy("c1", 30)])]),
    ];
    const outcomes = await Promise.allSettled(sameBatch);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: "rejected",
        reason: {
          code: "write_failed",
          message: expect.stringMatching(/UNIQUE constraint failed/),
        },
      });
    }
    // Rebuilt from the file (calls meanwhile are refused with `recovering`): the row written behind it counts, the failed batch does not.
    let balance = await store.balance("campaign/c1").catch(() => undefined);
    for (let attempt = 0; balance === undefined && attempt < 100; attempt += 1) {
      await new Promise((wait) => setTimeout(wait, 10));
      balance = await store.balance("campaign/c1").catch(() => undefined);
    }
    expect(balance).toMatchObject({ fundedMinor: 1000, reservedMinor: 100, reservedCount: 1 });
    const [conflict] = await store.reserve([request("behind", [subsidy("c1", 20)])]);
    expect(conflict).toEqual({ code: "idempotency_conflict", paymentId: "behind" });
    const [retried] = await store.reserve([request("after", [subsidy("c1", 30)])]);
    expect(retried).toMatchObject({ code: "answered", replayed: false });
    expect((await store.verify()).violations).toEqual([]);
  });

  test("a version 1 ledger migrates: its reservations settle, its payments refund, and it verifies", async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const v1 = new BetterSqlite3(path);
    v1.exec(MIGRATIONS[0]!.sql);
    v1.exec(`
      CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL);
      INSERT INTO schema_migrations VALUES (1, 'ledger', 0);
      INSERT INTO accounts VALUES ('campaign/c1', 1000, 300, 200, 1, 1);
      INSERT INTO accounts VALUES ('identity-day/c1/user:u1/2025-01-16', 0, 300, 200, 1, 1);
      INSERT INTO fundings (account, amount_minor, reason, at_ms) VALUES ('campaign/c1', 1000, 'initial', 0);
      INSERT INTO payments VALUES ('open', '["open","u1",50000]', '{}', 'reserved', ${T0 + REQUEST_TTL_MS});
      INSERT INTO payments VALUES ('done', 'legacy-key', '{}', 'committed', ${T0 + REQUEST_TTL_MS});
      INSERT INTO entries VALUES (1, 'open', 0, 'c1', 300, 0);
      INSERT INTO entries VALUES (2, 'done', 0, 'c1', 250, 200);
      INSERT INTO entry_debits VALUES (1, 0, 'campaign/c1', 300, 1);
      INSERT INTO entry_debits VALUES (1, 1, 'identity-day/c1/user:u1/2025-01-16', 300, 1);
      INSERT INTO entry_debits VALUES (2, 0, 'campaign/c1', 250, 1);
      INSERT INTO entry_debits VALUES (2, 1, 'identity-day/c1/user:u1/2025-01-16', 250, 1);
    `);
    v1.close();

    const store = await open({ path, nowMs: () => T0 });
    expect(store.recovery).toEqual({
      migrationsApplied: [2, 3, 4, 5],
      paymentsRead: 2,
      accountsRebuilt: 2,
      expiredReservations: 0,
    });
    expect(await store.verify()).toEqual({ budgets: 2, violations: [], ok: true });
    const [commit] = await store.settle([{ kind: "commit", paymentId: "open", atMs: T0 }]);
    expect(commit?.entries).toEqual([
      { campaignId: "c1", reservedMinor: 300, committedMinor: 300 },
    ]);
    const refunds = await store.refund([
      { paymentId: "open", refundId: "r1", amountMinor: 25_000, atMs: T0 },
      // A key that is not the service's JSON carries no amount: no refund fits it.
      { paymentId: "done", refundId: "r1", amountMinor: 1, atMs: T0 },
    ]);
    expect(refunds.map((refund) => [refund.code, refund.subsidyReversedMinor])).toEqual([
      ["refunded", 150],
      ["refund_exceeds_payment", 0],
    ]);
    // Renamed identity first, with its counters and the entries that drew on it.
    expect(await store.balance("identity/user:u1/day/c1/2025-01-16")).toMatchObject({
      reservedMinor: 0,
      spentMinor: 350,
      spentCount: 2,
    });
    expect((await store.verify()).violations).toEqual([]);
  });

  test("verify names the broken invariant when the ledger is edited behind the store", async () => {
    const path = freshPath();
    const store = await open({ path });
    await store.fund("campaign/c1", 100, "initial", T0);
    await store.reserve([request("p1", [subsidy("c1", 40)])]);
    const raw = new BetterSqlite3(path);
    raw
      .prepare(
        "UPDATE payments SET entries_json = replace(entries_json, ',40,', ',140,') WHERE payment_id = 'p1'",
      )
      .run();
    raw.close();
    const report = await store.verify();
    expect(report.ok).toBe(false);
    // The counters in memory (40 reserved) against the ledger's sums (now 140).
    expect(report.violations).toEqual([
      {
        invariant: "reserved_equals_ledger",
        budget: "campaign/c1",
        expected: "140",
        actual: "40",
      },
    ]);
  });

  test("past the queue limit a call fails at once with queue_full, and the rest are answered", async () => {
    const store = await open({ path: freshPath(), queueLengthMax: 10 });
    await store.fund("campaign/c1", 1000, "initial", T0);
    const calls = Array.from({ length: 15 }, (_, index) =>
      store.reserve([request(`p${index}`, [subsidy("c1", 1)])]),
    );
    const settled = await Promise.allSettled(calls);
    expect(settled.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(10);
    const refusals = settled.filter((outcome) => outcome.status === "rejected");
    expect(refusals).toHaveLength(5);
    const error = (refusals[0] as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(LedgerStoreError);
    expect(error.code).toBe("queue_full");
    expect(error.message).toMatch(/10 requests are waiting .* the limit is 10/);
    // Once the queue drains, calls are taken again.
    expect(await store.reserve([request("later", [subsidy("c1", 1)])])).toHaveLength(1);
  });

  describe("accountsMax", () => {
    const capAccount = (user: string) => `identity-day/c1/user:${user}/2025-01-16`;
    /** A payment on budget c1 and the person's cap: two accounts. */
    const capped = (paymentId: string, user: string, campaign = "c1") =>
      request(paymentId, [subsidy(campaign, 100, [boundedDebit(capAccount(user), 100, 1_000, 5)])]);
    const balances = (store: SqliteLedgerStore) =>
      Promise.all(
        ["campaign/c1", "campaign/c2", capAccount("u1"), capAccount("u2")].map((account) =>
          store.balance(account),
        ),
      );

    /** A store holding as many accounts as its accountsMax of 3, with payment p1 reserved. */
    async function storeAtTheLimit(path: string) {
      const store = await open({ path, accountsMax: 3, nowMs: () => T0 });
      await store.fund("campaign/c1", 1_000, "initial", T0);
      const [granted] = await store.reserve([capped("p1", "u1")]);
      await store.fund("campaign/c2", 1_000, "initial", T0);
      expect(granted).toMatchObject({ code: "answered", answer: { code: "reserved" } });
      return { store, granted: granted! };
    }

    test("a reserve that could add accounts past the limit is refused with memory_full, and nothing of it is written", async () => {
      const path = freshPath();
      const { store } = await storeAtTheLimit(path);
      const before = await balances(store);
      // Budget c2 is held already; the cap of u2 would be a fourth account.
      const refused = store.reserve([capped("p2", "u2", "c2")]);
      await expect(refused).rejects.toBeInstanceOf(LedgerStoreError);
      await expect(refused).rejects.toMatchObject({
        code: "memory_full",
        message: expect.stringMatching(/the limit is 3/),
      });
      expect(await balances(store)).toEqual(before);
      expect(await store.balance(capAccount("u2"))).toBeUndefined();
      expect(await store.verify()).toMatchObject({ ok: true, violations: [] });
      await store.close();
      // Opened again with room: the file holds p1 alone, and p2 is a new payment.
      const roomy = await open({ path, nowMs: () => T0 });
      expect(roomy.recovery).toMatchObject({ paymentsRead: 1, accountsRebuilt: 3 });
      const [fresh] = await roomy.reserve([capped("p2", "u2", "c2")]);
      expect(fresh).toMatchObject({
        code: "answered",
        replayed: false,
        answer: { code: "reserved" },
      });
    });

    test("at the limit, calls that add no account still work: a settle, a refund, a replay of a stored answer", async () => {
      const { store, granted } = await storeAtTheLimit(freshPath());
      const [committed] = await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0 }]);
      expect(committed).toMatchObject({ code: "committed", state: "committed" });
      const [refunded] = await store.refund([
        { paymentId: "p1", refundId: "r1", amountMinor: 50_000, atMs: T0 + 1 },
      ]);
      expect(refunded).toMatchObject({ code: "refunded", subsidyReversedMinor: 50 });
      expect(await store.reserve([capped("p1", "u1")])).toEqual([{ ...granted, replayed: true }]);
      expect(await store.balance("campaign/c1")).toMatchObject({
        reservedMinor: 0,
        spentMinor: 50,
      });
      expect((await store.verify()).violations).toEqual([]);
    });

    test("reserves admitted while a read holds calls back are held to the limit too", async () => {
      const store = await open({ path: freshPath(), accountsMax: 3, nowMs: () => T0 });
      await store.fund("campaign/c1", 1_000, "initial", T0);
      // balance() holds new calls back until everything before it is durable: these are admitted
      // meanwhile and decided after it. Each may add one account (its person's cap).
      const read = store.balance("campaign/c1");
      const users = ["u1", "u2", "u3", "u4"];
      const calls = users.map((user, index) => store.reserve([capped(`p${index}`, user)]));
      await read;
      const outcomes = await Promise.allSettled(calls);
      for (const outcome of outcomes) {
        if (outcome.status === "rejected")
          expect(outcome.reason).toMatchObject({ code: "memory_full" });
      }
      const capsHeld = (
        await Promise.all(users.map((user) => store.balance(capAccount(user))))
      ).filter((balance) => balance !== undefined);
      // The budget's account and at most two caps.
      expect(capsHeld.length).toBeLessThanOrEqual(2);
    });
  });

  test("a malformed request is refused before it is queued", async () => {
    const store = await open({ path: freshPath() });
    const twice = request("p1", [subsidy("c1", 10), subsidy("c1", 20)]);
    await expect(store.reserve([twice])).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/campaign c1 appears twice/),
    });
    const fractional = request("p2", [subsidy("c1", 1.5)]);
    await expect(store.reserve([fractional])).rejects.toMatchObject({ code: "invalid_request" });
  });

  test("close (even twice) answers every call in flight first, and later calls fail with closed", async () => {
    const store = await open({ path: freshPath(), batchWaitMs: 20 });
    await store.fund("campaign/c1", 1000, "initial", T0);
    const inFlight = store.reserve([request("p1", [subsidy("c1", 5)])]);
    await Promise.all([store.close(), store.close()]);
    expect((await inFlight)[0]?.code).toBe("answered");
    await expect(store.balance("campaign/c1")).rejects.toMatchObject({ code: "closed" });
  });

  test("a heavy mixed load keeps every invariant", async () => {
    const store = await open({ path: freshPath(), batchSizeMax: 200 });
    const campaigns = ["a", "b", "c", "d"];
    for (const campaign of campaigns)
      await store.fund(`campaign/${campaign}`, 20_000, "initial", T0);
    const work: Promise<unknown>[] = [];
    for (let index = 0; index < 3000; index += 1) {
      const campaign = campaigns[index % campaigns.length]!;
      const user = `user:u${index % 37}`;
      const planned = subsidy(campaign, 1 + (index % 50), [
        boundedDebit(`identity-day/${campaign}/${user}/2025-01-16`, 1 + (index % 50), 400, 6),
        boundedDebit(`platform-user-day/${user}/2025-01-16`, 1 + (index % 50), 900, null),
      ]);
      work.push(store.reserve([request(`p${index}`, [planned], { ttlMs: 1000 * (index % 7) })]));
      if (index % 3 === 0) {
        work.push(
          store.settle([
            { kind: "commit", paymentId: `p${index - 3}`, atMs: T0 + 500, totalMinor: index % 20 },
          ]),
        );
      }
      if (index % 5 === 0)
        work.push(store.settle([{ kind: "release", paymentId: `p${index - 10}`, atMs: T0 }]));
      if (index % 200 === 0) work.push(store.expireDue(T0 + 2000, 50));
      if (index % 500 === 0) work.push(store.fund(`campaign/${campaign}`, 100, "top-up", T0));
    }
    await Promise.all(work);
    const report = await store.verify();
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    for (const campaign of campaigns) {
      const balance = await store.balance(`campaign/${campaign}`);
      expect(balance!.reservedMinor + balance!.spentMinor).toBeLessThanOrEqual(
        balance!.fundedMinor,
      );
    }
  });
});
