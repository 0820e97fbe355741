/**
 * `bursar traffic generate` writes seeded synthetic payments as NDJSON; `bursar traffic
 * summarize` describes a file of payments (or a generated run) and reports its bad lines.
 * Flags are checked here and by resolveTrafficOptions; a bad flag is exit code 2 with a message
 * naming the flag, never a stack trace. See docs/reference/traffic.md.
 */
import { open } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import type { Command } from "@commander-js/extra-typings";
import { formatInstant, formatTrafficSummary } from "../../traffic/format-traffic-summary.ts";
import { readPaymentsNdjson } from "../../traffic/read-payments-ndjson.ts";
import { TrafficGenerator } from "../../traffic/traffic-generator.ts";
import type { TrafficOptionsInput } from "../../traffic/traffic-options.ts";
import { TrafficSummary } from "../../traffic/traffic-summary.ts";
import { writePaymentsNdjson } from "../../traffic/write-payments-ndjson.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

/** Progress goes to stderr about once a second, for a terminal or for runs this long. */
const PROGRESS_LINES_MIN = 1_000_000;
const PROGRESS_INTERVAL_MS = 1_000;
/** Generated runs are summarized in slices, checking the progress clock between slices. */
const SUMMARY_SLICE = 65_536;

interface GenerationFlags {
  seed?: string;
  tps?: string;
  seconds?: string;
  start?: string;
  users?: string;
  merchants?: string;
}

const FLAG_NAMES: Readonly<Record<keyof TrafficOptionsInput | "total", string>> = {
  seed: "--seed",
  tps: "--tps",
  seconds: "--seconds",
  startMs: "--start",
  users: "--users",
  merchants: "--merchants",
  total: "--tps × --seconds",
};

