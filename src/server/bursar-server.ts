/**
 * `bursar serve` composed: the stores (SQLite files in the data directory, or one PostgreSQL
 * schema), the change pipeline with its real assessment, the payment serving with kills and the
 * runtime guard, the ledger, the webhook dispatcher, the HTTP application — and with `--demo` the
 * examples seeded and synthetic traffic driven at the server itself.
 *
 * Shutdown drains: the listener stops taking connections and answers the requests it holds, the
 * demo traffic and timers stop, and the ledger store closes only after its group commits are
 * durable; nothing acknowledged is lost, and a restart recovers the rest (expired reservations
 * return to their budgets).
 */
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { ApiTokenRecord } from "../control/api-token-store.ts";
import { ApiTokenService } from "../control/api-tokens.ts";
import { lintAndSimulate } from "../control/assess-proposal.ts";
import { ChangeService, type ProposalFindings } from "../control/change-service.ts";
import { DocumentHistory } from "../control/document-history.ts";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
import {
  DEFAULT_GUARD_POLICY,
  WHOLE_TRAFFIC_BPS,
  withTrafficShare,
} from "../core/guard/guard-monitors.ts";
import type { ExternalCampaign } from "../core/guard/proposal-input.ts";
import { externalCampaignRegistry, GuardCheckService } from "../guard/guard-check.ts";
import { IncidentService } from "../guard/incident-service.ts";
import {
  type KillConfirmationOutcome,
  KillConfirmer,
  processEvaluatorId,
} from "../guard/kill-confirmer.ts";
import { PaymentServing } from "../guard/payment-serving.ts";
import { WebhookDispatcher } from "../guard/webhook-dispatcher.ts";
import { CheckedSubsidyLedger } from "../ledger/checked-subsidy-ledger.ts";
import { LedgerService, StoreDeadlineExceeded } from "../ledger/ledger-service.ts";
import type { LedgerStore } from "../ledger/ledger-store.ts";
import {
  openApiTokenStore,
  openAuditLog,
  openChangeStore,
  openIncidentStore,
  openKillStore,
  openLedgerStore,
  openWebhookOutbox,
} from "../stores/control-stores.ts";
import { PostgresLedgerStore } from "../stores/postgres/postgres-ledger-store.ts";
import { TrafficGenerator } from "../traffic/traffic-generator.ts";
import { typicalAmountsFromTrafficModel } from "../traffic/typical-amounts.ts";
import { buildApp, type RateLimits } from "./app.ts";
import { changeRoutes } from "./change-routes.ts";
import { consoleCampaignRoutes } from "./console-campaign-routes.ts";
import { consoleLintRoutes } from "./console-lint-routes.ts";
import { demoClock } from "./demo-clock.ts";
import { type DemoSeedResult, seedDemo } from "./demo-seed.ts";
import { DemoTraffic } from "./demo-traffic.ts";
import { documentVersionRoutes } from "./document-version-routes.ts";
import { guardModeRoutes } from "./guard-mode-routes.ts";
import { guardRoutes } from "./guard-routes.ts";
import { opsRoutes } from "./ops-routes.ts";
import { paymentRoutes } from "./payment-routes.ts";
import type { Caller, RouteSpec } from "./route.ts";
import { ServerMetrics } from "./server-metrics.ts";
import type { ServerServices } from "./server-services.ts";
import { tokenRoutes } from "./token-routes.ts";

export interface BursarServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The data directory of the embedded stores (ledger.db, control.sqlite). */
  readonly data: string;
  /** A PostgreSQL URL: every store in its schema instead of the data directory. */
  readonly database?: string;
  readonly schema: string;
  /** Seed the examples and drive synthetic traffic at the server itself. */
  readonly demo: boolean;
  /** The examples directory the demo seeds. */
  readonly examples: string;
  /** Payments per second the demo sends; 0 seeds the examples and sends nothing (tests). */
  readonly demoTps: number;
  /** Seeds random offers (and the demo's traffic). */
  readonly seed: number;
  readonly logLevel: "debug" | "info" | "warn" | "error" | false;
  readonly version: string;
  readonly rateLimits?: RateLimits;
  /** The wall clock; the demo's clock is derived from it. */
  readonly wallNowMs?: () => number;
  /**
   * External campaigns registered with guard mode (docs/reference/guard-mode.md): checked against
   * their declaration and watched by the runtime guard with their scope and ceiling. Given here
   * only (tests, an embedding process); loading them through the change pipeline is to come.
   */
  readonly externalCampaigns?: readonly ExternalCampaign[];
  /**
   * How this process is named on incidents' timelines when it confirms a kill; default
   * `bursar-serve-<pid>@<host>`. Tests running two servers in one process name them apart.
   */
  readonly evaluatorId?: string;
  /**
   * This server's declared share of the payment traffic, in bps (1..10,000; default 10,000, the
   * whole): its runtime guard scales the fleet's money-per-minute limits by it
   * (docs/adr/0025-declared-traffic-share.md). An invalid one stops the start (RangeError).
   */
  readonly trafficShareBps?: number;
}

