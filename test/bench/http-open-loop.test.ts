/**
 * The benchmark's raw-socket HTTP client (bench/http-open-loop.ts) against real node:http servers
 * on loopback: it must count what a server answered exactly, and refuse to take a figure from an
 * answer it cannot read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { httpOpenLoop, openLoopTimetable } from "../../bench/http-open-loop.ts";

const servers: Server[] = [];
/** Per server, in order: every connection it accepted. */
const connectionsOf = new Map<Server, Socket[]>();

async function serve(
  handle: (request: IncomingMessage, body: string, response: ServerResponse) => void,
  onServer?: (server: Server) => void,
): Promise<string> {
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => handle(request, body, response));
  });
  servers.push(server);
  onServer?.(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A small open loop of empty bodies; each test changes what it is about. */
const LOOP = {
  path: "/v1/things",
  headers: {},
  body: () => "{}",
  offeredPerS: 400,
  durationMs: 250,
  socketsMax: 8,
  timeoutMs: 2_000,
};

describe("httpOpenLoop", () => {
  it("sends every request with its headers and body, and reads every answer whole", async () => {
    const seen: string[] = [];
    const url = await serve((request, body, response) => {
      seen.push(`${request.method} ${request.url} ${request.headers.authorization} ${body}`);
      const index = Number(JSON.parse(body).index);
      // Statuses and codes by index; a multi-byte character checks the byte count of bodies.
      const status = index % 4 === 0 ? 409 : 200;
      const answer = JSON.stringify({
        code: index % 2 === 0 ? "reserved" : "no_subsidy",
        note: "补贴",
        index,
      });
      // As Fastify does: a whole body with its length (writeHead alone would make node chunk it).
      response.writeHead(status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(answer),
      });
      response.end(answer);
    });
    const bodies: string[] = [];
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      headers: { authorization: "Bearer t", "content-type": "application/json" },
      body: (index) => JSON.stringify({ index }),
      onAnswer: (body) => bodies.push(body),
    });
    expect(result.offered).toBe(100);
    expect(result.answered).toBe(100);
    expect(result.errors).toBe(0);
    expect(Object.fromEntries(result.statuses)).toEqual({ 200: 75, 409: 25 });
    expect(Object.fromEntries(result.codes)).toEqual({ reserved: 50, no_subsidy: 50 });
    expect(seen).toHaveLength(100);
    expect(seen[7]).toBe('POST /v1/things Bearer t {"index":7}');
    expect(bodies.map((body) => JSON.parse(body).index).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, index) => index),
    );
    expect(bodies.every((body) => body.includes("补贴"))).toBe(true);
    expect(result.socketsOpened).toBeGreaterThan(0);
    expect(result.socketsOpened).toBeLessThanOrEqual(LOOP.socketsMax);
    expect(result.p50Ms).toBeGreaterThan(0);
    expect(result.p99Ms).toBeGreaterThanOrEqual(result.p50Ms);
    expect(result.maxMs).toBeGreaterThanOrEqual(result.p99Ms);
  });

  it("charges a slow server's queue to the requests that waited in it (one socket)", async () => {
    const url = await serve((_request, _body, response) => {
      setTimeout(() => response.end('{"code":"reserved"}'), 20);
    });
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      socketsMax: 1,
      offeredPerS: 200,
      durationMs: 100,
    });
    expect(result.answered).toBe(20);
    // 20 arrivals in 100 ms through one socket at ≥ 20 ms each: the last waits ≥ 19 × 20 − 95 ms.
    expect(result.maxMs).toBeGreaterThan(250);
    expect(result.socketsOpened).toBe(1);
    // The wait for the socket is latency, not the loop sending late.
    expect(result.sendLagP99Ms).toBeLessThan(result.maxMs / 2);
  });

  it("counts an answer it cannot frame (chunked, no content-length) as an error, not an answer", async () => {
    const url = await serve((_request, _body, response) => {
      response.write('{"code":');
      setTimeout(() => response.end('"reserved"}'), 5);
    });
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      durationMs: 50,
    });
    expect(result.offered).toBe(20);
    expect(result.answered).toBe(0);
    expect(result.errors).toBe(20);
    expect(result.codes.size).toBe(0);
  });

  it("opens a new connection after a server closes one (connection: close)", async () => {
    const url = await serve((_request, _body, response) => {
      response.setHeader("connection", "close");
      response.end('{"code":"reserved"}');
    });
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      durationMs: 50,
    });
    expect(result.answered).toBe(20);
    expect(result.errors).toBe(0);
    expect(result.socketsOpened).toBe(20);
  });

  it("times out a request never answered, charged the whole time-out", async () => {
    const url = await serve(() => {
      // Never answers.
    });
    const startedMs = performance.now();
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      durationMs: 10,
      offeredPerS: 200,
      timeoutMs: 300,
    });
    expect(result.offered).toBe(2);
    expect(result.errors).toBe(2);
    // Given up only once the time-out passed, not failed early and charged it.
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(300);
    expect(result.p50Ms).toBeGreaterThanOrEqual(300);
  });

  it("gives up requests that waited past their time-out for a socket without opening one each", async () => {
    const url = await serve(() => {
      // Never answers: the one socket stays busy, the rest wait for it.
    });
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      socketsMax: 1,
      durationMs: 20,
      offeredPerS: 1_000,
      timeoutMs: 300,
    });
    expect(result.offered).toBe(20);
    expect(result.errors).toBe(20);
    expect(result.answered).toBe(0);
    // The first sweep past 300 ms may find only the request on the socket late and hand the next
    // (still in time) a new socket; the next sweep gives up every one still waiting, unsent.
    // Sending each late request on a socket of its own would open 20.
    expect(result.socketsOpened).toBeLessThanOrEqual(2);
  });

  it("ramps a warm-up up on the same connections and counts its arrivals apart from the window's", async () => {
    /** By request index: the connection (its place among the server's) that carried it. */
    const carriedBy = new Map<number, number>();
    let server: Server | undefined;
    const url = await serve(
      (request, body, response) => {
        const index = Number(JSON.parse(body).index);
        carriedBy.set(index, connectionsOf.get(server!)!.indexOf(request.socket));
        response.end(JSON.stringify({ code: index < 40 ? "warm" : "measured" }));
      },
      (created) => {
        server = created;
        connectionsOf.set(created, []);
        created.on("connection", (socket: Socket) => connectionsOf.get(created)!.push(socket));
      },
    );
    const answers: string[] = [];
    let seenWhenWarmedUp = -1;
    const result = await httpOpenLoop({
      ...LOOP,
      url,
      // 400/s ramped over 200 ms: 40 arrivals, then 100 over the 250 ms window.
      warmUpMs: 200,
      body: (index) => JSON.stringify({ index }),
      onAnswer: (body) => answers.push(body),
      onWarmedUp: () => {
        seenWhenWarmedUp = carriedBy.size;
      },
    });
    expect(result.warmUp.offered).toBe(40);
    expect(result.warmUp.answered).toBe(40);
    expect(Object.fromEntries(result.warmUp.codes)).toEqual({ warm: 40 });
    expect(result.offered).toBe(100);
    expect(result.answered).toBe(100);
    expect(Object.fromEntries(result.codes)).toEqual({ measured: 100 });
    // Only the window's answers reach the callback, and the window's meters start before it.
    expect(answers).toHaveLength(100);
    expect(answers.every((answer) => answer.includes("measured"))).toBe(true);
    expect(seenWhenWarmedUp).toBeGreaterThanOrEqual(0);
    expect(seenWhenWarmedUp).toBeLessThanOrEqual(40);
    // One pool for both: every connection the server accepted is one the loop counted, and the
    // window went on over connections the warm-up opened.
    expect(connectionsOf.get(server!)!.length).toBe(result.socketsOpened);
    const warmUpConnections = new Set(
      [...carriedBy].filter(([index]) => index < 40).map(([, at]) => at),
    );
    expect([...carriedBy].some(([index, at]) => index >= 40 && warmUpConnections.has(at))).toBe(
      true,
    );
    expect(result.warmUp.p99Ms).toBeGreaterThan(0);
  });
});

