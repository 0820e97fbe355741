/**
 * The payment sample log: a share of the payments an engine evaluates, kept as NDJSON so a change
 * can be simulated against recent real traffic (`bursar simulate --payments DIR`).
 *
 * Which payments: `isPaymentSampled` — a stable hash of the payment id against the rate, so every
 * process keeps the same ids. The hot path pays a hash and a compare for a payment not sampled;
 * a sampled one is one JSON.stringify into a buffer, written with one write() per buffer.
 *
 * Files: `payments-<sequence>-r<rateBps>.ndjson` in one directory, one JSON object per line in the
 * traffic writer's format. A file is closed at `fileBytesMax` and the next one started; beyond
 * `filesMax` files the oldest are deleted. The rate is in every file's name, so a reader knows how
 * to scale and can refuse a directory that mixes rates.
 *
 * What a crash loses: the buffer, at most `bufferBytesMax` bytes and `flushIntervalMs` of
 * sampled payments. Lines already written are in the operating system's cache and survive the
 * process; only an operating-system crash or power loss before write-back loses them, since the
 * log never fsyncs (a sample is not a ledger). Such a crash may leave a torn last line, which the
 * reader reports as one bad line and reads on.
 *
 * A log that cannot write (a full disk) stops and counts; it never throws into the payment path
 * (fail open: payments go on, the sample has a gap, and `stats()` says so).
 */
import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import type { Payment } from "../core/model/payment.ts";
import { BPS_PER_UNIT } from "../core/money.ts";
import { isPaymentSampled } from "../core/simulation/payment-sampling.ts";

export const SAMPLE_LOG_DEFAULTS = {
  fileBytesMax: 64 * 1_048_576,
  filesMax: 16,
  bufferBytesMax: 65_536,
  flushIntervalMs: 1_000,
} as const;

/** Ranges the options must be in. */
export const SAMPLE_LOG_LIMITS = {
  fileBytesMaxMin: 4_096,
  fileBytesMaxMax: 1_073_741_824,
  filesMaxMax: 10_000,
  bufferBytesMaxMax: 16 * 1_048_576,
  flushIntervalMsMax: 60_000,
} as const;

/** What can make a log refuse to open: a closed catalog, documented in simulate.md. */
export const SAMPLE_LOG_CODES = {
  "sample_log.invalid_option": "An option of the sample log is outside its allowed range.",
  "sample_log.directory_unusable": "The sample log's directory cannot be created or written.",
} as const;
export type SampleLogCode = keyof typeof SAMPLE_LOG_CODES;

const FILE_PATTERN = /^payments-(\d{8,})-r(\d{1,5})\.ndjson$/;

export interface PaymentSampleLogOptions {
  readonly directory: string;
  /** Share of payments kept, in bps (1 … 10,000). */
  readonly rateBps: number;
  readonly fileBytesMax?: number;
  readonly filesMax?: number;
  readonly bufferBytesMax?: number;
  /** The buffer is written at least this often; 0 writes only when it is full and at close. */
  readonly flushIntervalMs?: number;
}

export interface SampleLogStats {
  readonly sampled: number;
  readonly linesWritten: number;
  readonly bytesWritten: number;
  readonly filesStarted: number;
  readonly filesDeleted: number;
  /** Sampled payments dropped: after a write failure, or a line longer than a whole file. */
  readonly dropped: number;
  readonly writeError: string | null;
}

export type SampleLogOpenResult =
  | { readonly ok: true; readonly log: PaymentSampleLog }
  | { readonly ok: false; readonly code: SampleLogCode; readonly message: string };

/** One sample-log file: its path, sequence and rate. */
export interface SampleLogFile {
  readonly path: string;
  readonly sequence: number;
  readonly rateBps: number;
}

/** The rate a sample-log file was written at, from its name; undefined for any other file. */
export function sampleRateOfFile(path: string): number | undefined {
  const match = FILE_PATTERN.exec(basename(path));
  return match === null ? undefined : Number(match[2]);
}

/** The directory's sample files, oldest first. */
export function sampleLogFiles(directory: string): SampleLogFile[] {
  return readdirSync(directory)
    .flatMap((name) => {
      const match = FILE_PATTERN.exec(name);
      return match === null
        ? []
        : [{ path: join(directory, name), sequence: Number(match[1]), rateBps: Number(match[2]) }];
    })
    .sort((left, right) => left.sequence - right.sequence);
}

export class PaymentSampleLog {
  private pending: string[] = [];
  private pendingBytes = 0;
  private descriptor = -1;
  private fileBytes = 0;
  private sequence: number;
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;
  private counts = {
    sampled: 0,
    linesWritten: 0,
    bytesWritten: 0,
    filesStarted: 0,
    filesDeleted: 0,
    dropped: 0,
  };
  private writeError: string | null = null;

  private constructor(
    readonly directory: string,
    readonly rateBps: number,
    private readonly fileBytesMax: number,
    private readonly filesMax: number,
    private readonly bufferBytesMax: number,
    flushIntervalMs: number,
    lastSequence: number,
  ) {
    this.sequence = lastSequence;
    this.timer = flushIntervalMs > 0 ? setInterval(() => this.flush(), flushIntervalMs) : undefined;
    // The timer only writes what is buffered; it must not keep a finished process alive.
    this.timer?.unref();
  }