export function registerTrafficCommands(program: Command, outcome: ExitCodeHolder): void {
  const traffic = program
    .command("traffic")
    .description(
      "Seeded synthetic payment traffic: generate it as NDJSON, or summarize a file or a run.",
    );

  traffic
    .command("generate")
    .description("Write tps × seconds synthetic payments as NDJSON (deterministic for a seed).")
    .option("--seed <n>", "seed, 0..4294967295 (required)")
    .option("--tps <n>", "mean payments per second over the window (required)")
    .option("--seconds <n>", "length of the window in seconds (required)")
    .option(
      "--start <iso>",
      "start of the window with its offset (default 2025-01-16T14:40:00+08:00)",
    )
    .option("--users <n>", "user population (default 1000000)")
    .option("--merchants <n>", "merchant population (default 200000)")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (flags) => {
      const say = complainer("bursar traffic generate", outcome);
      const missing = (["seed", "tps", "seconds"] as const).filter(
        (name) => flags[name] === undefined,
      );
      if (missing.length > 0) {
        say(
          `missing ${missing.map((name) => `--${name}`).join(", ")}; generation needs a seed, a rate and a duration`,
        );
        return;
      }
      const generator = createGenerator(flags, say);
      if (generator === undefined) return;
      let output: Writable = process.stdout;
      if (flags.out !== undefined) {
        try {
          output = (await open(flags.out, "w")).createWriteStream();
        } catch (cause) {
          say(`cannot write ${flags.out}: ${reasonOf(cause)}`);
          return;
        }
      }
      const progress = new Progress("generated", generator.total);
      const result = await writePaymentsNdjson(generator, output, {
        end: flags.out !== undefined,
        onChunk: (lines) => progress.update(lines),
      });
      progress.finish(result.lines);
      if (!result.ok) {
        // A closed pipe (`| head`) means the reader has all it wants: not a failure.
        if ((result.error as { code?: unknown }).code === "EPIPE") {
          process.stdout.on("error", () => {});
          outcome.exitCode = EXIT_OK;
          return;
        }
        say(`cannot write ${flags.out ?? "stdout"}: ${result.error.message}`);
        return;
      }
      if (flags.out !== undefined)
        process.stderr.write(`wrote ${result.lines} payments to ${flags.out}\n`);
      outcome.exitCode = EXIT_OK;
    });

  traffic
    .command("summarize")
    .description(
      "Summarize NDJSON payments from FILE (- for stdin), or a generated run when no FILE is given.",
    )
    .argument("[file]", "NDJSON file of payments")
    .option("--seed <n>", "seed of a generated run")
    .option("--tps <n>", "payments per second of a generated run")
    .option("--seconds <n>", "window of a generated run, in seconds")
    .option("--start <iso>", "start of a generated run, with its offset")
    .option("--users <n>", "user population of a generated run")
    .option("--merchants <n>", "merchant population of a generated run")
    .option("--json", "print one JSON object")
    .action(async (file, flags) => {
      const say = complainer("bursar traffic summarize", outcome);
      const generationFlags = (
        ["seed", "tps", "seconds", "start", "users", "merchants"] as const
      ).filter((name) => flags[name] !== undefined);
      const summary = new TrafficSummary();
      let source: Record<string, unknown>;
      if (file !== undefined) {
        if (generationFlags.length > 0) {
          say(
            `give a FILE or generation flags, not both (got ${file} and --${generationFlags.join(", --")})`,
          );
          return;
        }
        const read = await summarizeFile(file, summary);
        if (read !== undefined) {
          say(read);
          return;
        }
        source = { file };
      } else {
        const missing = (["seed", "tps", "seconds"] as const).filter(
          (name) => flags[name] === undefined,
        );
        if (missing.length > 0) {
          say(
            `give a FILE, or --seed, --tps and --seconds to summarize a generated run (missing --${missing.join(", --")})`,
          );
          return;
        }
        const generator = createGenerator(flags, say);
        if (generator === undefined) return;
        summarizeGenerated(generator, summary);
        const { seed, tps, seconds, startMs, users, merchants } = generator.options;
        source = { seed, tps, seconds, startMs, users, merchants };
      }
      const report = summary.report();
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify({ source, ...report })}\n`);
      } else {
        process.stdout.write(formatTrafficSummary(report, describeSource(source)));
      }
      outcome.exitCode = report.badLines > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}

type Complain = (message: string) => void;

/** Reports a problem with the invocation on stderr and sets exit code 2. */
function complainer(command: string, outcome: ExitCodeHolder): Complain {
  return (message) => {
    process.stderr.write(`${command}: ${message}\n`);
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  };
}

function createGenerator(flags: GenerationFlags, say: Complain): TrafficGenerator | undefined {
  const problems: string[] = [];
  // Flags that are not numbers at all are reported once, here, and not again as out of range.
  const unparsed = new Set<string>();
  const whole = (name: keyof GenerationFlags): number | undefined => {
    const text = flags[name];
    if (text === undefined) return undefined;
    if (/^\d{1,16}$/.test(text)) return Number(text);
    problems.push(
      `--${name}: expected a whole number, got ${JSON.stringify(text)} [traffic.not_integer]`,
    );
    unparsed.add(FLAG_NAMES[name as keyof typeof FLAG_NAMES]);
    return Number.NaN;
  };
  const seed = whole("seed") ?? Number.NaN;
  const tps = whole("tps") ?? Number.NaN;
  const seconds = whole("seconds") ?? Number.NaN;
  const users = whole("users");
  const merchants = whole("merchants");
  let startMs: number | undefined;
  if (flags.start !== undefined) {
    startMs = parseInstantWithOffset(flags.start);
    if (startMs === undefined) {
      problems.push(
        `--start: expected a date and time with its offset, such as 2025-01-16T14:40:00+08:00, got ${JSON.stringify(flags.start)} [traffic.invalid_instant]`,
      );
    }
  }
  const created = TrafficGenerator.create({ seed, tps, seconds, startMs, users, merchants });
  if (created.ok && problems.length === 0) return created.generator;
  if (!created.ok) {
    for (const error of created.errors) {
      const flag = FLAG_NAMES[error.option];
      if (!unparsed.has(flag)) problems.push(`${flag}: ${error.message} [${error.code}]`);
    }
  }
  for (const problem of problems) say(problem);
  return undefined;
}

const INSTANT_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * Epoch milliseconds of `2025-01-16T14:40:00+08:00` (seconds and milliseconds optional, `Z` for
 * UTC). The offset is required: a bare local time would depend on the machine's time zone.
 * Impossible dates (February 30th) are refused rather than rolled over as Date.parse does.
 */
export function parseInstantWithOffset(text: string): number | undefined {
  const match = INSTANT_PATTERN.exec(text);
  if (match === null) return undefined;
  const [
    ,
    yearText,
    monthText,
    dayText,
    hourText,
    minuteText,
    secondText,
    millisText,
    zone,
    sign,
    offsetHoursText,
    offsetMinutesText,
  ] = match;
  const year = Number(yearText);
  const month = Number(monthText);
  const day = Number(dayText);
  const hour = Number(hourText);
  const minute = Number(minuteText);
  const second = Number(secondText ?? "0");
  const millis = Number((millisText ?? "0").padEnd(3, "0"));
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const wall = new Date(wallMs);
  const sameDate =
    wall.getUTCFullYear() === year && wall.getUTCMonth() === month - 1 && wall.getUTCDate() === day;
  if (!sameDate || hour > 23 || minute > 59 || second > 59) return undefined;
  if (zone!.toUpperCase() === "Z") return wallMs;
  const offsetHours = Number(offsetHoursText);
  const offsetMinutes = Number(offsetMinutesText);
  if (offsetHours > 18 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (sign === "-" ? -1 : 1);
  return wallMs - offsetMs;
}
/** Reads and summarizes a file; returns a message when the file cannot be read at all. */
async function summarizeFile(file: string, summary: TrafficSummary): Promise<string | undefined> {
  let input: Readable;
  if (file === "-") {
    input = process.stdin;
  } else {
    try {
      input = (await open(file, "r")).createReadStream({ highWaterMark: 65_536 });
    } catch (cause) {
      return `cannot read ${file}: ${reasonOf(cause)}`;
    }
  }
  const progress = new Progress("read", undefined);
  let lines = 0;
  try {
    for await (const result of readPaymentsNdjson(input, {
      file: file === "-" ? "<stdin>" : file,
    })) {
      if (result.ok) summary.add(result.payment);
      else summary.addBadLine(result.line, result.findings);
      lines += 1;
      if ((lines & 0xffff) === 0) progress.update(lines);
    }
  } catch (cause) {
    return `cannot read ${file}: ${reasonOf(cause)}`;
  } finally {
    progress.finish(lines);
  }
  return undefined;
}

function summarizeGenerated(generator: TrafficGenerator, summary: TrafficSummary): void {
  const progress = new Progress("summarized", generator.total);
  let count = 0;
  for (
    let payment = generator.nextPayment();
    payment !== undefined;
    payment = generator.nextPayment()
  ) {
    summary.add(payment);
    count += 1;
    if (count % SUMMARY_SLICE === 0) progress.update(count);
  }
  progress.finish(count);
}

function describeSource(source: Record<string, unknown>): string {
  if (typeof source.file === "string") return source.file === "-" ? "stdin" : source.file;
  const { seed, tps, seconds, startMs, users, merchants } = source as Record<string, number>;
  return `generated, seed ${seed}, ${tps} payments/s for ${seconds} s from ${formatInstant(startMs!)} (${users} users, ${merchants} merchants)`;
}

/**
 * Progress on stderr, at most once a second: for a person at a terminal, or for long runs whose
 * stderr is a log. The interface layer may read the clock; the generator never does.
 */
class Progress {
  private readonly enabled: boolean;
  private lastMs = performance.now();
  private shown = false;

  constructor(
    private readonly verb: string,
    private readonly total: number | undefined,
  ) {
    this.enabled =
      process.stderr.isTTY === true || (total !== undefined && total > PROGRESS_LINES_MIN);
  }

  update(done: number): void {
    if (!this.enabled) return;
    const nowMs = performance.now();
    if (nowMs - this.lastMs < PROGRESS_INTERVAL_MS) return;
    this.lastMs = nowMs;
    this.shown = true;
    const percent =
      this.total === undefined
        ? ""
        : ` / ${this.total} (${Math.floor((done / this.total) * 100)} %)`;
    process.stderr.write(`${this.verb} ${done}${percent} payments\n`);
  }

  finish(done: number): void {
    if (this.shown) process.stderr.write(`${this.verb} ${done} payments, done\n`);
  }
}

function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown })?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  if (code === "EISDIR") return "is a directory";
  return cause instanceof Error ? cause.message : String(cause);
}