/** Wall time between two ticks of the payment serving (kills, rollout, monitors). */
const TICK_MS = 100;
/** Wall time between two passes returning expired reservations to their budgets. */
const EXPIRY_MS = 1_000;

interface Closable {
  close(): Promise<void>;
}

export class BursarServer {
  /** The first start's administrator token; shown once, stored only as a hash. */
  adminToken: string | undefined;
  url = "";
  demoSeed: DemoSeedResult | undefined;
  private demoTraffic: DemoTraffic | undefined;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  /** Background work running now (a tick, an expiry pass), awaited before the stores close. */
  private readonly running = new Set<Promise<unknown>>();
  private dispatcher: WebhookDispatcher | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly app: FastifyInstance,
    private readonly closables: Closable[],
    private readonly ledgerStore: LedgerStore & Closable,
  ) {}

  static async start(options: BursarServerOptions): Promise<BursarServer> {
    const wallNowMs = options.wallNowMs ?? Date.now;
    const nowMs = options.demo ? demoClock(wallNowMs) : wallNowMs;
    const storeFlags = {
      data: options.data,
      schema: options.schema,
      ...(options.database === undefined ? {} : { database: options.database }),
    };
    const opened: Closable[] = [];
    let openedLedger: Closable | undefined;
    let started: BursarServer | undefined;
    const open = async <T extends Closable>(store: Promise<T>): Promise<T> => {
      const value = await store;
      opened.push(value);
      return value;
    };
    try {
      const changeStore = await open(openChangeStore(storeFlags));
      const killStore = await open(openKillStore(storeFlags));
      const incidentStore = await open(openIncidentStore(storeFlags));
      const outbox = await open(openWebhookOutbox(storeFlags));
      const tokenStore = await open(openApiTokenStore(storeFlags));
      // Writable: the breakers' moves are appended here (every other entry by its own store).
      const audit = await open(openAuditLog(storeFlags));
      // The metrics are made once the serving exists; batches committed before are not counted.
      let metrics: ServerMetrics | undefined;
      const ledgerStore = await openLedgerStore(storeFlags, nowMs, (requests, durationMs) =>
        metrics?.observeLedgerBatch(requests, durationMs),
      );
      openedLedger = ledgerStore;

      const tokens = new ApiTokenService({ store: tokenStore, nowMs, randomBytes });
      let lastAssessment: ProposalFindings | undefined;
      const assess = lintAndSimulate({
        payments: () => assessmentTraffic(options.seed, nowMs()),
        windowMs: ASSESSMENT_SECONDS * 1000,
        sample: `synthetic traffic, seed ${options.seed}, ${ASSESSMENT_TPS}/s for ${ASSESSMENT_SECONDS} s before the submission`,
        currency: "CNY",
        typicalAmountsMinor: typicalAmountsFromTrafficModel(),
        randomSeed: options.seed,
        nowMs,
      });
      const changeService = (now: () => number) =>
        new ChangeService({
          store: changeStore,
          assess: async (proposal) => {
            lastAssessment = await assess(proposal);
            return lastAssessment;
          },
          now: () => new Date(now()).toISOString(),
        });
      const changes = changeService(nowMs);
      let demoSeed: DemoSeedResult | undefined;
      if (options.demo) {
        const seedClock = { nowMs: 0 };
        demoSeed = await seedDemo(
          changeService(() => seedClock.nowMs),
          seedClock,
          nowMs(),
          options.examples,
          () => lastAssessment,
        );
      }

      const ledger = new LedgerService({
        store: ledgerStore,
        nowMs,
        // Counted when made: a reservation that outlived the deadline is not counted by a replay.
        onLateReservation: (reservation) => metrics?.observeReservation(reservation),
        onStoreFailure: (cause) =>
          metrics?.observeLedgerFailure(
            cause instanceof StoreDeadlineExceeded ? "deadline" : "store",
          ),
      });
      const incidents = new IncidentService({ store: incidentStore, nowMs });
      const evaluatorId = options.evaluatorId ?? processEvaluatorId("serve");
      // Every kill this server obeys is confirmed on its incident under its name, the kills other
      // processes publish included (docs/reference/kill-switch.md, "Confirmations"). Outcomes are
      // logged once the application (and its logger) exists.
      let reportConfirmation: ((outcome: KillConfirmationOutcome) => void) | undefined;
      const killConfirmer = new KillConfirmer({
        incidents,
        evaluatorId,
        nowMs,
        onOutcome: (outcome) => reportConfirmation?.(outcome),
      });
      // Closed before the incident store (closables close in reverse): stops the retries and
      // waits for a write in flight.
      opened.push({ close: () => killConfirmer.stop() });
      // Checked once, before the serving's guard watches them (a bad one stops the start).
      const externalCampaigns = [
        ...externalCampaignRegistry(options.externalCampaigns ?? []).values(),
      ];
      const serving = await PaymentServing.open({
        changes,
        kills: killStore,
        incidents,
        nowMs,
        randomSeed: options.seed,
        evaluatorId,
        onKillsObeyed: (kills, atMs) => killConfirmer.obeyed(kills, atMs),
        fund: (snapshot) => ledger.fund(snapshot),
        externalCampaigns,
        // This process's share of the traffic scales the fleet's limits its guard watches.
        guard: {
          policy: withTrafficShare(
            DEFAULT_GUARD_POLICY,
            options.trafficShareBps ?? WHOLE_TRAFFIC_BPS,
          ),
        },
      });
      ledger.serveFrom(serving);
      // Guard mode (docs/reference/guard-mode.md): external engines' proposals are checked
      // against the served envelope, the serving's kill state and the registrations; what is
      // allowed goes to the serving's guard, whose ticks trip, kill and open incidents for
      // external campaigns as for native ones.
      // What checks allow is recorded in the same ledger (docs/reference/guard-mode-ledger.md),
      // within the registered budgets, funded here before the first check.
      const checkedLedger = new CheckedSubsidyLedger({
        store: ledgerStore,
        nowMs,
        onStoreFailure: (cause) =>
          metrics?.observeLedgerFailure(
            cause instanceof StoreDeadlineExceeded ? "deadline" : "store",
          ),
      });
      await checkedLedger.fundRegistered(externalCampaigns);
      const guardCheck = new GuardCheckService({
        served: () => serving.snapshots()[0],
        kills: serving.guardModeKills,
        guard: { record: (payment, decision) => serving.recordExternal(payment, decision) },
        nowMs,
        whenUnhealthy: "refuse",
        externalCampaigns,
        ledger: checkedLedger,
      });

      let served: { snapshot: Snapshot | undefined; loadedAtMs: number } = {
        snapshot: serving.snapshots()[0],
        loadedAtMs: nowMs(),
      };
      metrics = new ServerMetrics({
        breakers: () => serving.breakerStates(),
        snapshot: () =>
          served.snapshot === undefined
            ? undefined
            : { version: served.snapshot.version, loadedAtMs: served.loadedAtMs },
        rolloutShareBps: () => serving.rollout?.shareBps ?? 0,
        // What the guard was given, read back from it.
        trafficShareBps: serving.trafficShareBps,
        killStale: () => serving.isStale(),
        leaseHeldMinor: () =>
          ledgerStore instanceof PostgresLedgerStore ? ledgerStore.heldLeaseMinor() : 0,
        nowMs,
      });
      const services: ServerServices = {
        nowMs,
        tokens,
        changes,
        kills: killStore,
        incidents,
        impact: ledgerStore,
        webhooks: outbox,
        audit,
        serving,
        ledger,
        metrics,
      };
      const routes: RouteSpec[] = [];
      routes.push(
        ...paymentRoutes(services),
        ...tokenRoutes(services),
        ...changeRoutes(services),
        ...guardRoutes(services),
        ...guardModeRoutes({ guardCheck, metrics }),
        ...consoleCampaignRoutes({ changes, ledger: ledgerStore, nowMs }),
        ...consoleLintRoutes({ changes, nowMs }),
        ...documentVersionRoutes({ history: new DocumentHistory(changeStore) }),
        ...opsRoutes({
          metrics,
          nowMs,
          version: options.version,
          allRoutes: () => routes,
          unreadyReasons: async () =>
            serving.isStale() ? ["the kill state is not confirmed current"] : [],
        }),
      );
      const app = buildApp({
        routes,
        authenticate: (text) => {
          const found = tokens.authenticate(text);
          return found instanceof Promise ? found.then(callerOf) : callerOf(found);
        },
        metrics,
        nowMs: wallNowMs,
        logLevel: options.logLevel,
        ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
      });
      reportConfirmation = (outcome) => {
        metrics.observeKillConfirmation(outcome.code);
        const fields = { killConfirmation: outcome };
        if (outcome.code === "confirmed" || outcome.code === "already_confirmed") {
          app.log.info(fields, outcome.message);
        } else app.log.warn(fields, `a kill's confirmation: ${outcome.code}: ${outcome.message}`);
      };
      const server = new BursarServer(app, opened, ledgerStore);
      started = server;
      server.demoSeed = demoSeed;
      server.adminToken = (await tokens.bootstrapAdmin())?.token;

      server.every(
        TICK_MS,
        async () => {
          await serving.tick();
          const stable = serving.snapshots()[0];
          if (stable?.version !== served.snapshot?.version) {
            served = { snapshot: stable, loadedAtMs: nowMs() };
          }
        },
        app,
      );
      server.every(EXPIRY_MS, () => ledger.expireDue(), app);
      server.dispatcher = new WebhookDispatcher({
        outbox,
        onError: (error) => app.log.warn({ err: error }, "webhook outbox failed; retrying"),
      });
      server.dispatcher.start();

      const address = await app.listen({ host: options.host, port: options.port });
      server.url = address;

      if (options.demo && options.demoTps > 0) {
        const issued = await tokens.issue({
          name: "demo traffic",
          principalId: "demo.payment-service",
          roles: ["payment-service"],
          actor: "bursar:demo",
        });
        if (!issued.ok) throw new Error(`the demo's token was refused: ${issued.code}`);
        server.demoTraffic = new DemoTraffic({
          baseUrl: address,
          token: issued.token,
          tps: options.demoTps,
          seed: options.seed,
          nowMs,
          onFailure: (message) => app.log.warn({ message }, "demo payment failed"),
        });
        server.demoTraffic.start();
      }
      return server;
    } catch (cause) {
      // A server that got as far as its timers stops as a whole; before that, the stores close.
      if (started !== undefined) await started.stop().catch(() => {});
      else {
        await openedLedger?.close().catch(() => {});
        for (const store of opened.reverse()) await store.close().catch(() => {});
      }
      throw cause;
    }
  }

  /** Stops taking requests, answers those in flight, and closes every store durably. */
  async stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    await this.demoTraffic?.stop();
    await this.app.close();
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.running]);
    await this.dispatcher?.stop();
    // The ledger last among writers: every answered apply is already durable; closing waits for
    // the group commit of anything still queued.
    await this.ledgerStore.close();
    for (const store of this.closables.reverse()) await store.close();
  }

  /** Runs `work` every `intervalMs`, one run at a time; a failure is logged and retried. */
  private every(intervalMs: number, work: () => Promise<unknown>, app: FastifyInstance): void {
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running !== undefined || this.stopping !== undefined) return;
      const run = work()
        .catch((error: unknown) => app.log.warn({ err: error }, "background work failed"))
        .finally(() => {
          running = undefined;
          this.running.delete(run);
        });
      running = run;
      this.running.add(run);
    }, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }
}

/** The sample a submitted change is simulated on: ten minutes of synthetic traffic before now. */
const ASSESSMENT_TPS = 200;
const ASSESSMENT_SECONDS = 600;

function assessmentTraffic(seed: number, nowMs: number) {
  const created = TrafficGenerator.create({
    seed,
    tps: ASSESSMENT_TPS,
    seconds: ASSESSMENT_SECONDS,
    startMs: nowMs - ASSESSMENT_SECONDS * 1000,
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return created.generator;
}

/** The caller a token's record authenticates as (one object per record, not one per request). */
const callers = new WeakMap<ApiTokenRecord, Caller>();
function callerOf(record: ApiTokenRecord | undefined): Caller | undefined {
  if (record === undefined) return undefined;
  let caller = callers.get(record);
  if (caller === undefined) {
    caller = { tokenId: record.id, principalId: record.principalId, roles: record.roles };
    callers.set(record, caller);
  }
  return caller;
}