  static open(options: PaymentSampleLogOptions): SampleLogOpenResult {
    const fileBytesMax = options.fileBytesMax ?? SAMPLE_LOG_DEFAULTS.fileBytesMax;
    const filesMax = options.filesMax ?? SAMPLE_LOG_DEFAULTS.filesMax;
    const bufferBytesMax = options.bufferBytesMax ?? SAMPLE_LOG_DEFAULTS.bufferBytesMax;
    const flushIntervalMs = options.flushIntervalMs ?? SAMPLE_LOG_DEFAULTS.flushIntervalMs;
    const problems = [
      rangeProblem("rateBps", options.rateBps, 1, BPS_PER_UNIT),
      rangeProblem(
        "fileBytesMax",
        fileBytesMax,
        SAMPLE_LOG_LIMITS.fileBytesMaxMin,
        SAMPLE_LOG_LIMITS.fileBytesMaxMax,
      ),
      rangeProblem("filesMax", filesMax, 1, SAMPLE_LOG_LIMITS.filesMaxMax),
      rangeProblem("bufferBytesMax", bufferBytesMax, 1, SAMPLE_LOG_LIMITS.bufferBytesMaxMax),
      rangeProblem("flushIntervalMs", flushIntervalMs, 0, SAMPLE_LOG_LIMITS.flushIntervalMsMax),
    ].filter((problem) => problem !== undefined);
    if (problems.length > 0)
      return { ok: false, code: "sample_log.invalid_option", message: problems.join("; ") };
    let lastSequence: number;
    try {
      mkdirSync(options.directory, { recursive: true });
      lastSequence = sampleLogFiles(options.directory).at(-1)?.sequence ?? 0;
    } catch (cause) {
      return {
        ok: false,
        code: "sample_log.directory_unusable",
        message: `${options.directory}: ${messageOf(cause)}`,
      };
    }
    const log = new PaymentSampleLog(
      options.directory,
      options.rateBps,
      fileBytesMax,
      filesMax,
      bufferBytesMax,
      flushIntervalMs,
      lastSequence,
    );
    // A new file per log: an earlier process's last file may end in a torn line.
    if (!log.startFile()) {
      log.close();
      return {
        ok: false,
        code: "sample_log.directory_unusable",
        message: `${options.directory}: ${log.writeError}`,
      };
    }
    return { ok: true, log };
  }

  /** Whether the payment id is in the sample: the same answer in every process. */
  isSampled(paymentId: string): boolean {
    return isPaymentSampled(paymentId, this.rateBps);
  }

  /** Keeps the payment when it is sampled; returns whether it was. Never throws. */
  record(payment: Payment): boolean {
    if (!isPaymentSampled(payment.paymentId, this.rateBps)) return false;
    this.counts.sampled += 1;
    if (this.closed || this.writeError !== null) {
      this.counts.dropped += 1;
      return true;
    }
    const line = `${JSON.stringify(payment)}\n`;
    const bytes = Buffer.byteLength(line);
    if (bytes > this.fileBytesMax) {
      this.counts.dropped += 1;
      return true;
    }
    if (this.fileBytes + this.pendingBytes + bytes > this.fileBytesMax) {
      this.flush();
      if (!this.rotate()) {
        this.counts.dropped += 1;
        return true;
      }
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    if (this.pendingBytes >= this.bufferBytesMax) this.flush();
    return true;
  }

  /** Writes what is buffered to the current file, all of it: a short write is carried on. */
  flush(): void {
    if (this.pending.length === 0 || this.descriptor < 0) return;
    const buffer = Buffer.from(this.pending.join(""), "utf8");
    const lines = this.pending.length;
    this.pending = [];
    const bytes = this.pendingBytes;
    this.pendingBytes = 0;
    try {
      // writeSync may write less than asked (a nearly full disk); the rest follows at once, or
      // the failure is reported and counted, rather than a torn line left counted as written.
      for (let offset = 0; offset < buffer.length; ) {
        offset += writeSync(this.descriptor, buffer, offset, buffer.length - offset);
      }
      this.fileBytes += bytes;
      this.counts.linesWritten += lines;
      this.counts.bytesWritten += bytes;
    } catch (cause) {
      this.fail(cause, lines);
    }
  }

  /** Writes the buffer and closes the file; later records are dropped. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.descriptor >= 0) {
      try {
        closeSync(this.descriptor);
      } catch (cause) {
        this.fail(cause, 0);
      }
      this.descriptor = -1;
    }
  }

  stats(): SampleLogStats {
    return { ...this.counts, writeError: this.writeError };
  }

  private rotate(): boolean {
    if (this.descriptor >= 0) {
      try {
        closeSync(this.descriptor);
      } catch (cause) {
        this.fail(cause, 0);
        return false;
      }
      this.descriptor = -1;
    }
    return this.startFile();
  }

  /** Opens the next file (never an existing one), then deletes the oldest beyond filesMax. */
  private startFile(): boolean {
    try {
      for (;;) {
        this.sequence += 1;
        const name = `payments-${String(this.sequence).padStart(8, "0")}-r${this.rateBps}.ndjson`;
        try {
          this.descriptor = openSync(join(this.directory, name), "wx");
          break;
        } catch (cause) {
          if ((cause as { code?: unknown }).code !== "EEXIST") throw cause;
        }
      }
      this.fileBytes = 0;
      this.counts.filesStarted += 1;
      const files = sampleLogFiles(this.directory);
      for (const file of files.slice(0, Math.max(0, files.length - this.filesMax))) {
        unlinkSync(file.path);
        this.counts.filesDeleted += 1;
      }
      return true;
    } catch (cause) {
      this.fail(cause, 0);
      return false;
    }
  }

  private fail(cause: unknown, linesLost: number): void {
    this.writeError ??= messageOf(cause);
    this.counts.dropped += linesLost;
  }
}

function rangeProblem(name: string, value: number, min: number, max: number): string | undefined {
  return Number.isSafeInteger(value) && value >= min && value <= max
    ? undefined
    : `${name} must be a whole number in ${min}..${max}, got ${value}`;
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
