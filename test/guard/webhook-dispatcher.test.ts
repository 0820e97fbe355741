/**
 * The dispatcher against a real receiver on loopback (node:http on 127.0.0.1:0) that verifies
 * every signature and deduplicates on `Bursar-Delivery`, over real stores. The dispatcher's clock
 * is a manual one, so the retry schedule's minutes pass in a step; only the HTTP time-out is
 * real (a few hundred milliseconds).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { MemoryWebhookOutbox } from "../../src/guard/memory-webhook-outbox.ts";
import {
  fetchWebhookPost,
  type WebhookAttemptReport,
  WebhookDispatcher,
} from "../../src/guard/webhook-dispatcher.ts";
import type { WebhookOutbox } from "../../src/guard/webhook-outbox.ts";
import { verifyWebhookSignature } from "../../src/guard/webhook-signing.ts";
import { PostgresWebhookOutbox } from "../../src/stores/postgres/postgres-webhook-outbox.ts";
import { SqliteWebhookOutbox } from "../../src/stores/sqlite/sqlite-webhook-outbox.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-webhook-dispatch-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const url = inject("postgresUrl");

const SECRET = "whsec_receiver-test-secret-0123456789";
const T0 = 1_737_009_600_000;

/** What the receiver does with each request, in order; `accept` once the script runs out. */
type Answer = 200 | 302 | 500 | 503 | "hold";

interface Received {
  readonly deliveryId: string;
  readonly event: string;
  readonly attempt: string;
  readonly body: string;
  readonly signatureOk: boolean;
}

class Receiver {
  readonly received: Received[] = [];
  /** Delivery ids acted on: the receiver's idempotency. */
  readonly processed = new Set<string>();
  processedCount = 0;
  concurrent = 0;
  concurrentMax = 0;
  private readonly held: ServerResponse[] = [];

  private constructor(
    private readonly server: Server,
    private readonly script: Answer[],
    private readonly nowMs: () => number,
    private readonly delayMs: number,
  ) {}

