/**
 * simulate.1m: a change simulated over 1,000,000 recorded payments (DESIGN §6: ≤ 3 s), in one
 * process. Untimed: the payments are generated and written to an NDJSON file in a temporary
 * directory, and the proposed snapshot is the 1,000-campaign fixture with one template's offer
 * changed, which fans out to every campaign using it. Timed: reading the file, evaluating every
 * payment under both snapshots and building the report, as `bursar simulate --payments` does.
 */
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulatePaymentFiles } from "../src/control/simulate-payment-files.ts";
import { buildSnapshot, type Snapshot } from "../src/core/evaluator/snapshot.ts";
import { resolveConfig } from "../src/core/model/config-set.ts";
import type { ConfigDocument } from "../src/core/model/document.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { writePaymentsNdjson } from "../src/traffic/write-payments-ndjson.ts";
import { type Benchmark, scaled } from "./benchmark.ts";
import { campaignFixture } from "./campaign-fixture.ts";

const SEED = 20250116;
const PAYMENTS = 1_000_000;
const CAMPAIGNS = 1_000;
const TPS = 10_000;
const PASSES = 3;
/** The edited template and its new offer: fixed 0.50 yuan off becomes 10 % off, capped at 3 yuan. */
const EDITED_TEMPLATE = "fixed-off";
const EDITED_OFFER = { kind: "percent", rateBps: 1_000, capMinor: 300 } as const;

/** The fixture with EDITED_TEMPLATE's offer replaced: a template edit fanning out. */
export function proposedSnapshot(documents: readonly ConfigDocument[], seed: number): Snapshot {
  const edited = documents.map((document) =>
    document.kind === "template" && document.id === EDITED_TEMPLATE
      ? ({ ...document, offer: EDITED_OFFER } as ConfigDocument)
      : document,
  );
  const { config, issues } = resolveConfig(
    edited.map((document, index) => ({ source: `fixture-${index}`, document })),
  );
  if (issues.length > 0)
    throw new Error(`edited fixture does not resolve: ${JSON.stringify(issues[0])}`);
  const built = buildSnapshot(config, { version: 2, randomSeed: seed });
  if (!built.ok) throw new Error(built.message);
  return built.snapshot;
}

/** Writes about `count` payments (tps × seconds); returns how many. */
async function writePayments(path: string, count: number): Promise<number> {
  const tps = Math.min(TPS, count);
  const created = TrafficGenerator.create({ seed: SEED, tps, seconds: Math.ceil(count / tps) });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  const written = await writePaymentsNdjson(created.generator, createWriteStream(path), {
    end: true,
  });
  if (!written.ok) throw written.error;
  return written.lines;
}

export const simulateBenchmark: Benchmark = {
  name: "simulate.1m",
  figures: [{ bench: "simulate.1m.seconds", unit: "s" }],
  fixture: (scale) =>
    `${scaled(PAYMENTS, scale)} generated payments (seed ${SEED}, ${TPS} tps from 2025-01-16T14:40:00+08:00) written untimed to an NDJSON file in a temp dir; current: the ${CAMPAIGNS}-campaign fixture (seed ${SEED}); proposed: the same with template ${EDITED_TEMPLATE} changed from fixed 50 to ${EDITED_OFFER.rateBps} bps capped at ${EDITED_OFFER.capMinor} (fanning out to its campaigns); timed: read the file, evaluate every payment under both snapshots, build the report, in one process (worker threads, one per core, at most 4); median of ${PASSES} passes`,
  async run(context) {
    const wanted = scaled(PAYMENTS, context.scale);
    const directory = mkdtempSync(join(tmpdir(), "bursar-simulate-bench-"));
    try {
      const path = join(directory, "payments.ndjson");
      const count = await writePayments(path, wanted);
      const fixture = campaignFixture(CAMPAIGNS, SEED);
      const proposed = proposedSnapshot(fixture.documents, SEED);
      const seconds: number[] = [];
      for (let pass = 0; pass < PASSES; pass += 1) {
        const startNs = process.hrtime.bigint();
        const result = await simulatePaymentFiles({
          current: fixture.snapshot,
          proposed,
          paths: [path],
          options: { currency: "CNY" },
        });
        const elapsedS = Number(process.hrtime.bigint() - startNs) / 1e9;
        seconds.push(elapsedS);
        const { report } = result;
        // Every line valid and read: anything else would time the error path.
        if (report.payments !== count)
          throw new Error(`${report.payments} of ${count} payments were evaluated`);
        context.progress(
          `simulate pass ${pass + 1}: ${elapsedS.toFixed(2)} s on ${result.threads} threads; subsidy per hour ${report.current.subsidyPerHourMinor} -> ${report.proposed.subsidyPerHourMinor} minor, flags ${report.flags.map((flag) => flag.code).join(", ") || "none"}`,
        );
      }
      seconds.sort((left, right) => left - right);
      const median = seconds[Math.floor(seconds.length / 2)]!;
      return [{ bench: "simulate.1m.seconds", value: Math.round(median * 1000) / 1000, unit: "s" }];
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
};
