/**
 * traffic.generate: how fast the seeded generator produces payments (objects in memory, not
 * serialised). The replay and simulations draw millions of payments, so this bounds them.
 */
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";

const SEED = 20250116;
const TPS = 10_000;
const PAYMENTS = 2_000_000;

function generatorFor(count: number): TrafficGenerator {
  const created = TrafficGenerator.create({
    seed: SEED,
    tps: TPS,
    seconds: Math.ceil(count / TPS),
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return created.generator;
}

export const trafficGenerateBenchmark: Benchmark = {
  name: "traffic.generate",
  figures: [{ bench: "traffic.generate.ops_per_s", unit: "ops/s" }],
  fixture: (scale) =>
    `${scaled(PAYMENTS, scale)} payments, seed ${SEED}, ${TPS} tps from 2025-01-16T14:40:00+08:00, default population (1,000,000 users, 200,000 merchants built untimed); median of 3 passes after a warm-up`,
  async run(context) {
    const count = scaled(PAYMENTS, context.scale);
    const throughput = await measureThroughput({
      count,
      warmUpCount: Math.ceil(count / 4),
      setUp: generatorFor,
      pass: (generator, passCount) => {
        let checksum = 0;
        for (let index = 0; index < passCount; index += 1)
          checksum += generator.nextPayment()!.amountMinor;
        return checksum;
      },
    });
    return [
      {
        bench: "traffic.generate.ops_per_s",
        value: Math.round(throughput.opsPerSecond),
        unit: "ops/s",
      },
    ];
  },
};
