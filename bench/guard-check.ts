/**
 * guard.check.*: guard mode's in-process check (issue 9, target ≥ 500,000 checks/s): one
 * `GuardCheckService.check` per request — the hand-written request check, the envelope, the
 * kills (two active), registrations, clamping, and the runtime guard recording what was allowed.
 * Requests are built once from seeded synthetic payments, each with 1–4 proposals of external
 * campaigns drawn from a fixed list (some registered, one killed, some government without a
 * program), so the mix of allowed, clamped and refused answers is the same on every run.
 */
import type { Payment } from "../src/core/model/payment.ts";
import { GuardCheckService } from "../src/guard/guard-check.ts";
import { RuntimeGuard } from "../src/guard/runtime-guard.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { coffeeSnapshot } from "../test/support/snapshots.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";

const SEED = 20250116;
const REQUESTS = 200_000;
const CAMPAIGNS = 16;
export const PROPOSALS_MAX = 4;

interface Fixture {
  readonly service: GuardCheckService;
  readonly requests: readonly unknown[];
  readonly shares: string;
}

/** A small seeded PRNG (mulberry32): the fixture is the same on every machine. */
export function randomOf(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function paymentsFor(count: number): Payment[] {
  const created = TrafficGenerator.create({
    seed: SEED,
    tps: 10_000,
    seconds: Math.ceil(count / 10_000),
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return [...created.generator].slice(0, count);
}

/** One external engine's proposal: bench/http.ts sends the same mix over HTTP. */
export function proposalOf(random: () => number, index: number) {
  const campaign = Math.floor(random() * CAMPAIGNS);
  // Every eighth campaign claims government money without a program: refused, as on 2025-01-16.
  const government = campaign % 8 === 7;
  return {
    proposalId: `p${index}`,
    campaignRef: `engine-${campaign}`,
    amountMinor: 1 + Math.floor(random() * 3_000),
    funding: government ? "government" : campaign % 2 === 0 ? "platform" : "merchant",
    label: government
      ? "government_subsidy"
      : campaign % 2 === 0
        ? "instant_discount"
        : "merchant_offer",
  };
}

function fixtureFor(count: number): Fixture {
  const random = randomOf(SEED);
  const requests = paymentsFor(count).map((payment) => ({
    payment,
    proposals: Array.from({ length: 1 + Math.floor(random() * PROPOSALS_MAX) }, (_, index) =>
      proposalOf(random, index),
    ),
  }));
  const snapshot = coffeeSnapshot(1_000_000);
  // A kill state that is always current: the benchmark measures the check, not the watcher.
  const kills = {
    state: {
      sequence: 2,
      active: [
        {
          sequence: 1,
          scope: { kind: "campaigns" as const, campaignIds: ["ext:engine-3"] },
          reason: "bench",
          actor: "bench",
          atMs: 0,
        },
        {
          sequence: 2,
          scope: { kind: "funding" as const, funding: "bank" as const },
          reason: "bench",
          actor: "bench",
          atMs: 0,
        },
      ],
    },
    confirmedAtMs: Number.MAX_SAFE_INTEGER,
    allowedStalenessMs: 1_000,
  };
  const service = new GuardCheckService({
    served: () => snapshot,
    kills,
    guard: new RuntimeGuard(),
    nowMs: Date.now,
    whenUnhealthy: "refuse",
    externalCampaigns: [0, 2, 4].map((campaign) => ({
      campaignRef: `engine-${campaign}`,
      funding: "platform" as const,
      label: "instant_discount" as const,
      scope: {
        scenarios: ["merchant_qr" as const, "online_checkout" as const],
        regions: ["CN-SH" as const, "CN-BJ" as const],
      },
      perPaymentMaxMinor: 1_500,
    })),
  });
  return { service, requests, shares: describe(service, requests.slice(0, 20_000)) };
}

/** The mix of answers over a sample: what the figure was measured on. */
function describe(service: GuardCheckService, requests: readonly unknown[]): string {
  const outcomes = { allowed: 0, clamped: 0, refused: 0 };
  let proposals = 0;
  for (const request of requests) {
    for (const answer of service.check(request).answers) {
      outcomes[answer.outcome] += 1;
      proposals += 1;
    }
  }
  const share = (count: number) => `${((count / proposals) * 100).toFixed(1)} %`;
  return `${(proposals / requests.length).toFixed(2)} proposals per payment; allowed ${share(outcomes.allowed)}, clamped ${share(outcomes.clamped)}, refused ${share(outcomes.refused)}`;
}

export const guardCheckBenchmark: Benchmark = {
  name: "guard.check",
  figures: [{ bench: "guard.check.ops_per_s", unit: "ops/s" }],
  fixture: (scale) =>
    `${scaled(REQUESTS, scale)} checks of synthetic payments (seed ${SEED}, 10,000 tps from 2025-01-16T14:40:00+08:00), each with 1–${PROPOSALS_MAX} proposals of ${CAMPAIGNS} external campaigns (seeded), 3 registered, 1 killed by campaign, government ones without a program; the coffee snapshot's envelope; recorded by a RuntimeGuard; median of 3 passes after a warm-up pass`,
  async run(context) {
    const fixture = fixtureFor(scaled(REQUESTS, context.scale));
    context.progress(`guard.check: ${fixture.shares}`);
    const throughput = await measureThroughput({
      count: fixture.requests.length,
      warmUpCount: fixture.requests.length,
      setUp: () => fixture.requests,
      pass: (requests, count) => {
        let checksum = 0;
        for (let index = 0; index < count; index += 1) {
          checksum += fixture.service.check(requests[index]).allowedTotalMinor;
        }
        return checksum;
      },
    });
    return [
      { bench: "guard.check.ops_per_s", value: Math.round(throughput.opsPerSecond), unit: "ops/s" },
    ];
  },
};
