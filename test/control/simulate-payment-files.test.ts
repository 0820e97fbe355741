/**
 * Simulations over recorded payments in real files: on the calling thread and in worker threads
 * (real ones) the report equals `simulateChange` over the same payments; bad lines are counted
 * and explained with their true line numbers, whichever segment they fell in.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { loadSnapshot } from "../../src/config/load-snapshot.ts";
import { segmentFiles } from "../../src/control/payment-file-reader.ts";
import { simulateChange } from "../../src/control/simulate-change.ts";
import { simulatePaymentFiles } from "../../src/control/simulate-payment-files.ts";
import type { Snapshot } from "../../src/core/evaluator/snapshot.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { EXAMPLES_DIRECTORY, proposedExamplesCopy } from "../support/proposed-examples.ts";

const SEED = 20250116;
let directory: string;
let proposedDirectory: string;
let current: Snapshot;
let proposed: Snapshot;
let payments: Payment[];

async function snapshot(path: string): Promise<Snapshot> {
  const loaded = await loadSnapshot([path], SEED);
  if (!loaded.ok) throw new Error(loaded.message);
  return loaded.snapshot;
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), "bursar-simulate-files-"));
  proposedDirectory = proposedExamplesCopy();
  current = await snapshot(EXAMPLES_DIRECTORY);
  proposed = await snapshot(proposedDirectory);
  const created = TrafficGenerator.create({ seed: SEED, tps: 2_000, seconds: 10 });
  if (!created.ok) throw new Error("generator options");
  payments = [...created.generator];
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
  rmSync(proposedDirectory, { recursive: true, force: true });
});

const options = { currency: "CNY" } as const;

describe("simulatePaymentFiles", () => {
  test("on this thread and in three worker threads: the report simulateChange gives", async () => {
    const path = join(directory, "clean.ndjson");
    writeFileSync(path, payments.map((payment) => `${JSON.stringify(payment)}\n`).join(""));
    const expected = await simulateChange({ current, proposed, payments, options });
    expect(expected.proposed.subsidyMinor).toBeGreaterThan(expected.current.subsidyMinor);
    const alone = await simulatePaymentFiles({
      current,
      proposed,
      paths: [path],
      options,
      threads: 0,
    });
    expect(alone.report).toEqual(expected);
    expect(alone.threads).toBe(1);
    const progress: number[] = [];
    const parallel = await simulatePaymentFiles({
      current,
      proposed,
      paths: [path],
      options,
      threads: 3,
      onProgress: (count) => progress.push(count),
    });
    expect(parallel.threads).toBe(3);
    expect(parallel.report).toEqual(expected);
    expect(parallel.lines).toBe(payments.length);
    expect(progress.at(-1)).toBe(payments.length);
  });

  test("bad lines: counted, explained at their line in their file, the rest read", async () => {
    const lines = payments.slice(0, 3_000).map((payment) => JSON.stringify(payment));
    // 1-based line numbers of what goes wrong, spread so several segments hold one.
    lines[0] = `\uFEFF${lines[0]}`; // a byte order mark: read as nothing
    lines[9] = "not json";
    lines[999] = "{}";
    lines[1_499] = `${lines[1_499]}\r`; // CRLF: fine
    lines[1_999] = "";
    lines[2_499] = "x".repeat(70_000);
    lines[2_999] = JSON.stringify({ ...payments[2_999], amountMinor: 1.5 });
    const first = join(directory, "bad-1.ndjson");
    const second = join(directory, "bad-2.ndjson");
    writeFileSync(first, `${lines.slice(0, 1_500).join("\n")}\n`);
    // The second file ends without a line break.
    writeFileSync(second, lines.slice(1_500).join("\n"));
    expect(segmentFiles([first, second], 4).length).toBeGreaterThanOrEqual(4);
    const valid = payments
      .slice(0, 3_000)
      .filter((_, index) => ![9, 999, 1_999, 2_499, 2_999].includes(index));
    const expected = await simulateChange({ current, proposed, payments: valid, options });
    for (const threads of [0, 4]) {
      const result = await simulatePaymentFiles({
        current,
        proposed,
        paths: [first, second],
        options,
        threads,
      });
      expect(result.report.payments).toBe(valid.length);
      expect(result.report.paymentsInvalid).toBe(4);
      expect(result.badLines).toBe(4);
      expect({ ...result.report, paymentsInvalid: 0 }).toEqual(expected);
      expect(result.lines).toBe(3_000);
      expect(result.findings.map((finding) => [finding.file, finding.line, finding.code])).toEqual([
        [first, 10, "payment.invalid_json"],
        [first, 1_000, "schema.missing_field"],
        ...result.findings
          .filter((finding) => finding.file === first && finding.line === 1_000)
          .slice(1)
          .map((finding) => [first, 1_000, finding.code]),
        [second, 1_000, "payment.line_too_long"],
        [second, 1_500, "money.not_integer"],
      ]);
    }
  });

  test("small samples stay on the calling thread unless told otherwise", async () => {
    const path = join(directory, "small.ndjson");
    writeFileSync(
      path,
      payments
        .slice(0, 10)
        .map((payment) => `${JSON.stringify(payment)}\n`)
        .join(""),
    );
    const result = await simulatePaymentFiles({ current, proposed, paths: [path], options });
    expect(result.threads).toBe(1);
    expect(result.report.payments).toBe(10);
  });
});
