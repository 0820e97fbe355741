/**
 * traffic.ndjson_read: reading recorded payments, i.e. splitting NDJSON into lines, JSON.parse
 * and validation against the payment schema, from an in-memory buffer (no disk in the figure).
 */
import { readPaymentsNdjson } from "../src/traffic/read-payments-ndjson.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { type Benchmark, measureThroughput, scaled } from "./benchmark.ts";

const SEED = 20250116;
const LINES = 200_000;
/** The size of a file stream's chunks, so the reader sees what it sees from a file. */
const CHUNK_BYTES = 65_536;

function ndjsonChunks(lines: number): Buffer[] {
  const created = TrafficGenerator.create({ seed: SEED, tps: lines, seconds: 1 });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  const parts: string[] = [];
  for (const payment of created.generator) parts.push(JSON.stringify(payment));
  const buffer = Buffer.from(`${parts.join("\n")}\n`, "utf8");
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += CHUNK_BYTES) {
    chunks.push(buffer.subarray(offset, offset + CHUNK_BYTES));
  }
  return chunks;
}

export const trafficNdjsonReadBenchmark: Benchmark = {
  name: "traffic.ndjson_read",
  figures: [{ bench: "traffic.ndjson_read.ops_per_s", unit: "ops/s" }],
  fixture: (scale) =>
    `${scaled(LINES, scale)} valid generated payment lines (seed ${SEED}), parsed and validated from memory in ${CHUNK_BYTES}-byte chunks; median of 3 passes after a warm-up pass`,
  async run(context) {
    const count = scaled(LINES, context.scale);
    const chunks = ndjsonChunks(count);
    const throughput = await measureThroughput({
      count,
      // The warm-up reads the whole buffer once, so it exercises exactly the timed path.
      warmUpCount: count,
      setUp: () => chunks,
      pass: async (input) => {
        let valid = 0;
        for await (const line of readPaymentsNdjson(input)) if (line.ok) valid += 1;
        // Every line is valid: anything else would mean the figure measured the error path.
        if (valid !== count) throw new Error(`only ${valid} of ${count} lines were valid`);
        return valid;
      },
    });
    return [
      {
        bench: "traffic.ndjson_read.ops_per_s",
        value: Math.round(throughput.opsPerSecond),
        unit: "ops/s",
      },
    ];
  },
};