describe("openLoopTimetable", () => {
  it("ramps the rate up linearly over the warm-up, then keeps the offered rate", () => {
    const { warmUpCount, dueMsOf, dueBy } = openLoopTimetable(5_000, 3_000);
    expect(warmUpCount).toBe(7_500);
    expect(dueMsOf(0)).toBe(0);
    // A linear ramp: a quarter of its arrivals in its first half.
    expect(dueBy(1_500)).toBe(1_876);
    expect(dueMsOf(warmUpCount)).toBe(3_000);
    expect(dueMsOf(warmUpCount + 5_000)).toBeCloseTo(4_000, 9);
    // Gaps shrink along the ramp and reach the offered rate's 0.2 ms at its end.
    expect(dueMsOf(2) - dueMsOf(1)).toBeGreaterThan(dueMsOf(101) - dueMsOf(100));
    expect(dueMsOf(warmUpCount - 1) - dueMsOf(warmUpCount - 2)).toBeCloseTo(0.2, 3);
    // Each arrival becomes due at its due time, not before.
    for (let index = 1; index < warmUpCount + 2_000; index += 7) {
      expect(dueBy(dueMsOf(index) + 1e-6)).toBeGreaterThanOrEqual(index + 1);
      expect(dueBy(dueMsOf(index) - 1e-6)).toBeLessThanOrEqual(index);
    }
  });

  it("has no ramp without a warm-up, and never lets the ramp run into the window", () => {
    const plain = openLoopTimetable(400, 0);
    expect(plain.warmUpCount).toBe(0);
    expect(plain.dueMsOf(10)).toBe(25);
    expect(plain.dueBy(0)).toBe(1);
    expect(plain.dueBy(25)).toBe(11);
    // 400/s over 25 ms: 5 ramp arrivals; the 6th is the window's first, due at 25 ms.
    const odd = openLoopTimetable(400, 25);
    expect(odd.warmUpCount).toBe(5);
    expect(odd.dueBy(24.999)).toBe(5);
    expect(odd.dueBy(25)).toBe(6);
  });
});
