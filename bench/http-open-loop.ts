/**
 * An open loop over HTTP: request i is due at `i / offeredPerS` seconds whatever happened to
 * earlier ones, and its latency runs from that due time to the last byte of its answer, so a
 * server that falls behind (or a client that could not send on time) shows it as latency instead
 * of hiding it by slowing the arrivals (coordinated omission). Keep-alive connections from one
 * pool, opened as needed up to `socketsMax`; a request finding them all busy waits in the pool,
 * charged to its latency.
 *
 * A warm-up ramps the rate up from nothing to the offered rate, then the measured window follows
 * on the same timetable and the same connections without a pause; the warm-up's arrivals are
 * sent and answered like the rest but counted apart. So the window starts on a warm server with
 * warm connections, as a service behind a load balancer's slow start would. Two ways that
 * measured the cold start instead, on the 2-core VM: a warm-up loop of its own at the full rate,
 * then the window as a second loop, began the window by opening hundreds of sockets at once
 * while the first arrivals queued behind them (the window's first quarter second carried most of
 * its slowest answers: p99 180–300 ms against 6–45 ms for each later quarter second); a warm-up
 * at the full rate on the same timetable left a cold server seconds behind (warm-up p99 3.2–8.9 s),
 * a backlog the window inherited.
 *
 * Why not autocannon's `overallRate`: it gives each connection a quota per second, sent
 * back-to-back at the start of each second, and times each request from its write — a burst at
 * the top of every second, its queueing hidden. bench/http.ts runs it too, for comparison.
 *
 * Why raw sockets and not node:http's Agent: the client shares the VM's two cores with the server
 * it measures, so its own cost is charged twice — as CPU the server cannot have, and as answers
 * read late (an answer waiting in the client's socket buffer while its event loop works counts as
 * latency). At 5,000 requests/s node:http's client used 0.55–0.74 CPU seconds per second, more
 * than half the server's; this one writes each request as one string and reads an answer by its
 * status line and `content-length` alone (the servers measured here always send one), with one
 * sweep every `SWEEP_MS` for time-outs instead of a timer per request. Anything else it does not
 * understand (no content-length, chunked, an unparsable status line) fails the request and closes
 * the socket: a figure is never taken from answers it misread.
 */
import { connect, type Socket } from "node:net";

export interface HttpOpenLoopOptions {
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body of request i (each call may return a new one: distinct ids). */
  readonly body: (index: number) => string;
  readonly offeredPerS: number;
  /**
   * Before the measured window, the rate rises linearly from 0 to `offeredPerS` over this long
   * (half as many arrivals as the full rate would bring), on the same connections; 0 for none.
   */
  readonly warmUpMs?: number;
  /** The measured window. */
  readonly durationMs: number;
  readonly socketsMax: number;
  /** A request unanswered this long counts as an error and ends with the socket destroyed. */
  readonly timeoutMs: number;
  /**
   * Called with each whole answer body of the measured window; without it only the first bytes
   * are kept (the code).
   */
  readonly onAnswer?: (body: string) => void;
  /** Called once, as the first measured arrival is due (to start meters over the window). */
  readonly onWarmedUp?: () => void;
}

