/**
 * The demo's payment service: seeded synthetic traffic sent to the server's own HTTP API as a
 * real payment service would — apply each payment, then commit it (most), release it (some), and
 * refund part of a few — so metrics, the ledger and the guard's monitors are alive. Payments go
 * out at their own times on the demo clock, in windows of ten seconds: the same window always
 * makes the same payments with the same ids, so a restart mid-window re-sends none it already
 * sent and the ledger's idempotency covers any it did. Requests in flight are bounded; past the
 * bound a payment is skipped and counted, never queued without limit.
 */
import type { Payment } from "../core/model/payment.ts";
import { SeededRandom } from "../traffic/seeded-random.ts";
import { TrafficGenerator } from "../traffic/traffic-generator.ts";

export interface DemoTrafficOptions {
  /** The server's own address, e.g. http://127.0.0.1:8080. */
  readonly baseUrl: string;
  /** A payment-service token. */
  readonly token: string;
  readonly tps: number;
  readonly seed: number;
  /** The demo clock (payments carry its time). */
  readonly nowMs: () => number;
  /** Told of a request that failed (network, 5xx); the traffic goes on. */
  readonly onFailure?: (message: string) => void;
}

export interface DemoTrafficStats {
  applied: number;
  reserved: number;
  committed: number;
  released: number;
  refunded: number;
  skipped: number;
  failed: number;
}

const WINDOW_MS = 10_000;
/**
 * The demo's population. Each window builds its generator, population included, on the server's
 * event loop: the default million users stalled it for 110–280 ms every ten seconds; fifty
 * thousand users and ten thousand merchants cost a few milliseconds and are plenty at 50 payments
 * a second.
 */
const DEMO_USERS = 50_000;
const DEMO_MERCHANTS = 10_000;
const IN_FLIGHT_MAX = 256;
/** Shares of reserved payments, in bps: released instead of committed; refunded after commit. */
const RELEASE_BPS = 500;
const REFUND_BPS = 200;
/** Smallest wait between two checks of the clock, so the loop never spins. */
const TICK_MS = 5;

export class DemoTraffic {
  readonly stats: DemoTrafficStats = {
    applied: 0,
    reserved: 0,
    committed: 0,
    released: 0,
    refunded: 0,
    skipped: 0,
    failed: 0,
  };
  private readonly random: SeededRandom;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: DemoTrafficOptions) {
    this.random = new SeededRandom(options.seed >>> 0, 0xde3);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops sending and waits for the requests in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    let windowStartMs = Math.floor(this.options.nowMs() / WINDOW_MS) * WINDOW_MS;
    while (!this.stopped) {
      const created = TrafficGenerator.create({
        seed: this.options.seed,
        tps: this.options.tps,
        seconds: WINDOW_MS / 1000,
        startMs: windowStartMs,
        users: DEMO_USERS,
        merchants: DEMO_MERCHANTS,
      });
      if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
      const generator = created.generator;
      let index = 0;
      for (
        let payment = generator.nextPayment();
        payment !== undefined && !this.stopped;
        payment = generator.nextPayment()
      ) {
        index += 1;
        // Past payments of the window this process joined late were sent before, or never will be.
        if (payment.atMs < this.options.nowMs() - 1_000) continue;
        await this.sleepUntil(payment.atMs);
        if (this.stopped) break;
        // The window's own ids: the same population pays in every window, with new payment ids.
        this.send({ ...payment, paymentId: `demo-${windowStartMs}-${index}` });
      }
      windowStartMs += WINDOW_MS;
    }
  }

  private send(payment: Payment): void {
    if (this.inFlight.size >= IN_FLIGHT_MAX) {
      this.stats.skipped += 1;
      return;
    }
    const work = this.pay(payment)
      .catch((cause: unknown) => {
        this.stats.failed += 1;
        this.options.onFailure?.(cause instanceof Error ? cause.message : String(cause));
      })
      .finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async pay(payment: Payment): Promise<void> {
    const applied = (await this.post("/v1/payments/apply", payment)) as { code: string };
    this.stats.applied += 1;
    if (applied.code !== "reserved") return;
    this.stats.reserved += 1;
    const path = `/v1/payments/${encodeURIComponent(payment.paymentId)}`;
    if (this.random.nextUint32() % 10_000 < RELEASE_BPS) {
      await this.post(`${path}/release`, {});
      this.stats.released += 1;
      return;
    }
    const committed = (await this.post(`${path}/commit`, {})) as { code: string };
    if (committed.code !== "committed") return;
    this.stats.committed += 1;
    if (this.random.nextUint32() % 10_000 < REFUND_BPS) {
      await this.post(`${path}/refunds`, {
        refundId: `${payment.paymentId}-r1`,
        amountMinor: Math.max(1, Math.floor(payment.amountMinor / 2)),
      });
      this.stats.refunded += 1;
    }
  }

  private async post(path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.options.baseUrl}${path}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.options.token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await response.json()) as { code?: string };
    if (response.status >= 500) {
      throw new Error(`${path}: ${response.status} ${answer.code ?? ""}`);
    }
    return answer;
  }

  private async sleepUntil(atMs: number): Promise<void> {
    const waitMs = atMs - this.options.nowMs();
    if (waitMs <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(TICK_MS, waitMs));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }
}
