/**
 * The crash test's load generator: a child process that opens the SQLite ledger store on a
 * database file and keeps many reserve, commit and release calls in flight until it is killed.
 * It never exits on its own while its parent lives; any error is printed and ends it with code 3,
 * which the crash loop reports as a failure (a kill must be the only way it stops).
 *
 *   node --import tsx test/crash/crash-load-generator.ts --database F --acknowledgements F
 *     --run N --seed S [--concurrency C]
 *
 * It prints `opening` before opening the store and `ready` once open (recovery done), so the
 * parent can aim kills at the opening or at the load. Every answer is recorded in the
 * acknowledgement log after it arrives (acknowledgement-log.ts). Choices (which ids, duplicates,
 * retries of earlier runs' ids, settlements) come from the seed; timing does not.
 */
import { parseArgs } from "node:util";
import type { ReservationRequest } from "../../src/core/ledger/reservation.ts";
import type { SettleCommand } from "../../src/core/ledger/settlement.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";
import { AcknowledgementLogWriter } from "./acknowledgement-log.ts";
import { type CrashVariant, crashPaymentId, crashRequest } from "./crash-workload.ts";

/** Ids of earlier runs a retry picks from: most runs issue fewer, so some retries are first tries. */
const EARLIER_SEQUENCE_MAX = 400;
/** How far back retries reach, in runs. */
const EARLIER_RUNS_MAX = 40;
const HOLD_MS_MAX = 25;
const SYNC_INTERVAL_MS = 100;

interface GeneratorOptions {
  readonly database: string;
  readonly acknowledgements: string;
  readonly run: number;
  readonly seed: number;
  readonly concurrency: number;
}

function parseOptions(): GeneratorOptions {
  const { values } = parseArgs({
    options: {
      database: { type: "string" },
      acknowledgements: { type: "string" },
      run: { type: "string" },
      seed: { type: "string" },
      concurrency: { type: "string", default: "48" },
    },
  });
  const whole = (name: string, text: string | undefined) => {
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`--${name} must be a whole number`);
    return value;
  };
  if (values.database === undefined || values.acknowledgements === undefined) {
    throw new Error("--database and --acknowledgements are required");
  }
  return {
    database: values.database,
    acknowledgements: values.acknowledgements,
    run: whole("run", values.run),
    seed: whole("seed", values.seed),
    concurrency: Math.max(1, whole("concurrency", values.concurrency)),
  };
}

class LoadGenerator {
  private nextSequence = 0;

  constructor(
    private readonly store: SqliteLedgerStore,
    private readonly log: AcknowledgementLogWriter,
    private readonly run: number,
  ) {}

  /** One of many concurrent loops; each has its own random stream, so choices are seeded. */
  async loop(random: SeededRandom): Promise<never> {
    for (;;) {
      const roll = random.nextFloat();
      if (roll < 0.62) await this.reserveNew(random, random.nextFloat() < 0.12);
      else if (roll < 0.72) await this.reserveBatch(random);
      else if (roll < 0.86) await this.reserve([this.request(this.earlierId(random), "n")]);
      else if (roll < 0.9) await this.reserve([this.request(this.earlierId(random), "x")]);
      else await this.settleEarlier(random);
    }
  }

  private request(paymentId: string, variant: CrashVariant): ReservationRequest {
    return crashRequest(paymentId, variant, Date.now());
  }

  private newId(): string {
    const id = crashPaymentId(this.run, this.nextSequence);
    this.nextSequence += 1;
    return id;
  }

  private earlierId(random: SeededRandom): string {
    // This run's own ids too: a retry may race the first attempt.
    const back = Math.floor(random.nextFloat() * Math.min(this.run + 1, EARLIER_RUNS_MAX));
    const run = this.run - back;
    const sequenceMax = run === this.run ? Math.max(1, this.nextSequence) : EARLIER_SEQUENCE_MAX;
    return crashPaymentId(run, Math.floor(random.nextFloat() * sequenceMax));
  }

  /** A new payment, sometimes sent twice at once (a client retrying before the first answer). */
  private async reserveNew(random: SeededRandom, twice: boolean): Promise<void> {
    const request = this.request(this.newId(), "n");
    const attempts = twice
      ? [this.reserve([request]), this.reserve([request])]
      : [this.reserve([request])];
    const [granted] = await Promise.all(attempts);
    if (granted) await this.settleLater(random, request.paymentId);
  }

  /** Several payments in one call, sometimes with one of them twice. */
  private async reserveBatch(random: SeededRandom): Promise<void> {
    const requests = Array.from({ length: 2 + Math.floor(random.nextFloat() * 4) }, () =>
      this.request(this.newId(), "n"),
    );
    if (random.nextFloat() < 0.3) requests.push(requests[0]!);
    await this.reserve(requests);
  }

  /** Returns whether the first request's answer was a fresh reservation of this call. */
  private async reserve(requests: readonly ReservationRequest[]): Promise<boolean> {
    const results = await this.store.reserve(requests);
    results.forEach((result, index) => {
      const request = requests[index]!;
      this.log.append({
        type: "reserve",
        paymentId: request.paymentId,
        variant: request.contentKey.startsWith("crash-x:") ? "x" : "n",
        result,
      });
    });
    const first = results[0];
    return first?.code === "answered" && !first.replayed && first.answer.code === "reserved";
  }

  /** Most reservations are released or committed after a short hold; the rest expire. */
  private async settleLater(random: SeededRandom, paymentId: string): Promise<void> {
    const roll = random.nextFloat();
    const holdMs = Math.floor(random.nextFloat() * HOLD_MS_MAX);
    if (roll < 0.5) {
      await sleep(holdMs);
      await this.settle({ kind: "release", paymentId, atMs: Date.now() });
    } else if (roll < 0.56) {
      await sleep(holdMs);
      // Mostly partial commits of a few units: budgets are spent slowly, so the kills keep
      // landing on contended budgets rather than on spent ones.
      const totalMinor =
        random.nextFloat() < 0.05 ? undefined : 1 + Math.floor(random.nextFloat() * 3);
      await this.settle({ kind: "commit", paymentId, atMs: Date.now(), totalMinor });
    }
  }

  private async settleEarlier(random: SeededRandom): Promise<void> {
    const paymentId = this.earlierId(random);
    const atMs = Date.now();
    await this.settle(
      random.nextFloat() < 0.7
        ? { kind: "release", paymentId, atMs }
        : { kind: "commit", paymentId, atMs, totalMinor: 1 },
    );
  }

  private async settle(command: SettleCommand): Promise<void> {
    const [answer] = await this.store.settle([command]);
    this.log.append({ type: "settle", command: command.kind, answer: answer! });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function main(): Promise<void> {
  const options = parseOptions();
  // The parent holds our stdin open; if it dies, stdin ends and so do we, leaving no orphans.
  process.stdin.on("end", () => process.exit(0));
  process.stdin.resume();
  const log = new AcknowledgementLogWriter(options.acknowledgements);
  process.stdout.write("opening\n");
  const store = await SqliteLedgerStore.open({ path: options.database, nowMs: Date.now });
  process.stdout.write(`ready ${JSON.stringify(store.recovery)}\n`);
  setInterval(() => log.sync(), SYNC_INTERVAL_MS);
  const generator = new LoadGenerator(store, log, options.run);
  const loops = Array.from({ length: options.concurrency }, (_, index) =>
    generator.loop(new SeededRandom(options.seed, index)),
  );
  await Promise.all(loops);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load generator failed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(3);
});