  static async start(script: Answer[], nowMs: () => number, delayMs = 0): Promise<Receiver> {
    let receiver: Receiver | undefined;
    const server = createServer((request, response) => receiver!.handle(request, response));
    receiver = new Receiver(server, script, nowMs, delayMs);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/bursar`;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.concurrent += 1;
    this.concurrentMax = Math.max(this.concurrentMax, this.concurrent);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const header = request.headers["bursar-signature"];
    const check = verifyWebhookSignature(
      SECRET,
      typeof header === "string" ? header : undefined,
      body,
      this.nowMs(),
      300_000,
    );
    const deliveryId = String(request.headers["bursar-delivery"]);
    this.received.push({
      deliveryId,
      event: String(request.headers["bursar-event"]),
      attempt: String(request.headers["bursar-attempt"]),
      body,
      signatureOk: check.ok,
    });
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const answer = this.script.shift() ?? 200;
    this.concurrent -= 1;
    if (!check.ok) return void response.writeHead(401).end();
    if (answer === "hold") return void this.held.push(response);
    if (answer === 302)
      return void response.writeHead(302, { location: "http://127.0.0.1:1/" }).end();
    if (answer !== 200) return void response.writeHead(answer).end();
    if (!this.processed.has(deliveryId)) this.processedCount += 1;
    this.processed.add(deliveryId);
    response.writeHead(200).end("ok");
  }

  async close(): Promise<void> {
    for (const response of this.held) response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

function manualClock(startMs: number) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

function dispatcherOver(
  outbox: WebhookOutbox,
  clock: { now: () => number },
  extra: Partial<ConstructorParameters<typeof WebhookDispatcher>[0]> = {},
): { dispatcher: WebhookDispatcher; reports: WebhookAttemptReport[]; errors: unknown[] } {
  const reports: WebhookAttemptReport[] = [];
  const errors: unknown[] = [];
  const dispatcher = new WebhookDispatcher({
    outbox,
    nowMs: clock.now,
    random01: () => 0.5,
    timeoutMs: 300,
    claimMs: 60_000,
    onAttempt: (report) => reports.push(report),
    onError: (error) => errors.push(error),
    ...extra,
  });
  return { dispatcher, reports, errors };
}

/** The outbox again, except that recording an attempt fails as if its process died first. */
function crashingBeforeRecording(outbox: WebhookOutbox): WebhookOutbox {
  return new Proxy(outbox, {
    get(target, property, receiver) {
      if (property === "finishAttempt") {
        return async () => {
          throw new Error("the process died before recording the attempt");
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

const stores: [string, () => Promise<() => Promise<WebhookOutbox>>][] = [
  [
    "sqlite",
    async () => {
      const path = join(directory, `restart-${Date.now()}`, "control.sqlite");
      return async () => SqliteWebhookOutbox.open({ path });
    },
  ],
  [
    "postgres",
    async () => {
      const schema = `webhook_dispatch_${process.pid}_${Date.now() % 1_000_000}`;
      return () => PostgresWebhookOutbox.open({ url, schema });
    },
  ],
];

describe.each(stores)("webhook dispatcher over %s", (_name, prepare) => {
  test("500, a time-out, a crash after the receiver took it, a restart: delivered once to the receiver, every attempt recorded", async () => {
    const clock = manualClock(T0);
    const receiver = await Receiver.start([500, "hold", 200, 200], clock.now);
    const open = await prepare();
    let outbox = await open();
    try {
      expect(
        await outbox.addEndpoint(
          {
            id: "pager",
            url: receiver.url,
            secret: SECRET,
            eventTypes: ["incident.opened"],
            enabled: true,
          },
          T0,
          undefined,
        ),
      ).toEqual({ ok: true });
      const enqueued = await outbox.enqueue(
        {
          eventType: "incident.opened",
          id: "incident-1:opened",
          payload: { severity: "P0", minorAtRisk: 4_200_000 },
        },
        T0,
      );
      expect(enqueued).toMatchObject({ ok: true, deliveryIds: ["incident-1:opened@pager"] });
      const first = dispatcherOver(outbox, clock);

      // Attempt 1: 500, retried after 30 s (the jitter draw is the middle: no jitter).
      expect(await first.dispatcher.runOnce()).toBe(1);
      expect(first.reports.at(-1)).toMatchObject({
        attempt: 1,
        code: "http_status",
        status: 500,
        recorded: true,
        next: { state: "pending", nextAttemptAtMs: T0 + 30_000 },
      });
      clock.advance(29_999);
      expect(await first.dispatcher.runOnce()).toBe(0);
      clock.advance(1);

      // Attempt 2: the receiver holds the request past the time-out; retried after 60 s.
      expect(await first.dispatcher.runOnce()).toBe(1);
      expect(first.reports.at(-1)).toMatchObject({
        attempt: 2,
        code: "timeout",
        status: null,
        next: { state: "pending", nextAttemptAtMs: T0 + 90_000 },
      });
      clock.advance(60_000);

      // Attempt 3: the receiver takes it, and the dispatcher dies before recording that.
      const crashing = dispatcherOver(crashingBeforeRecording(outbox), clock);
      expect(await crashing.dispatcher.runOnce()).toBe(1);
      expect(crashing.reports.at(-1)).toMatchObject({
        attempt: 3,
        code: "delivered",
        recorded: false,
      });
      expect(crashing.errors).toHaveLength(1);
      expect(receiver.processedCount).toBe(1);
      await outbox.close();

      // A new process over the same file or schema: the claim holds for its minute, then expires.
      outbox = await open();
      const restarted = dispatcherOver(outbox, clock);
      clock.advance(59_999);
      expect(await restarted.dispatcher.runOnce()).toBe(0);
      clock.advance(1);
      expect(await restarted.dispatcher.runOnce()).toBe(1);
      expect(restarted.reports.at(-1)).toMatchObject({
        attempt: 4,
        code: "delivered",
        status: 200,
        recorded: true,
        next: { state: "delivered" },
      });
      clock.advance(3_600_000);
      expect(await restarted.dispatcher.runOnce()).toBe(0);

      // At least once: four requests, one delivery id and body, every signature good; once acted on.
      expect(receiver.received.map((each) => each.deliveryId)).toEqual(
        Array(4).fill("incident-1:opened@pager"),
      );
      expect(receiver.received.map((each) => each.attempt)).toEqual(["1", "2", "3", "4"]);
      expect(
        receiver.received.every((each) => each.signatureOk && each.event === "incident.opened"),
      ).toBe(true);
      expect(new Set(receiver.received.map((each) => each.body)).size).toBe(1);
      expect(JSON.parse(receiver.received[0]!.body)).toEqual({
        id: "incident-1:opened",
        type: "incident.opened",
        createdAt: "2025-01-16T06:40:00.000Z",
        data: { severity: "P0", minorAtRisk: 4_200_000 },
      });
      expect([...receiver.processed]).toEqual(["incident-1:opened@pager"]);
      expect(receiver.processedCount).toBe(1);
      expect(
        (await outbox.attemptsOf("incident-1:opened@pager")).map((each) => [
          each.attempt,
          each.code,
          each.status,
        ]),
      ).toEqual([
        [1, "http_status", 500],
        [2, "timeout", null],
        [3, null, null],
        [4, "delivered", 200],
      ]);
      expect(await outbox.listDeliveries({ limit: 10 })).toMatchObject([
        {
          state: "delivered",
          attempts: 4,
          lastAttemptCode: "delivered",
          finishedAtMs: T0 + 150_000,
        },
      ]);
    } finally {
      await outbox.close().catch(() => {});
      await receiver.close();
    }
  });
});

describe("webhook dispatcher", () => {
  test("dead after the last attempt: a redirect is not followed, 5xx retried on schedule", async () => {
    const clock = manualClock(T0);
    const receiver = await Receiver.start([302, 503, 500, 200], clock.now);
    const outbox = new MemoryWebhookOutbox();
    try {
      await outbox.addEndpoint(
        { id: "pager", url: receiver.url, secret: SECRET, eventTypes: ["*"], enabled: true },
        T0,
        undefined,
      );
      await outbox.enqueue(
        { eventType: "incident.severity_raised", id: "incident-2:p1", payload: {} },
        T0,
      );
      const { dispatcher, reports } = dispatcherOver(outbox, clock, {
        policy: { attemptsMax: 3, firstDelayMs: 1_000, delayMsMax: 60_000, jitterPercent: 20 },
      });
      for (const waitMs of [0, 1_000, 2_000]) {
        clock.advance(waitMs);
        expect(await dispatcher.runOnce()).toBe(1);
      }
      clock.advance(3_600_000);
      expect(await dispatcher.runOnce()).toBe(0);
      expect(reports.map((report) => [report.code, report.status, report.next.state])).toEqual([
        ["http_status", 302, "pending"],
        ["http_status", 503, "pending"],
        ["http_status", 500, "dead"],
      ]);
      expect(await outbox.listDeliveries({ limit: 1 })).toMatchObject([
        { state: "dead", deadReason: "attempts_exhausted", attempts: 3, lastStatus: 500 },
      ]);
      expect(receiver.received).toHaveLength(3);
      expect(receiver.processedCount).toBe(0);
    } finally {
      await receiver.close();
    }
  });

  test("a refused connection is a network_error, retried", async () => {
    const result = await fetchWebhookPost({
      url: "http://127.0.0.1:1/",
      headers: {},
      body: "{}",
      timeoutMs: 2_000,
    });
    expect(result).toMatchObject({ error: "network_error" });
  });

  test("options out of range are refused at construction", () => {
    const outbox = new MemoryWebhookOutbox();
    expect(() => new WebhookDispatcher({ outbox, concurrencyMax: 0 })).toThrow(RangeError);
    expect(() => new WebhookDispatcher({ outbox, timeoutMs: 10_000, claimMs: 15_000 })).toThrow(
      /twice/,
    );
    expect(
      () =>
        new WebhookDispatcher({
          outbox,
          policy: { attemptsMax: 0, firstDelayMs: 1, delayMsMax: 1, jitterPercent: 0 },
        }),
    ).toThrow(RangeError);
  });

  test("two running dispatchers on PostgreSQL deliver every notification, none twice, within their concurrency; stop is clean", async () => {
    const receiver = await Receiver.start([], Date.now, 20);
    const schema = `webhook_pair_${process.pid}`;
    const outboxes = [
      await PostgresWebhookOutbox.open({ url, schema }),
      await PostgresWebhookOutbox.open({ url, schema }),
    ];
    const dispatchers = outboxes.map((outbox) =>
      dispatcherOver(
        outbox,
        { now: Date.now },
        { concurrencyMax: 3, pollIntervalMs: 20, timeoutMs: 2_000, claimMs: 30_000 },
      ),
    );
    try {
      await outboxes[0]!.addEndpoint(
        {
          id: "pager",
          url: receiver.url,
          secret: SECRET,
          eventTypes: ["incident.opened"],
          enabled: true,
        },
        Date.now(),
        undefined,
      );
      for (const { dispatcher } of dispatchers) dispatcher.start();
      for (let index = 0; index < 30; index += 1) {
        await outboxes[index % 2]!.enqueue(
          { eventType: "incident.opened", id: `incident-${index}:opened`, payload: { index } },
          Date.now(),
        );
      }
      const deadlineMs = Date.now() + 20_000;
      while (receiver.processed.size < 30 && Date.now() < deadlineMs) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await Promise.all(dispatchers.map(({ dispatcher }) => dispatcher.stop()));
      expect(dispatchers.every(({ dispatcher }) => dispatcher.inFlightCount === 0)).toBe(true);
      expect(receiver.processed.size).toBe(30);
      expect(receiver.received).toHaveLength(30);
      expect(receiver.concurrentMax).toBeLessThanOrEqual(6);
      expect(dispatchers.every(({ reports }) => reports.length > 0)).toBe(true);
      expect(await outboxes[0]!.listDeliveries({ state: "delivered", limit: 100 })).toHaveLength(
        30,
      );
    } finally {
      await Promise.all(dispatchers.map(({ dispatcher }) => dispatcher.stop()));
      await Promise.all(outboxes.map((outbox) => outbox.close()));
      await receiver.close();
    }
  });
});