/** What the loop saw of one part of its arrivals: the warm-up's, or the measured window's. */
export interface HttpOpenLoopResult {
  readonly offered: number;
  readonly answered: number;
  readonly errors: number;
  /** Answers by HTTP status. */
  readonly statuses: ReadonlyMap<number, number>;
  /** Answers by the body's leading `"code"` field (the ledger's answer), when it has one. */
  readonly codes: ReadonlyMap<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** 99th percentile of how late the loop sent a request after its due time (the client's part). */
  readonly sendLagP99Ms: number;
  /** From the first due time to the last send: above the duration, the client fell behind. */
  readonly lastSentMs: number;
  /** From the first due time to the last answer. */
  readonly lastAnswerMs: number;
  /** Socket count the pool opened, warm-up included. */
  readonly socketsOpened: number;
  /** The same figures for the warm-up's arrivals (none without a warm-up). */
  readonly warmUp: Omit<HttpOpenLoopResult, "warmUp" | "socketsOpened">;
}

/** Between checks of the timetable: a timer, not a spin, so the loop leaves the CPU to the server. */
const TICK_MS = 1;
/** Between sweeps for requests past their time-out. */
const SWEEP_MS = 100;
const CODE_PATTERN = /^\{"code":"([a-z_]+)"/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i;
const CONNECTION_CLOSE = /\r\nconnection:[ \t]*close[ \t]*\r\n/i;
const HEADER_END = Buffer.from("\r\n\r\n");
/** Bytes of a body kept when the whole is not asked for: enough for the leading code. */
const CODE_PREFIX_BYTES = 64;

/** One keep-alive connection and the request it carries, if any. */
interface Connection {
  readonly socket: Socket;
  /** The request in flight, or -1 when idle. */
  index: number;
  /** Bytes of the answer so far (header and body). */
  received: Buffer[];
  receivedBytes: number;
}

/**
 * The figures of one part of the arrivals — the warm-up's or the measured window's — kept apart,
 * each indexed from the part's first arrival.
 */
class Tally {
  readonly latenciesMs: Float64Array;
  readonly sendLagsMs: Float64Array;
  readonly statuses = new Map<number, number>();
  readonly codes = new Map<string, number>();
  answered = 0;
  errors = 0;
  lastSentAtMs = 0;
  lastAnswerAtMs = 0;

  constructor(
    /** The loop's index of the part's first arrival. */
    readonly first: number,
    readonly count: number,
  ) {
    this.latenciesMs = new Float64Array(count);
    this.sendLagsMs = new Float64Array(count);
  }

  /** The part's figures, its times counted from `firstDueMs` (its first arrival's due time). */
  result(firstDueMs: number): HttpOpenLoopResult["warmUp"] {
    const sortedLatencies = this.latenciesMs.slice().sort();
    const sortedLags = this.sendLagsMs.slice().sort();
    const at = (sorted: Float64Array, share: number) =>
      sorted.length === 0
        ? Number.NaN
        : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
    return {
      offered: this.count,
      answered: this.answered,
      errors: this.errors,
      statuses: this.statuses,
      codes: this.codes,
      p50Ms: at(sortedLatencies, 0.5),
      p99Ms: at(sortedLatencies, 0.99),
      maxMs: at(sortedLatencies, 1),
      sendLagP99Ms: at(sortedLags, 0.99),
      lastSentMs: this.lastSentAtMs - firstDueMs,
      lastAnswerMs: this.lastAnswerAtMs - firstDueMs,
    };
  }
}

/**
 * When each arrival is due, in ms from the loop's start: a ramp from 0 to `offeredPerS` over
 * `warmUpMs` — the n-th arrival is due when the area under the rising rate reaches n — then one
 * every 1000 / `offeredPerS` ms.
 */
export function openLoopTimetable(offeredPerS: number, warmUpMs: number) {
  const intervalMs = 1000 / offeredPerS;
  const warmUpCount = Math.floor((offeredPerS * warmUpMs) / 2000);
  return {
    /** The ramp's arrivals: half what the full rate would bring over `warmUpMs`. */
    warmUpCount,
    dueMsOf: (index: number) =>
      index < warmUpCount
        ? Math.sqrt((2000 * warmUpMs * index) / offeredPerS)
        : warmUpMs + (index - warmUpCount) * intervalMs,
    /** How many arrivals are due `elapsedMs` after the start (arrival 0 is due at once). */
    dueBy: (elapsedMs: number) =>
      elapsedMs < warmUpMs
        ? Math.min(
            warmUpCount,
            Math.floor((offeredPerS * elapsedMs * elapsedMs) / (2000 * warmUpMs)) + 1,
          )
        : warmUpCount + Math.floor((elapsedMs - warmUpMs) / intervalMs) + 1,
  };
}

export function httpOpenLoop(options: HttpOpenLoopOptions): Promise<HttpOpenLoopResult> {
  const timetable = openLoopTimetable(options.offeredPerS, options.warmUpMs ?? 0);
  const { warmUpCount } = timetable;
  const windowCount = Math.floor((options.offeredPerS * options.durationMs) / 1000);
  if (windowCount === 0) throw new Error("an open loop needs at least one measured arrival");
  const total = warmUpCount + windowCount;
  const target = new URL(options.path, options.url);
  if (target.protocol !== "http:")
    throw new Error(`the open loop speaks plain HTTP, not ${target.protocol}`);
  const port = Number(target.port || 80);
  const head = `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n${Object.entries(
    options.headers,
  )
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}`;
  const keepWhole = options.onAnswer !== undefined;
  const warmUp = new Tally(0, warmUpCount);
  const measured = new Tally(warmUpCount, windowCount);
  const tallyOf = (index: number) => (index < warmUpCount ? warmUp : measured);
  const dueMsOf = (index: number) => startMs + timetable.dueMsOf(index);
  const idle: Connection[] = [];
  const open = new Set<Connection>();
  /** Requests due but waiting for a connection, oldest first. */
  const waiting: number[] = [];
  let waitingHead = 0;
  let socketsOpened = 0;
  let settled = 0;
  let issued = 0;
  let startMs = 0;
  return new Promise((resolve) => {
    let tickTimer: NodeJS.Timeout | undefined;
    const sweepTimer = setInterval(() => {
      const now = performance.now();
      const late = (index: number) => now - dueMsOf(index) > options.timeoutMs;
      // Requests still waiting for a socket first (oldest first): past their time-out they are
      // never sent, so a late queue does not churn a connection each through the loop below.
      while (waitingHead < waiting.length && late(waiting[waitingHead]!)) {
        failRequest(waiting[waitingHead]!);
        waitingHead += 1;
      }
      // A copy: failing a connection may open another for a waiting request.
      for (const connection of [...open]) {
        if (connection.index >= 0 && late(connection.index)) fail(connection);
      }
    }, SWEEP_MS);
    const finish = () => {
      clearInterval(sweepTimer);
      if (tickTimer !== undefined) clearTimeout(tickTimer);
      for (const connection of open) connection.socket.destroy();
      resolve({
        ...measured.result(dueMsOf(warmUpCount)),
        socketsOpened,
        warmUp: warmUp.result(startMs),
      });
    };
    const settle = () => {
      settled += 1;
      if (settled === total) finish();
    };
    /** Ends the connection's request (if any) as an error and the connection with it. */
    const fail = (connection: Connection) => {
      const index = connection.index;
      connection.index = -1;
      open.delete(connection);
      const at = idle.indexOf(connection);
      if (at >= 0) idle.splice(at, 1);
      connection.socket.destroy();
      if (index >= 0) failRequest(index);
      // A connection lost may leave requests waiting with nothing to carry them.
      drainWaiting();
    };
    /** A request unanswered: an error, charged the whole time-out so it never beats the figure. */
    const failRequest = (index: number) => {
      const tally = tallyOf(index);
      tally.errors += 1;
      tally.latenciesMs[index - tally.first] = Math.max(
        performance.now() - dueMsOf(index),
        options.timeoutMs,
      );
      settle();
    };
    const write = (connection: Connection, index: number) => {
      const body = options.body(index);
      connection.index = index;
      connection.received = [];
      connection.receivedBytes = 0;
      connection.socket.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const opened = (): Connection => {
      const socket = connect({ host: target.hostname, port, noDelay: true });
      const connection: Connection = { socket, index: -1, received: [], receivedBytes: 0 };
      socketsOpened += 1;
      open.add(connection);
      socket.on("data", (chunk: Buffer) => receive(connection, chunk));
      socket.on("error", () => fail(connection));
      socket.on("close", () => {
        if (open.has(connection)) fail(connection);
      });
      return connection;
    };
    /** Request `index` leaves the timetable: on a free socket now, else first in line for one. */
    const send = (index: number) => {
      // How late the loop itself was; a wait for a socket is the server's, and is in the latency.
      const sentAtMs = performance.now();
      const tally = tallyOf(index);
      tally.sendLagsMs[index - tally.first] = sentAtMs - dueMsOf(index);
      tally.lastSentAtMs = sentAtMs;
      const connection = idle.pop() ?? (open.size < options.socketsMax ? opened() : undefined);
      if (connection === undefined) waiting.push(index);
      else write(connection, index);
    };
    const drainWaiting = () => {
      while (waitingHead < waiting.length) {
        const connection = idle.pop() ?? (open.size < options.socketsMax ? opened() : undefined);
        if (connection === undefined) return;
        write(connection, waiting[waitingHead]!);
        waitingHead += 1;
      }
    };
    const receive = (connection: Connection, chunk: Buffer) => {
      if (connection.index < 0) {
        fail(connection);
        return;
      }
      connection.received.push(chunk);
      connection.receivedBytes += chunk.length;
      const bytes =
        connection.received.length === 1
          ? chunk
          : Buffer.concat(connection.received, connection.receivedBytes);
      connection.received = [bytes];
      const headerEnd = bytes.indexOf(HEADER_END);
      if (headerEnd < 0) return;
      const header = bytes.toString("latin1", 0, headerEnd + 2);
      const status = STATUS_LINE.exec(header)?.[1];
      const length = CONTENT_LENGTH.exec(header)?.[1];
      if (status === undefined || length === undefined) {
        fail(connection);
        return;
      }
      const bodyStart = headerEnd + HEADER_END.length;
      const bodyEnd = bodyStart + Number(length);
      if (bytes.length < bodyEnd) return;
      if (bytes.length > bodyEnd) {
        fail(connection);
        return;
      }
      const index = connection.index;
      const tally = tallyOf(index);
      const answeredAtMs = performance.now();
      tally.lastAnswerAtMs = answeredAtMs;
      tally.latenciesMs[index - tally.first] = answeredAtMs - dueMsOf(index);
      tally.answered += 1;
      const code = Number(status);
      tally.statuses.set(code, (tally.statuses.get(code) ?? 0) + 1);
      const text = bytes.toString(
        "utf8",
        bodyStart,
        keepWhole ? bodyEnd : Math.min(bodyEnd, bodyStart + CODE_PREFIX_BYTES),
      );
      const answerCode = CODE_PATTERN.exec(text)?.[1];
      if (answerCode !== undefined)
        tally.codes.set(answerCode, (tally.codes.get(answerCode) ?? 0) + 1);
      if (tally === measured) options.onAnswer?.(text);
      connection.index = -1;
      connection.received = [];
      connection.receivedBytes = 0;
      if (CONNECTION_CLOSE.test(header)) {
        open.delete(connection);
        connection.socket.destroy();
      } else {
        idle.push(connection);
      }
      settle();
      drainWaiting();
    };
    const tick = () => {
      const due = Math.min(total, timetable.dueBy(performance.now() - startMs));
      while (issued < due) {
        if (issued === warmUpCount) options.onWarmedUp?.();
        send(issued);
        issued += 1;
      }
      if (issued < total) tickTimer = setTimeout(tick, TICK_MS);
    };
    startMs = performance.now();
    tick();
  });
}
