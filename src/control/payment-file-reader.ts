/**
 * Reads recorded payments (NDJSON files: the traffic writer's output or the sample log) for a
 * simulation, as fast as one thread can: big synchronous reads, a chunk decoded at once (as
 * latin1 when it is ASCII, which is the same text and several times cheaper than UTF-8), lines
 * parsed by `parsePaymentJsonFast` and, for anything outside its format, by the traffic reader's
 * `parsePaymentLine`, which also explains what is wrong with a bad line.
 *
 * Files are cut into byte segments that start at a line's start, so threads can read parts of one
 * sample; findings carry line numbers relative to their segment until `numberFindings` fixes them.
 */
import { isAscii } from "node:buffer";
import { closeSync, openSync, readSync, statSync } from "node:fs";
import type { Finding } from "../core/findings.ts";
import { NDJSON_READ_LIMITS, parsePaymentLine } from "../traffic/read-payments-ndjson.ts";
import { parsePaymentJsonFast } from "./parse-payment-json-fast.ts";

export const PAYMENT_FILE_READ_LIMITS = {
  /** Bytes read at once; a line longer than this is skipped whole as too long. */
  readBytes: 1_048_576,
  lineBytesMax: NDJSON_READ_LIMITS.lineBytesMax,
  /** Findings kept per read; more bad lines are only counted. */
  findingsMax: 100,
} as const;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = "\uFEFF";

/** Bytes [startByte, endByte) of a file; startByte is 0 or just after a line break. */
export interface PaymentFileSegment {
  readonly path: string;
  readonly startByte: number;
  readonly endByte: number;
}

export interface SegmentReadResult {
  readonly path: string;
  /** Lines in the segment, blank ones included (to number the next segment's lines). */
  readonly lines: number;
  readonly badLines: number;
  /** With line numbers relative to the segment (its first line is 1). */
  readonly findings: readonly Finding[];
}

/**
 * Receives each line that parsed as an object; returns false when the evaluators found it is not
 * a valid payment (and counted it), so the reader can say why.
 */
export type PaymentSink = (value: Record<string, unknown>) => boolean;

/**
 * Offered each non-blank line `text[start, end)` first; true when it took the line (a valid
 * payment it parsed and evaluated itself), false to leave it to `onPayment`'s path.
 */
export type PaymentLineSink = (text: string, start: number, end: number) => boolean;

/**
 * Reads one segment synchronously. `onBadLine` is called for each line that never reached
 * `onPayment` (not JSON, not an object, too long); lines `onPayment` refused are its to count.
 */
