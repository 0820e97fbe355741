/**
 * apply.sqlite.*: the ledger's write path (DESIGN §6) — `LedgerService.apply` (quote, plan every
 * limit, one atomic reserve, durable before it answers) against the embedded SQLite store with
 * its production durability (WAL, synchronous=FULL, group commit in a worker thread).
 *
 * - Saturated throughput: a window of calls in flight, refilled as each answers, so the store
 *   always has a batch waiting; median of 3 passes after a warm-up pass, all on one database.
 * - Acknowledgement latency at an offered open-loop load: arrivals on a fixed timetable that
 *   does not wait for answers, each timed from its scheduled time, so a store that falls behind
 *   shows it as latency instead of hiding it by slowing the arrivals (coordinated omission).
 * - The baseline: the very ledger rows the store wrote for one pass (payment rows with entries),
 *   inserted with better-sqlite3 directly, same batch size, same durability, in the same run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createFastEvaluator } from "../src/core/evaluator/fast-evaluator.ts";
import type { Snapshot } from "../src/core/evaluator/snapshot.ts";
import { planReservation } from "../src/core/ledger/plan-reservation.ts";
import type { Payment } from "../src/core/model/payment.ts";
import { LedgerService, RESERVATION_TTL_MS_DEFAULT } from "../src/ledger/ledger-service.ts";
import { SqliteLedgerStore } from "../src/stores/sqlite/sqlite-ledger-store.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { TRAFFIC_START_MS_DEFAULT } from "../src/traffic/traffic-options.ts";
import { type ApplyCampaignFixture, applyCampaignFixture } from "./apply-campaign-fixture.ts";
import { applyOpenLoop, applySaturated } from "./apply-drivers.ts";
import { ApplyOutcomes } from "./apply-outcomes.ts";
import { applyRawInsertOpsPerSecond, readPassRows } from "./apply-raw-insert.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";
import { OwnCpu } from "./process-cpu.ts";

const SEED = 20250116;
const CAMPAIGNS = 1_000;
/** The store's default: requests decided per transaction, one fsync each. */
const BATCH_SIZE = 1_000;
/** The store's default wait for company when a call finds the worker idle. */
const BATCH_WAIT_MS = 1;
/** Calls in flight in the saturated passes: a batch committing, one filling, and slack. */
const IN_FLIGHT = 4_000;
const PAYMENTS_PER_PASS = 20_000;
const WARM_UP_PAYMENTS = 10_000;
const OFFERED_PER_S = 40_000;
/**
 * Two seconds of arrivals (80,000): at the rate the store sustains today (a few thousand per
 * second) a longer timetable would leave a backlog that takes minutes to drain and overflows the
 * store's queue, whose instant `queue_full` refusals would then pass for fast answers.
 */
const OPEN_LOOP_MS = 2_000;
/** Payments the fixture's description plans (untimed, no store). */
const DESCRIBED_PAYMENTS = 10_000;
/** Payment times: 10,000 tps from 2025-01-16T14:40:00+08:00, as the quote benchmarks. */
const TRAFFIC_TPS = 10_000;

export interface ApplyWorkload {
  readonly campaigns: number;
  readonly paymentsPerPass: number;
  readonly warmUpPayments: number;
  readonly openLoopMs: number;
}

export function applyWorkload(scale: number): ApplyWorkload {
  return {
    // A tiny scale also shrinks the fixture: activation funds every campaign, one fsync each.
    campaigns: scaled(CAMPAIGNS, scale, 50),
    paymentsPerPass: scaled(PAYMENTS_PER_PASS, scale),
    warmUpPayments: scaled(WARM_UP_PAYMENTS, scale),
    openLoopMs: scaled(OPEN_LOOP_MS, scale, 25),
  };
}

