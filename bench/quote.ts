/**
 * quote.*: the evaluator's hot path (DESIGN §6). Throughput over a fixed stream of seeded
 * payments against seeded campaign fixtures of 1,000 and 10,000 campaigns; p99 latency from
 * individually timed calls after a warm-up; the index alone as the baseline the whole quote is
 * compared with; and json-rules-engine on the same rules over a small sample, in the same run.
 */
import type { Engine } from "json-rules-engine";
import { createFastEvaluator, type FastEvaluator } from "../src/core/evaluator/fast-evaluator.ts";
import { FastIndex } from "../src/core/evaluator/fast-index.ts";
import { CheckedPayment, fastPaymentCheck } from "../src/core/evaluator/fast-payment-check.ts";
import type { Payment } from "../src/core/model/payment.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";
import { campaignFixture } from "./campaign-fixture.ts";
import { factsFor, jsonRulesEngineFor } from "./json-rules-engine-baseline.ts";

const SEED = 20250116;
const PAYMENTS = 200_000;
const LATENCY_CALLS = 200_000;
const JSON_RULES_ENGINE_SAMPLE = 40;

function paymentsFor(count: number): Payment[] {
  const created = TrafficGenerator.create({
    seed: SEED,
    tps: 10_000,
    seconds: Math.ceil(count / 10_000),
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return [...created.generator].slice(0, count);
}

/** What the fixture looks like to the evaluator: candidates per payment and share subsidised. */
function describeFixture(evaluator: FastEvaluator, payments: readonly Payment[]): string {
  const candidates: number[] = [];
  let subsidised = 0;
  for (const payment of payments) {
    const decision = evaluator.quote(payment);
    candidates.push(decision.rejected.length + decision.subsidies.length);
    if (decision.subsidies.length > 0) subsidised += 1;
  }
  candidates.sort((left, right) => left - right);
  const median = candidates[Math.floor(candidates.length / 2)];
  const p90 = candidates[Math.floor(candidates.length * 0.9)];
  return `median ${median} index candidates per payment (p90 ${p90}), ${((subsidised / payments.length) * 100).toFixed(1)} % of payments subsidised`;
}

function quoteThroughput(evaluator: FastEvaluator, payments: readonly Payment[]) {
  return measureThroughput({
    count: payments.length,
    warmUpCount: payments.length,
    setUp: () => payments,
    pass: (stream, count) => {
      let checksum = 0;
      for (let index = 0; index < count; index += 1)
        checksum += evaluator.quote(stream[index]!).totalSubsidyMinor;
      return checksum;
    },
  });
}

function p99Microseconds(
  evaluator: FastEvaluator,
  payments: readonly Payment[],
  calls: number,
): number {
  const durationsNs = new Float64Array(calls);
  let checksum = 0;
  for (let call = 0; call < calls; call += 1) {
    const payment = payments[call % payments.length]!;
    const startNs = process.hrtime.bigint();
    checksum += evaluator.quote(payment).totalSubsidyMinor;
    durationsNs[call] = Number(process.hrtime.bigint() - startNs);
  }
  if (checksum < 0) throw new Error("unreachable: keeps the calls from being optimised away");
  durationsNs.sort();
  return durationsNs[Math.floor(calls * 0.99)]! / 1000;
}

/** The index alone: payment check and scope matching, no offers, stacking or envelope. */
function bareMatchThroughput(index: FastIndex, payments: readonly Payment[]) {
  const checked = new CheckedPayment();
  const candidates = new Int32Array(index.campaignCount);
  return measureThroughput({
    count: payments.length,
    warmUpCount: payments.length,
    setUp: () => payments,
    pass: (stream, count) => {
      let checksum = 0;
      for (let position = 0; position < count; position += 1) {
        if (fastPaymentCheck(stream[position]!, checked))
          checksum += index.collect(checked, candidates);
      }
      return checksum;
    },
  });
}

async function jsonRulesEngineOpsPerSecond(
  engine: Engine,
  payments: readonly Payment[],
): Promise<number> {
  const facts = payments.map(factsFor);
  for (const warmUp of facts.slice(0, 5)) await engine.run(warmUp);
  const startNs = process.hrtime.bigint();
  let matched = 0;
  for (const paymentFacts of facts) matched += (await engine.run(paymentFacts)).events.length;
  const elapsedS = Number(process.hrtime.bigint() - startNs) / 1e9;
  if (matched < 0) throw new Error("unreachable");
  return facts.length / elapsedS;
}

export const quoteBenchmark: Benchmark = {
  name: "quote",
  figures: [
    { bench: "quote.1k.ops_per_s", unit: "ops/s" },
    { bench: "quote.1k.p99_us", unit: "us" },
    { bench: "quote.10k.ops_per_s", unit: "ops/s" },
    { bench: "quote.bare_match.1k.ops_per_s", unit: "ops/s" },
    { bench: "quote.vs_bare_match.ratio", unit: "ratio" },
    { bench: "quote.vs_json_rules_engine.ratio", unit: "ratio" },
  ],
  fixture: (scale) =>
    `campaign fixtures of 1,000 and 10,000 campaigns (bench/campaign-fixture.ts, seed ${SEED}); ${scaled(PAYMENTS, scale)} synthetic payments (seed ${SEED}, 10,000 tps from 2025-01-16T14:40:00+08:00), median of 3 passes after a warm-up pass; p99 over ${scaled(LATENCY_CALLS, scale)} individually timed quotes; json-rules-engine over the first ${JSON_RULES_ENGINE_SAMPLE} payments`,
  async run(context) {
    const payments = paymentsFor(scaled(PAYMENTS, context.scale));
    context.progress("building the 1,000-campaign fixture");
    const small = campaignFixture(1_000, SEED);
    const smallEvaluator = createFastEvaluator(small.snapshot);
    context.progress(`1,000 campaigns: ${describeFixture(smallEvaluator, payments)}`);
    const quote1k = await quoteThroughput(smallEvaluator, payments);
    const p99 = p99Microseconds(smallEvaluator, payments, scaled(LATENCY_CALLS, context.scale));
    const bare1k = await bareMatchThroughput(new FastIndex(small.snapshot.campaigns), payments);

    context.progress("building the 10,000-campaign fixture");
    const large = campaignFixture(10_000, SEED);
    const largeEvaluator = createFastEvaluator(large.snapshot);
    context.progress(`10,000 campaigns: ${describeFixture(largeEvaluator, payments)}`);
    const quote10k = await quoteThroughput(largeEvaluator, payments);

    context.progress(
      `json-rules-engine: ${small.snapshot.campaigns.length} rules, ${JSON_RULES_ENGINE_SAMPLE} payments`,
    );
    const engine = jsonRulesEngineFor(small.snapshot);
    const jsonRulesEngine = await jsonRulesEngineOpsPerSecond(
      engine,
      payments.slice(0, JSON_RULES_ENGINE_SAMPLE),
    );
    context.progress(`json-rules-engine: ${jsonRulesEngine.toFixed(1)} payments/s`);

    return [
      { bench: "quote.1k.ops_per_s", value: Math.round(quote1k.opsPerSecond), unit: "ops/s" },
      { bench: "quote.1k.p99_us", value: Math.round(p99 * 100) / 100, unit: "us" },
      { bench: "quote.10k.ops_per_s", value: Math.round(quote10k.opsPerSecond), unit: "ops/s" },
      {
        bench: "quote.bare_match.1k.ops_per_s",
        value: Math.round(bare1k.opsPerSecond),
        unit: "ops/s",
      },
      {
        bench: "quote.vs_bare_match.ratio",
        value: Math.round((quote1k.opsPerSecond / bare1k.opsPerSecond) * 1000) / 1000,
        unit: "ratio",
      },
      {
        bench: "quote.vs_json_rules_engine.ratio",
        value: Math.round(quote1k.opsPerSecond / jsonRulesEngine),
        unit: "ratio",
      },
    ];
  },
};
