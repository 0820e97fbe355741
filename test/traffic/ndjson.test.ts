import { PassThrough, Writable } from "node:stream";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { Payment } from "../../src/core/model/payment.ts";
import {
  NDJSON_READ_LIMITS,
  type PaymentLine,
  readPaymentsNdjson,
} from "../../src/traffic/read-payments-ndjson.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import { writePaymentsNdjson } from "../../src/traffic/write-payments-ndjson.ts";

const POOL: readonly Payment[] = (() => {
  const created = TrafficGenerator.create({ seed: 11, tps: 2_000, seconds: 1 });
  if (!created.ok) throw new Error("options refused");
  return [...created.generator];
})();

const VALID = JSON.stringify(POOL[0]);

/** Collects everything a Writable receives. */
function collector(
  options: { highWaterMark?: number; delayMs?: number } = {},
): Writable & { text: () => string; writes: number } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: options.highWaterMark ?? 16_384,
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      sink.writes += 1;
      if (options.delayMs === undefined) callback();
      else setTimeout(callback, options.delayMs);
    },
  }) as Writable & { text: () => string; writes: number };
  sink.writes = 0;
  sink.text = () => Buffer.concat(parts).toString("utf8");
  return sink;
}

async function readAll(
  chunks: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>,
  lineBytesMax?: number,
): Promise<PaymentLine[]> {
  const lines: PaymentLine[] = [];
  for await (const line of readPaymentsNdjson(
    chunks,
    lineBytesMax === undefined ? {} : { lineBytesMax, file: "sample.ndjson" },
  )) {
    lines.push(line);
  }
  return lines;
}

/** Splits bytes at the given fractions, to exercise lines that straddle chunks. */
function split(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const offsets = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of offsets) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

function codesByLine(lines: readonly PaymentLine[]): [number, string[]][] {
  return lines
    .filter((line) => !line.ok)
    .map((line) => [
      line.line,
      line.ok ? [] : line.findings.map((finding) => `${finding.path}:${finding.code}`),
    ]);
}