export function readPaymentSegment(
  segment: PaymentFileSegment,
  onPayment: PaymentSink,
  onBadLine: () => void,
  findingsMax: number = PAYMENT_FILE_READ_LIMITS.findingsMax,
  onLine?: PaymentLineSink,
): SegmentReadResult {
  const { path, startByte, endByte } = segment;
  const buffer = Buffer.allocUnsafe(PAYMENT_FILE_READ_LIMITS.readBytes);
  const findings: Finding[] = [];
  let lines = 0;
  let badLines = 0;
  let kept = 0;
  let offset = startByte;
  // While true, the current line is too long and its bytes are dropped up to its end.
  let skipping = false;

  /** `evaluated`: the evaluators saw the line and counted it already. */
  const bad = (lineFindings: readonly Finding[], evaluated = false) => {
    badLines += 1;
    if (!evaluated) onBadLine();
    for (const finding of lineFindings) if (findings.length < findingsMax) findings.push(finding);
  };
  const tooLong = (bytes: string) =>
    bad([
      {
        file: path,
        line: lines,
        path: "",
        code: "payment.line_too_long",
        severity: "error",
        message: `line is ${bytes} bytes; the limit is ${PAYMENT_FILE_READ_LIMITS.lineBytesMax}`,
      },
    ]);
  const line = (text: string, from: number, to: number) => {
    lines += 1;
    let end = to;
    if (end > from && text.charCodeAt(end - 1) === CARRIAGE_RETURN) end -= 1;
    let start = from;
    if (lines === 1 && startByte === 0 && text.startsWith(BYTE_ORDER_MARK, start)) start += 1;
    if (end - start > PAYMENT_FILE_READ_LIMITS.lineBytesMax) {
      tooLong(String(end - start));
      return;
    }
    if (isBlank(text, start, end)) return;
    if (onLine?.(text, start, end)) return;
    const value = parsePaymentJsonFast(text, start, end);
    if (value !== undefined && onPayment(value)) return;
    const parsed = parsePaymentLine(text.slice(start, end), lines, path);
    if (parsed.ok) {
      if (value === undefined && onPayment(parsed.payment as unknown as Record<string, unknown>))
        return;
      // The schema accepts what the evaluator refused: the two checks disagree, which is a bug.
      throw new Error(
        `line ${lines} of ${path}: the schema accepts a payment the evaluator refuses`,
      );
    }
    bad(parsed.findings, value !== undefined);
  };

  const descriptor = openSync(path, "r");
  try {
    for (;;) {
      const wanted = Math.min(buffer.length - kept, endByte - offset);
      const read = wanted > 0 ? readSync(descriptor, buffer, kept, wanted, offset) : 0;
      offset += read;
      const filled = kept + read;
      // read 0 with bytes wanted: the file is shorter than when it was cut.
      const atEnd = offset >= endByte || read === 0;
      if (filled === 0) break;
      const lastNewline = buffer.lastIndexOf(NEWLINE, filled - 1);
      if (lastNewline === -1) {
        if (!skipping && atEnd) {
          // The segment's last line has no line break.
          line(decode(buffer, filled), 0, filled);
        } else if (!skipping) {
          // A whole buffer without a line break: far beyond the limit. Its bytes are dropped
          // as they come, up to its line break.
          lines += 1;
          tooLong(`more than ${PAYMENT_FILE_READ_LIMITS.lineBytesMax}`);
          skipping = true;
        }
        kept = 0;
        if (atEnd) break;
        continue;
      }
      const text = decode(buffer, lastNewline + 1);
      let start = 0;
      if (skipping) {
        // The rest of the too-long line, counted already.
        start = text.indexOf("\n") + 1;
        skipping = false;
      }
      for (;;) {
        const newline = text.indexOf("\n", start);
        if (newline === -1) break;
        line(text, start, newline);
        start = newline + 1;
      }
      kept = filled - (lastNewline + 1);
      buffer.copy(buffer, 0, lastNewline + 1, filled);
      if (atEnd) {
        if (kept > 0) line(decode(buffer, kept), 0, kept);
        break;
      }
    }
  } finally {
    closeSync(descriptor);
  }
  return { path, lines, badLines, findings };
}

/** ASCII text decodes alike as latin1 and UTF-8, and latin1 is much cheaper to decode. */
function decode(buffer: Buffer, length: number): string {
  const bytes = buffer.subarray(0, length);
  return bytes.toString(isAscii(bytes) ? "latin1" : "utf8");
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let at = start; at < end; at += 1) {
    const code = text.charCodeAt(at);
    if (code !== 0x20 && code !== 0x09) return false;
  }
  return true;
}

/**
 * Cuts files into about `parts` segments of similar size, each starting at a line's start (a
 * segment never holds half a line), in file order.
 */
export function segmentFiles(paths: readonly string[], parts: number): PaymentFileSegment[] {
  const sizes = paths.map((path) => statSync(path).size);
  const totalBytes = sizes.reduce((sum, size) => sum + size, 0);
  const target = Math.max(1, Math.ceil(totalBytes / Math.max(1, parts)));
  const segments: PaymentFileSegment[] = [];
  paths.forEach((path, index) => {
    const size = sizes[index]!;
    let start = 0;
    while (start < size) {
      const end = start + target >= size ? size : nextLineStart(path, start + target, size);
      segments.push({ path, startByte: start, endByte: end });
      start = end;
    }
  });
  return segments;
}

/** The byte after the first line break at or after `from`, or the file's size. */
function nextLineStart(path: string, from: number, size: number): number {
  const buffer = Buffer.allocUnsafe(65_536);
  const descriptor = openSync(path, "r");
  try {
    let offset = from;
    while (offset < size) {
      const read = readSync(descriptor, buffer, 0, buffer.length, offset);
      if (read === 0) break;
      const newline = buffer.subarray(0, read).indexOf(NEWLINE);
      if (newline !== -1) return offset + newline + 1;
      offset += read;
    }
    return size;
  } finally {
    closeSync(descriptor);
  }
}

/** Gives the findings of segments read apart their line numbers within their files. */
export function numberFindings(results: readonly SegmentReadResult[]): Finding[] {
  const linesBefore = new Map<string, number>();
  const findings: Finding[] = [];
  for (const result of results) {
    const before = linesBefore.get(result.path) ?? 0;
    for (const finding of result.findings)
      findings.push({ ...finding, line: (finding.line ?? 0) + before });
    linesBefore.set(result.path, before + result.lines);
  }
  return findings;
}
