/**
 * Reads payments from NDJSON: a recorded sample or the generator's output. Each line becomes a
 * validated payment or a list of findings naming the line, the field and a catalog code. Bad
 * content never throws and never stops the read: a replay wants every good line and an exact
 * account of the bad ones. A line is held in memory only up to the line limit; longer lines are
 * skipped to their end without being buffered.
 */

import { CheckedPayment, fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
import type { Finding } from "../core/findings.ts";
import { formatPath } from "../core/findings.ts";
import { describe, issueToDocumentIssues } from "../core/model/document.ts";
import { type Payment, paymentSchema } from "../core/model/payment.ts";

/** Reused by every line: the check writes the fields it read into it. */
const checkedScratch = new CheckedPayment();

export const NDJSON_READ_LIMITS = {
  /** A payment line is about 300 bytes; 64 KiB is room for any legitimate one and bounds memory. */
  lineBytesMax: 65_536,
} as const;

export type PaymentLine =
  | { readonly ok: true; readonly line: number; readonly payment: Payment }
  | { readonly ok: false; readonly line: number; readonly findings: readonly Finding[] };

export interface ReadPaymentsOptions {
  /** Named in every finding; leave out for in-memory input. */
  readonly file?: string;
  /** Lines longer than this many bytes (line break excluded) are reported, not parsed. */
  readonly lineBytesMax?: number;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const BYTE_ORDER_MARK = "\uFEFF";

/** Streams `{ok, line, …}` for every non-empty line of `source` (a Readable, or chunks of bytes or text). */
export async function* readPaymentsNdjson(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  options: ReadPaymentsOptions = {},
): AsyncGenerator<PaymentLine, void, undefined> {
  const lineBytesMax = options.lineBytesMax ?? NDJSON_READ_LIMITS.lineBytesMax;
  const file = options.file;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // While true, the current line is already reported as too long and its bytes are dropped.
  let skipping = false;
  let line = 0;

  const tooLong = (lineNumber: number, bytes: string): PaymentLine => ({
    ok: false,
    line: lineNumber,
    findings: [
      finding(
        file,
        lineNumber,
        "",
        "payment.line_too_long",
        `line is ${bytes} bytes; the limit is ${lineBytesMax}`,
      ),
    ],
  });

  /** The result for a complete line: pending bytes, then chunk[from, to). */
  const complete = (chunk: Buffer, from: number, to: number): PaymentLine | undefined => {
    line += 1;
    if (pendingBytes + to - from > lineBytesMax + 1) {
      const bytes = pendingBytes + to - from;
      pending = [];
      pendingBytes = 0;
      return tooLong(line, String(bytes));
    }
    let bytes = chunk;
    let end = to;
    let begin = from;
    if (pending.length > 0) {
      bytes = Buffer.concat([...pending, chunk.subarray(from, to)]);
      begin = 0;
      end = bytes.length;
      pending = [];
      pendingBytes = 0;
    }
    if (end > begin && bytes[end - 1] === CARRIAGE_RETURN) end -= 1;
    if (end - begin > lineBytesMax) return tooLong(line, String(end - begin));
    if (end === begin) return undefined;
    let text = bytes.toString("utf8", begin, end);
    if (line === 1 && text.startsWith(BYTE_ORDER_MARK)) text = text.slice(1);
    if (isBlank(text)) return undefined;
    return parsePaymentLine(text, line, file);
  };

  for await (const piece of source) {
    const chunk = toBuffer(piece);
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline === -1) {
        if (!skipping) {
          pending.push(chunk.subarray(start));
          pendingBytes += chunk.length - start;
          // +1: a trailing carriage return is not part of the line.
          if (pendingBytes > lineBytesMax + 1) {
            line += 1;
            yield tooLong(line, `more than ${lineBytesMax}`);
            // The rest of the line is dropped as it arrives, never buffered.
            pending = [];
            pendingBytes = 0;
            skipping = true;
          }
        }
        break;
      }
      if (skipping) {
        skipping = false;
      } else {
        const result = complete(chunk, start, newline);
        if (result !== undefined) yield result;
      }
      start = newline + 1;
    }
  }
  if (!skipping && pendingBytes > 0) {
    const result = complete(Buffer.alloc(0), 0, 0);
    if (result !== undefined) yield result;
  }
}

function toBuffer(piece: Uint8Array | string): Buffer {
  if (typeof piece === "string") return Buffer.from(piece, "utf8");
  if (Buffer.isBuffer(piece)) return piece;
  return Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
}

/** True for a line of spaces and tabs only; cheap for the usual line that starts with "{". */
function isBlank(text: string): boolean {
  const first = text.charCodeAt(0);
  if (first !== 0x20 && first !== 0x09) return false;
  return text.trim() === "";
}

/** Parses and validates one line of NDJSON (without its line break). */
export function parsePaymentLine(text: string, line: number, file?: string): PaymentLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      ok: false,
      line,
      findings: [
        finding(file, line, "", "payment.invalid_json", `not well-formed JSON: ${reason}`),
      ],
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      line,
      findings: [
        finding(
          file,
          line,
          "",
          "payment.invalid_json",
          `expected a JSON object, got ${describe(value)}`,
        ),
      ],
    };
  }
  // The evaluator's hand-written check accepts exactly what the schema accepts, several times
  // faster; the schema runs only to describe what is wrong with a line.
  if (fastPaymentCheck(value, checkedScratch)) return { ok: true, line, payment: value as Payment };
  // reportInput: the finding mapper tells a missing field from a wrong one by the input.
  const parsed = paymentSchema.safeParse(value, { reportInput: true });
  if (parsed.success) return { ok: true, line, payment: parsed.data };
  const findings = parsed.error.issues
    .flatMap(issueToDocumentIssues)
    .map((issue) =>
      finding(file, line, formatPath(issue.path), issue.code, issue.message, issue.severity),
    );
  return { ok: false, line, findings };
}

function finding(
  file: string | undefined,
  line: number,
  path: string,
  code: Finding["code"],
  message: string,
  severity: Finding["severity"] = "error",
): Finding {
  return file === undefined
    ? { path, code, severity, message, line }
    : { file, path, code, severity, message, line };
}
