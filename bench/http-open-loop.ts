/**
 * An open loop over HTTP: request i is due at `i / offeredPerS` seconds whatever happened to
 * earlier ones, and its latency runs from that due time to the last byte of its answer, so a
 * server that falls behind (or a client that could not send on time) shows it as latency instead
 * of hiding it by slowing the arrivals (coordinated omission). Keep-alive connections from one
 * pool, opened as needed up to `socketsMax`; a request finding them all busy waits in the pool,
 * charged to its latency.
 *
 * Why not autocannon's `overallRate`: it gives each connection a quota per second, sent
 * back-to-back at the start of each second, and times each request from its write — a burst at
 * the top of every second, its queueing hidden. bench/http.ts runs it too, for comparison.
 */
import { Agent, request } from "node:http";

export interface HttpOpenLoopOptions {
  readonly url: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The body of request i (each call may return a new one: distinct ids). */
  readonly body: (index: number) => string;
  readonly offeredPerS: number;
  readonly durationMs: number;
  readonly socketsMax: number;
  /** A request unanswered this long counts as an error and ends with the socket destroyed. */
  readonly timeoutMs: number;
  /** Called with each whole answer body; without it only the first bytes are kept (the code). */
  readonly onAnswer?: (body: string) => void;
}

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
  /** Socket count the pool opened. */
  readonly socketsOpened: number;
}

/** Between checks of the timetable: a timer, not a spin, so the loop leaves the CPU to the server. */
const TICK_MS = 1;
const CODE_PATTERN = /^\{"code":"([a-z_]+)"/;

export function httpOpenLoop(options: HttpOpenLoopOptions): Promise<HttpOpenLoopResult> {
  const total = Math.floor((options.offeredPerS * options.durationMs) / 1000);
  if (total === 0) throw new Error("an open loop needs at least one arrival");
  const target = new URL(options.path, options.url);
  // As many idle sockets kept as may be open: the default (256) would close the rest in a lull
  // and open new ones in the next burst.
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.socketsMax,
    maxFreeSockets: options.socketsMax,
  });
  const sockets = new WeakSet<object>();
  let socketsOpened = 0;
  const intervalMs = 1000 / options.offeredPerS;
  const keepWhole = options.onAnswer !== undefined;
  const latenciesMs = new Float64Array(total);
  const sendLagsMs = new Float64Array(total);
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();
  let errors = 0;
  let answered = 0;
  let settled = 0;
  let issued = 0;
  let lastSentAtMs = 0;
  let lastAnswerAtMs = 0;
  return new Promise((resolve) => {
    const startMs = performance.now();
    const finish = () => {
      agent.destroy();
      const sortedLatencies = latenciesMs.slice().sort();
      const sortedLags = sendLagsMs.sort();
      const at = (sorted: Float64Array, share: number) =>
        sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))]!;
      resolve({
        offered: total,
        answered,
        errors,
        statuses,
        codes,
        p50Ms: at(sortedLatencies, 0.5),
        p99Ms: at(sortedLatencies, 0.99),
        maxMs: sortedLatencies[total - 1]!,
        sendLagP99Ms: at(sortedLags, 0.99),
        lastSentMs: lastSentAtMs - startMs,
        lastAnswerMs: lastAnswerAtMs - startMs,
        socketsOpened,
      });
    };
    const settle = () => {
      settled += 1;
      if (settled === total) finish();
    };
    const send = (index: number) => {
      const dueMs = startMs + index * intervalMs;
      const body = options.body(index);
      const sentAtMs = performance.now();
      sendLagsMs[index] = sentAtMs - dueMs;
      lastSentAtMs = sentAtMs;
      const outgoing = request(target, {
        method: "POST",
        agent,
        headers: { ...options.headers, "content-length": Buffer.byteLength(body) },
        timeout: options.timeoutMs,
      });
      let done = false;
      const fail = () => {
        if (done) return;
        done = true;
        errors += 1;
        // An unanswered request is charged the whole time-out: it never beats the figure.
        latenciesMs[index] = Math.max(performance.now() - dueMs, options.timeoutMs);
        settle();
      };
      outgoing.on("socket", (socket) => {
        if (sockets.has(socket)) return;
        sockets.add(socket);
        socketsOpened += 1;
      });
      outgoing.on("timeout", () => outgoing.destroy(new Error("timed out")));
      outgoing.on("error", fail);
      outgoing.on("response", (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (keepWhole || text.length < 64) text += chunk;
        });
        response.on("error", fail);
        response.on("end", () => {
          if (done) return;
          done = true;
          lastAnswerAtMs = performance.now();
          latenciesMs[index] = lastAnswerAtMs - dueMs;
          answered += 1;
          const status = response.statusCode ?? 0;
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const code = CODE_PATTERN.exec(text)?.[1];
          if (code !== undefined) codes.set(code, (codes.get(code) ?? 0) + 1);
          options.onAnswer?.(text);
          settle();
        });
      });
      outgoing.end(body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - startMs) / intervalMs) + 1);
      while (issued < due) {
        send(issued);
        issued += 1;
      }
      if (issued < total) setTimeout(tick, TICK_MS);
    };
    tick();
  });
}
