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
import type { TrafficGenerator } from "../../traffic/traffic-generator.ts";
import { TrafficSummary } from "../../traffic/traffic-summary.ts";
import { writePaymentsNdjson } from "../../traffic/write-payments-ndjson.ts";
import { EXIT_FINDINGS, EXIT_OK, type ExitCodeHolder } from "../exit-codes.ts";
import { Progress } from "../progress.ts";
import { complainer, createGenerator, reasonOf } from "../traffic-flags.ts";

/** Generated runs are summarized in slices, checking the progress clock between slices. */
const SUMMARY_SLICE = 65_536;

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