describe("NDJSON writer and reader", () => {
  test.prop([
    fc.subarray([...POOL.keys()], { minLength: 0, maxLength: 200 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
    fc.integer({ min: 1, max: 4_096 }),
  ])(
    "round-trips what the writer wrote, however the bytes are chunked",
    async (indexes, cuts, chunkBytes) => {
      const payments = indexes.map((index) => POOL[index]!);
      const sink = collector({ highWaterMark: 64 });
      const written = await writePaymentsNdjson(payments, sink, { chunkBytes, end: true });
      expect(written).toEqual({ ok: true, lines: payments.length });
      const lines = await readAll(split(Buffer.from(sink.text(), "utf8"), cuts));
      expect(lines.every((line) => line.ok)).toBe(true);
      expect(lines.map((line) => (line.ok ? line.payment : undefined))).toEqual(payments);
      expect(lines.map((line) => line.line)).toEqual(payments.map((_, index) => index + 1));
    },
  );

  it("writes the generator's payments one JSON object per line", async () => {
    const created = TrafficGenerator.create({ seed: 3, tps: 100, seconds: 3 });
    if (!created.ok) throw new Error("options refused");
    const sink = collector();
    const chunks: number[] = [];
    const result = await writePaymentsNdjson(created.generator, sink, {
      end: true,
      chunkBytes: 1_000,
      onChunk: (lines) => chunks.push(lines),
    });
    expect(result).toEqual({ ok: true, lines: 300 });
    const text = sink.text();
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(301);
    expect(chunks.at(-1)).toBe(300);
    expect(chunks.length).toBeGreaterThan(10);
  });

  it("waits for a slow stream to drain instead of buffering everything", async () => {
    const sink = collector({ highWaterMark: 1_024, delayMs: 1 });
    let highest = 0;
    const result = await writePaymentsNdjson(POOL.slice(0, 400), sink, {
      chunkBytes: 2_048,
      end: true,
      onChunk: () => {
        highest = Math.max(highest, sink.writableLength);
      },
    });
    expect(result.ok).toBe(true);
    // Never more than one chunk beyond the high-water mark is queued.
    expect(highest).toBeLessThanOrEqual(1_024 + 2_048 + 400);
    expect(sink.text().split("\n")).toHaveLength(401);
  });

  it("reports a failed stream as a value, not an exception", async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error("disk full"), { code: "ENOSPC" }));
      },
    });
    const result = await writePaymentsNdjson(POOL.slice(0, 1_000), broken, {
      chunkBytes: 100,
      end: true,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toBe("disk full");
  });

  it("reports bad lines with line numbers, field paths and codes, and keeps going", async () => {
    const payment = POOL[1]!;
    const lines = [
      VALID,
      "{not json",
      JSON.stringify({ ...payment, colour: "red" }),
      "",
      JSON.stringify({ ...payment, amountMinor: 12.5 }),
      JSON.stringify({ ...payment, scenario: "casino" }),
      "[1, 2]",
      "   ",
      JSON.stringify({ ...payment, region: "CN-XX", channel: "fax" }),
      JSON.stringify(POOL[2]),
    ];
    const results = await readAll([`${lines.join("\n")}\n`], NDJSON_READ_LIMITS.lineBytesMax);
    expect(results.map((line) => line.line)).toEqual([1, 2, 3, 5, 6, 7, 9, 10]);
    expect(codesByLine(results)).toEqual([
      [2, [":payment.invalid_json"]],
      [3, ["colour:schema.unknown_field"]],
      [5, ["amountMinor:money.not_integer"]],
      [6, ["scenario:scenario.unknown"]],
      [7, [":payment.invalid_json"]],
      [9, ["region:region.unknown", "channel:schema.invalid_value"]],
    ]);
    const last = results.at(-1)!;
    expect(last.ok && last.payment).toEqual(POOL[2]);
    const first = results[1]!;
    expect(first.ok ? undefined : first.findings[0]).toMatchObject({
      file: "sample.ndjson",
      line: 2,
      severity: "error",
    });
  });

  it("reports a line over the limit without buffering it, then reads on", async () => {
    const limit = 1_000;
    const long = `{"paymentId":"${"x".repeat(5_000)}"}`;
    // Fed in small chunks: the long line never sits in memory whole.
    const text = `${VALID}\n${long}\n${VALID}\n${"y".repeat(limit + 1)}\n${VALID}`;
    const chunks = split(
      Buffer.from(text),
      Array.from({ length: 200 }, (_, index) => index / 200),
    );
    const results = await readAll(chunks, limit);
    expect(results.map((line) => [line.line, line.ok])).toEqual([
      [1, true],
      [2, false],
      [3, true],
      [4, false],
      [5, true],
    ]);
    expect(codesByLine(results)).toEqual([
      [2, [":payment.line_too_long"]],
      [4, [":payment.line_too_long"]],
    ]);
  });

  it("accepts a line of exactly the limit, CRLF line ends, a byte-order mark and no final newline", async () => {
    const padded = VALID.replace('"paymentId"', ' "paymentId"'.padStart(200, " "));
    const results = await readAll(
      [Buffer.from(`\uFEFF${VALID}\r\n${padded}\r\n${VALID}`)],
      Buffer.byteLength(padded),
    );
    expect(results.map((line) => [line.line, line.ok])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
    const tooLong = await readAll([`${VALID}\n${padded}\n`], Buffer.byteLength(padded) - 1);
    expect(codesByLine(tooLong)).toEqual([[2, [":payment.line_too_long"]]]);
  });

  it("reads from a stream and never throws on binary garbage", async () => {
    const stream = new PassThrough();
    stream.end(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b, 0x0a, 0xc3, 0x28, 0x0a]));
    const results = await readAll(stream);
    expect(codesByLine(results)).toEqual([
      [1, [":payment.invalid_json"]],
      [2, [":payment.invalid_json"]],
      [3, [":payment.invalid_json"]],
    ]);
  });
});

describe("writePaymentsNdjson on a closed stream", () => {
  it("reports that not every payment was written", async () => {
    const sink = collector();
    sink.destroy();
    const result = await writePaymentsNdjson(POOL.slice(0, 10), sink, { chunkBytes: 100 });
    expect(result.ok).toBe(false);
    expect(result.lines).toBeLessThan(10);
  });
});