export const applySqliteBenchmark: Benchmark = {
  name: "apply.sqlite",
  figures: [
    { bench: "apply.sqlite.ops_per_s", unit: "ops/s" },
    { bench: "apply.sqlite.p99_ms", unit: "ms" },
    { bench: "apply.sqlite.raw_insert.ops_per_s", unit: "ops/s" },
    { bench: "apply.sqlite.vs_raw_insert.ratio", unit: "ratio" },
  ],
  fixture: (scale) => {
    const workload = applyWorkload(scale);
    return `${workload.campaigns} campaigns from bench/apply-campaign-fixture.ts (seed ${SEED}; daily budgets, per-user caps by day and for half by campaign, the envelope's per-user daily ceiling, a program with a per-user maximum; ${describeWork(workload.campaigns)}); synthetic payments (seed ${SEED}, ${TRAFFIC_TPS} tps from 2025-01-16T14:40:00+08:00); SQLite in a fresh temp directory, WAL, synchronous=FULL, batch ${BATCH_SIZE}, wait ${BATCH_WAIT_MS} ms; ${IN_FLIGHT} calls in flight, ${workload.paymentsPerPass} payments per pass, median of 3 passes after ${workload.warmUpPayments}; p99 over an open loop of ${OFFERED_PER_S} apply/s for ${workload.openLoopMs} ms; raw insert of one pass's rows`;
  },
  async run(context) {
    const workload = applyWorkload(context.scale);
    const { snapshot, perCampaignCapped } = fixtureOf(workload.campaigns);
    context.progress(
      `${snapshot.campaigns.length} campaigns, ${perCampaignCapped} also capped per user per campaign`,
    );
    const directory = mkdtempSync(join(tmpdir(), "bursar-bench-apply-"));
    try {
      return await measureAll(context, workload, snapshot, directory);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
};

async function measureAll(
  context: Parameters<Benchmark["run"]>[0],
  workload: ApplyWorkload,
  snapshot: Snapshot,
  directory: string,
) {
  const path = join(directory, "ledger.sqlite");
  const store = await SqliteLedgerStore.open({
    path,
    batchSizeMax: BATCH_SIZE,
    batchWaitMs: BATCH_WAIT_MS,
    nowMs: () => TRAFFIC_START_MS_DEFAULT,
  });
  let closed = false;
  try {
    // No deadline: a saturated store queues by design here, and the benchmark measures how long
    // it takes rather than how often a caller would have given up.
    const service = new LedgerService({
      store,
      nowMs: () => TRAFFIC_START_MS_DEFAULT,
      storeDeadlineMs: null,
    });
    const activateStartMs = performance.now();
    const fundings = await service.activate(snapshot);
    context.progress(
      `activated: ${fundings.length} budgets funded in ${Math.round(performance.now() - activateStartMs)} ms`,
    );
    const openLoopArrivals = Math.floor((OFFERED_PER_S * workload.openLoopMs) / 1000);
    const take = paymentSource(
      workload.warmUpPayments + 3 * workload.paymentsPerPass + openLoopArrivals,
    );
    const saturated = new ApplyOutcomes();
    // The timed passes' CPU: whether the figure is bound by this thread, the writer or the cores.
    const cpu = new OwnCpu();
    let timedApplies = 0;
    let firstPass: readonly Payment[] | undefined;
    let passIndex = 0;
    const throughput = await measureThroughput({
      count: workload.paymentsPerPass,
      warmUpCount: workload.warmUpPayments,
      setUp: (count) => take(count),
      pass: async (stream) => {
        // Pass 0 is the warm-up; the first timed pass's rows become the baseline's rows.
        if (passIndex === 1) firstPass = stream;
        const timed = passIndex > 0;
        passIndex += 1;
        const run = () => applySaturated(service, stream, IN_FLIGHT);
        const outcomes = timed ? await cpu.measure(run) : await run();
        if (timed) timedApplies += stream.length;
        saturated.add(outcomes);
        return outcomes.reservedMinor;
      },
    });
    context.progress(
      `saturated: ${throughput.passesOpsPerSecond.map((rate) => Math.round(rate)).join(", ")} apply/s per pass; ${saturated.describe()}`,
    );
    context.progress(
      `saturated, timed passes: ${await cpu.describe(timedApplies, "apply", availableParallelism())}`,
    );

    const open = await applyOpenLoop(service, take(openLoopArrivals), {
      offeredPerS: OFFERED_PER_S,
      durationMs: workload.openLoopMs,
    });
    context.progress(
      `open loop at ${OFFERED_PER_S}/s: ${open.outcomes.describe()}; latency p50 ${open.p50Ms.toFixed(2)} ms, p99 ${open.p99Ms.toFixed(2)} ms, max ${open.maxMs.toFixed(2)} ms; last arrival issued ${Math.round(open.lastIssuedMs)} ms and last answer ${Math.round(open.lastAnswerMs)} ms after the first arrival`,
    );

    await store.close();
    closed = true;
    // The first timed pass's rows, exactly as the store wrote them.
    if (firstPass === undefined) throw new Error("no timed pass ran");
    const rows = readPassRows(
      path,
      firstPass[0]!.paymentId,
      firstPass[firstPass.length - 1]!.paymentId,
    );
    context.progress(`raw insert: ${rows.describe()}`);
    const raw = await applyRawInsertOpsPerSecond(rows, directory, BATCH_SIZE);
    context.progress(
      `raw insert: ${raw.passesOpsPerSecond.map((rate) => Math.round(rate)).join(", ")} payments/s per pass`,
    );
    return [
      {
        bench: "apply.sqlite.ops_per_s",
        value: Math.round(throughput.opsPerSecond),
        unit: "ops/s",
      },
      { bench: "apply.sqlite.p99_ms", value: Math.round(open.p99Ms * 100) / 100, unit: "ms" },
      {
        bench: "apply.sqlite.raw_insert.ops_per_s",
        value: Math.round(raw.opsPerSecond),
        unit: "ops/s",
      },
      {
        bench: "apply.sqlite.vs_raw_insert.ratio",
        value: Math.round((throughput.opsPerSecond / raw.opsPerSecond) * 1000) / 1000,
        unit: "ratio",
      },
    ] as const;
  } finally {
    if (!closed) await store.close();
  }
}

/** Payments pulled from one seeded stream as they are needed: every pass gets fresh ids. */
function paymentSource(count: number): (take: number) => Payment[] {
  const created = TrafficGenerator.create({
    seed: SEED,
    tps: TRAFFIC_TPS,
    seconds: Math.ceil(count / TRAFFIC_TPS),
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  const iterator = created.generator[Symbol.iterator]();
  return (take) => {
    const payments: Payment[] = [];
    while (payments.length < take) {
      const next = iterator.next();
      if (next.done === true) throw new Error(`the payment stream ended after ${count}`);
      payments.push(next.value);
    }
    return payments;
  };
}

const fixtures = new Map<number, ApplyCampaignFixture>();
const descriptions = new Map<number, string>();

/** Built once per size: the table asks for the fixture's description before the run needs it. */
function fixtureOf(campaigns: number): ApplyCampaignFixture {
  let fixture = fixtures.get(campaigns);
  if (fixture === undefined) {
    fixture = applyCampaignFixture(campaigns, SEED);
    fixtures.set(campaigns, fixture);
  }
  return fixture;
}

/**
 * What the ledger is asked to do, over the stream's first payments (those of the warm-up): the
 * share subsidised, subsidies per subsidised payment, and limits (debits) checked per subsidy and
 * per reservation. Pure planning, no store.
 */
function describeWork(campaigns: number): string {
  const known = descriptions.get(campaigns);
  if (known !== undefined) return known;
  const { snapshot } = fixtureOf(campaigns);
  const payments = paymentSource(DESCRIBED_PAYMENTS)(DESCRIBED_PAYMENTS);
  const evaluator = createFastEvaluator(snapshot);
  const campaignsById = new Map(
    snapshot.campaigns.map((effective) => [effective.campaign.id, effective]),
  );
  let reservations = 0;
  let subsidies = 0;
  let debits = 0;
  for (const payment of payments) {
    const decision = evaluator.quote(payment);
    const request = planReservation(snapshot, campaignsById, payment, decision, {
      reservationTtlMs: RESERVATION_TTL_MS_DEFAULT,
    });
    if (request.subsidies.length > 0) reservations += 1;
    subsidies += request.subsidies.length;
    for (const subsidy of request.subsidies) debits += subsidy.debits.length;
  }
  const description = `over the first ${DESCRIBED_PAYMENTS} payments: ${((reservations / payments.length) * 100).toFixed(1)} % subsidised, ${(subsidies / Math.max(1, reservations)).toFixed(2)} subsidies and ${(debits / Math.max(1, reservations)).toFixed(1)} limits checked per reservation, ${(debits / Math.max(1, subsidies)).toFixed(2)} per subsidy`;
  descriptions.set(campaigns, description);
  return description;
}
