/**
 * The payment sample log on real files: sampling is a pure function of the id and the rate (the
 * same ids in every instance, about the rate's share of them), files rotate at their byte limit
 * and only the newest `filesMax` stay, what was recorded reads back as the same payments, and a
 * log that cannot write stops without throwing.
 */
import { closeSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterEach, beforeEach, describe, expect } from "vitest";
import {
  PaymentSampleLog,
  type PaymentSampleLogOptions,
  sampleLogFiles,
} from "../../src/control/payment-sample-log.ts";
import { isPaymentSampled } from "../../src/core/simulation/payment-sampling.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "bursar-sample-log-"));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function open(options: Partial<PaymentSampleLogOptions> = {}): PaymentSampleLog {
  const opened = PaymentSampleLog.open({
    directory,
    rateBps: 10_000,
    flushIntervalMs: 0,
    ...options,
  });
  if (!opened.ok) throw new Error(opened.message);
  return opened.log;
}

function generated(count: number) {
  const created = TrafficGenerator.create({ seed: 11, tps: count, seconds: 1 });
  if (!created.ok) throw new Error("generator options");
  return [...created.generator];
}

describe("sampling", () => {
  test.prop([
    fc.array(fc.string({ minLength: 1, maxLength: 40 }), { maxLength: 50 }),
    fc.integer({ min: 0, max: 10_000 }),
  ])(
    "two instances sample the same ids at the same rate; a higher rate keeps a superset",
    (ids, rateBps) => {
      const first = PaymentSampleLog.open({
        directory,
        rateBps: Math.max(rateBps, 1),
        flushIntervalMs: 0,
      });
      const second = PaymentSampleLog.open({
        directory,
        rateBps: Math.max(rateBps, 1),
        flushIntervalMs: 0,
      });
      if (!first.ok || !second.ok) throw new Error("open");
      for (const id of ids) {
        expect(first.log.isSampled(id)).toBe(second.log.isSampled(id));
        if (isPaymentSampled(id, rateBps))
          expect(isPaymentSampled(id, Math.min(rateBps + 1, 10_000))).toBe(true);
      }
      first.log.close();
      second.log.close();
    },
  );

  test("the sampled share is close to the rate over many ids", () => {
    const ids = Array.from({ length: 200_000 }, (_, index) => `p20250116-${index}`);
    for (const rateBps of [1, 100, 1_000, 5_000]) {
      const kept = ids.filter((id) => isPaymentSampled(id, rateBps)).length;
      const expected = (ids.length * rateBps) / 10_000;
      // Within five standard deviations of a binomial draw, and never exactly zero at 0.01 %.
      const tolerance = 5 * Math.sqrt(expected * (1 - rateBps / 10_000));
      expect(Math.abs(kept - expected)).toBeLessThan(tolerance);
      expect(kept).toBeGreaterThan(0);
    }
    expect(ids.filter((id) => isPaymentSampled(id, 0)).length).toBe(0);
    expect(ids.filter((id) => isPaymentSampled(id, 10_000)).length).toBe(ids.length);
  });
});

describe("files", () => {
  test("records read back as the sampled payments, in order, in the writer's format", () => {
    const payments = generated(2_000);
    const log = open({ rateBps: 2_500 });
    const kept = payments.filter((payment) => log.record(payment));
    log.close();
    const files = sampleLogFiles(directory);
    expect(files.map((file) => file.rateBps)).toEqual([2_500]);
    const text = readFileSync(files[0]!.path, "utf8");
    expect(text).toBe(kept.map((payment) => `${JSON.stringify(payment)}\n`).join(""));
    expect(kept.length).toBe(
      payments.filter((payment) => isPaymentSampled(payment.paymentId, 2_500)).length,
    );
    expect(log.stats()).toMatchObject({
      sampled: kept.length,
      linesWritten: kept.length,
      dropped: 0,
      writeError: null,
    });
  });

  test("rotation: no file passes fileBytesMax, only the newest filesMax stay, nothing else is lost", () => {
    const payments = generated(3_000);
    const log = open({ fileBytesMax: 16_384, filesMax: 5, bufferBytesMax: 4_096 });
    for (const payment of payments) log.record(payment);
    log.close();
    const files = sampleLogFiles(directory);
    expect(files.length).toBe(5);
    for (const file of files) expect(statSync(file.path).size).toBeLessThanOrEqual(16_384);
    const stats = log.stats();
    expect(stats.filesStarted).toBeGreaterThan(5);
    expect(stats.filesDeleted).toBe(stats.filesStarted - 5);
    // The newest files hold the last payments, whole lines, in order.
    const lines = files.flatMap((file) =>
      readFileSync(file.path, "utf8").split("\n").filter(Boolean),
    );
    const tail = payments.slice(-lines.length).map((payment) => JSON.stringify(payment));
    expect(lines).toEqual(tail);
  });

  test("a new log starts a new file after the old ones and keeps the limit across logs", () => {
    for (let round = 0; round < 4; round += 1) {
      const log = open({ filesMax: 3 });
      log.record(generated(1)[0]!);
      log.close();
    }
    expect(sampleLogFiles(directory).map((file) => file.sequence)).toEqual([2, 3, 4]);
  });

  test("the buffer reaches the file when full, on flush and at close, and not before", () => {
    const payments = generated(50);
    const log = open({ bufferBytesMax: 1_000_000 });
    for (const payment of payments) log.record(payment);
    const path = sampleLogFiles(directory)[0]!.path;
    expect(statSync(path).size).toBe(0);
    log.flush();
    expect(readFileSync(path, "utf8").split("\n").filter(Boolean).length).toBe(50);
  });

  test("options out of range and an unusable directory are refused with their codes", () => {
    expect(PaymentSampleLog.open({ directory, rateBps: 0 })).toMatchObject({
      ok: false,
      code: "sample_log.invalid_option",
    });
    expect(PaymentSampleLog.open({ directory, rateBps: 10, fileBytesMax: 10 })).toMatchObject({
      ok: false,
      code: "sample_log.invalid_option",
    });
    const file = join(directory, "a-file");
    writeFileSync(file, "");
    expect(PaymentSampleLog.open({ directory: join(file, "below"), rateBps: 10 })).toMatchObject({
      ok: false,
      code: "sample_log.directory_unusable",
    });
  });

  test("a write failure is caught: a log whose file is gone keeps answering and counts drops", () => {
    const log = open({ bufferBytesMax: 1 });
    log.close();
    // Closing the log's descriptor under it makes the next write fail (EBADF), as a disk error
    // would; nothing opens a file in between, so the number is not reused meanwhile.
    const reopened = open({ bufferBytesMax: 1 });
    // biome-ignore lint/suspicious/noExplicitAny: reaching the descriptor is the point of this test.
    const internals = reopened as any;
    closeSync(internals.descriptor);
    for (const payment of generated(5)) expect(() => reopened.record(payment)).not.toThrow();
    expect(reopened.stats().writeError).toMatch(/EBADF|bad file descriptor/i);
    expect(reopened.stats().dropped).toBe(5);
  });
});
