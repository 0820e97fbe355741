/**
 * traffic.ndjson_write: serialising generated payments to NDJSON through the writer (chunks,
 * backpressure) into a sink that discards them. With traffic.generate it bounds
 * `bursar traffic generate`.
 */
import { Writable } from "node:stream";
import type { Payment } from "../src/core/model/payment.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { writePaymentsNdjson } from "../src/traffic/write-payments-ndjson.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";

const SEED = 20250116;
const PAYMENTS = 500_000;

function paymentsFor(count: number): Payment[] {
  const created = TrafficGenerator.create({ seed: SEED, tps: count, seconds: 1 });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return [...created.generator];
}

/** A sink that counts bytes and throws them away. */
function discardingSink(): Writable & { bytes: number } {
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      sink.bytes += chunk.length;
      callback();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

export const trafficNdjsonWriteBenchmark: Benchmark = {
  name: "traffic.ndjson_write",
  figures: [{ bench: "traffic.ndjson_write.ops_per_s", unit: "ops/s" }],
  fixture: (scale) =>
    `${scaled(PAYMENTS, scale)} generated payments (seed ${SEED}, pre-generated untimed) written as NDJSON into a discarding stream; median of 3 passes after a warm-up`,
  async run(context) {
    const count = scaled(PAYMENTS, context.scale);
    const payments = paymentsFor(count);
    const throughput = await measureThroughput({
      count,
      warmUpCount: Math.ceil(count / 4),
      setUp: (passCount) => ({ payments: payments.slice(0, passCount), sink: discardingSink() }),
      pass: async ({ payments: batch, sink }) => {
        const result = await writePaymentsNdjson(batch, sink, { end: true });
        if (!result.ok) throw result.error;
        return sink.bytes;
      },
    });
    return [
      {
        bench: "traffic.ndjson_write.ops_per_s",
        value: Math.round(throughput.opsPerSecond),
        unit: "ops/s",
      },
    ];
  },
};
