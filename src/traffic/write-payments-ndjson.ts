/**
 * Writes payments as NDJSON (one JSON object per line, "\n" after each) to a stream, in chunks,
 * waiting for the stream to drain whenever it says its buffer is full: memory stays bounded
 * however many payments the source yields and however slow the reader downstream is.
 */
import type { Writable } from "node:stream";
import type { Payment } from "../core/model/payment.ts";

export const NDJSON_WRITE_DEFAULTS = {
  /** Lines are joined into chunks of about this size before each write: fewer, larger writes. */
  chunkBytes: 65_536,
} as const;

export interface WritePaymentsOptions {
  readonly chunkBytes?: number;
  /** End the stream after the last payment (true for files; false for stdout). */
  readonly end?: boolean;
  /** Called after every chunk with the number of lines written so far (for progress). */
  readonly onChunk?: (lines: number) => void;
}

export type WritePaymentsResult =
  | { readonly ok: true; readonly lines: number }
  /** The stream failed (a full disk, a closed pipe): `lines` were handed to it before that. */
  | { readonly ok: false; readonly lines: number; readonly error: Error };

/**
 * A source of payments: any iterable, or anything with a `nextPayment()` that returns undefined
 * at the end (the generator: it skips the iterator protocol's result object per payment).
 */
export type PaymentSource = Iterable<Payment> | { nextPayment(): Payment | undefined };

export async function writePaymentsNdjson(
  source: PaymentSource,
  output: Writable,
  options: WritePaymentsOptions = {},
): Promise<WritePaymentsResult> {
  const chunkBytes = options.chunkBytes ?? NDJSON_WRITE_DEFAULTS.chunkBytes;
  let failure: Error | undefined;
  // Without a listener an 'error' event would crash the process; here it ends the write.
  const onError = (error: Error): void => {
    failure ??= error;
  };
  output.on("error", onError);
  const next = nextOf(source);
  let lines = 0;
  let chunk = "";
  try {
    for (let payment = next(); payment !== undefined; payment = next()) {
      chunk += `${JSON.stringify(payment)}\n`;
      lines += 1;
      if (chunk.length >= chunkBytes) {
        if (!(await writeChunk(output, chunk))) {
          failure ??= closedEarly();
          break;
        }
        chunk = "";
        options.onChunk?.(lines);
      }
      if (failure !== undefined) break;
    }
    if (failure === undefined && chunk !== "") {
      if (await writeChunk(output, chunk)) options.onChunk?.(lines);
      else failure ??= closedEarly();
    }
    if (failure === undefined && options.end === true) await endStream(output);
  } catch (error) {
    failure ??= error instanceof Error ? error : new Error(String(error));
  } finally {
    output.off("error", onError);
  }
  failure ??= output.errored ?? undefined;
  return failure === undefined ? { ok: true, lines } : { ok: false, lines, error: failure };
}

function closedEarly(): Error {
  return Object.assign(new Error("the stream closed before every payment was written"), {
    code: "ERR_STREAM_DESTROYED",
  });
}

function nextOf(source: PaymentSource): () => Payment | undefined {
  if ("nextPayment" in source) return () => source.nextPayment();
  const iterator = source[Symbol.iterator]();
  return () => {
    const result = iterator.next();
    return result.done === true ? undefined : result.value;
  };
}

/** Writes one chunk; resolves false when the stream has failed or closed instead of draining. */
function writeChunk(output: Writable, chunk: string): Promise<boolean> {
  if (output.destroyed || output.writableEnded) return Promise.resolve(false);
  if (output.write(chunk)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (drained: boolean) => () => {
      output.off("drain", onDrain);
      output.off("close", onClose);
      output.off("error", onClose);
      resolve(drained);
    };
    const onDrain = settle(true);
    const onClose = settle(false);
    output.on("drain", onDrain);
    output.on("close", onClose);
    output.on("error", onClose);
  });
}

function endStream(output: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      output.off("finish", done);
      output.off("close", done);
      output.off("error", done);
      resolve();
    };
    output.on("finish", done);
    output.on("close", done);
    output.on("error", done);
    output.end();
  });
}
