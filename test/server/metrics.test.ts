/**
 * `/metrics` as Prometheus reads it, on both real stores: parsed by a real text-format parser
 * (parse-prometheus-text-format), every family the dashboards need present with its type, and the
 * counts moved by exactly what the test sent. Only operators, auditors and administrators read it.
 */
import parsePrometheusTextFormat, { type PrometheusFamily } from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  applyAnswered,
  expectDocumentedError,
  groceryPayment,
  paymentTimeClock,
} from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

const FAMILIES = {
  bursar_http_request_duration_seconds: "HISTOGRAM",
  bursar_decisions_total: "COUNTER",
  bursar_subsidy_reserved_minor_total: "COUNTER",
  bursar_ledger_answers_total: "COUNTER",
  bursar_breaker_state: "GAUGE",
  bursar_snapshot_version: "GAUGE",
  bursar_snapshot_age_seconds: "GAUGE",
  bursar_kill_state_stale: "GAUGE",
  bursar_guard_traffic_share_ratio: "GAUGE",
  bursar_guard_check_proposals_total: "COUNTER",
  bursar_guard_check_allowed_minor_total: "COUNTER",
  bursar_guard_check_ledger_total: "COUNTER",
  bursar_kill_confirmations_total: "COUNTER",
} as const;

type Scrape = ReadonlyMap<string, PrometheusFamily>;

/**
 * The parser folds a histogram's labelled series into one sample (it follows prom2json for
 * unlabelled histograms) and drops their labels. To read each route's series, the text is parsed a
 * second time with the histograms' TYPE lines made `untyped`: `_bucket`, `_sum` and `_count` then
 * parse as samples of their own, labels kept, through the same parser.
 */
function seriesOf(text: string): Scrape {
  const untyped = text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped");
  // Each series' `_bucket`, `_sum` and `_count` lines come in turn, so a name recurs: merged.
  const merged = new Map<string, PrometheusFamily>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    const seen = merged.get(family.name);
    merged.set(
      family.name,
      seen === undefined ? family : { ...seen, metrics: [...seen.metrics, ...family.metrics] },
    );
  }
  return merged;
}

/** The samples of a family whose labels include `labels`. */
function samples(scrape: Scrape, family: string, labels: Record<string, string> = {}) {
  return (scrape.get(family)?.metrics ?? []).filter((sample) =>
    Object.entries(labels).every(([name, value]) => sample.labels?.[name] === value),
  );
}

/** The sum of a counter's or gauge's values over the samples matching `labels`. */
function total(scrape: Scrape, family: string, labels: Record<string, string> = {}): number {
  return samples(scrape, family, labels).reduce((sum, sample) => sum + Number(sample.value), 0);
}

/** Requests a route answered with a status, from the latency histogram's count. */
function requests(scrape: Scrape, route: string, status: string): number {
  return total(scrape, "bursar_http_request_duration_seconds_count", {
    route,
    method: "POST",
    status,
  });
}

/** Each series' buckets are cumulative and end at +Inf with the series' count. */
function expectCumulativeBuckets(series: Scrape): void {
  const name = "bursar_http_request_duration_seconds";
  const byLabels = new Map<string, [number, number][]>();
  for (const sample of samples(series, `${name}_bucket`)) {
    const { le, ...labels } = sample.labels ?? {};
    const key = JSON.stringify(labels);
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le);
    byLabels.set(key, [...(byLabels.get(key) ?? []), [bound, Number(sample.value)]]);
  }
  expect(byLabels.size).toBeGreaterThan(0);
  for (const [key, buckets] of byLabels) {
    buckets.sort((left, right) => left[0] - right[0]);
    for (let index = 1; index < buckets.length; index += 1) {
      expect(buckets[index]?.[1], key).toBeGreaterThanOrEqual(buckets[index - 1]?.[1] ?? 0);
    }
    expect(buckets.at(-1)?.[0], key).toBe(Number.POSITIVE_INFINITY);
    const count = total(series, `${name}_count`, JSON.parse(key));
    expect(buckets.at(-1)?.[1], key).toBe(count);
  }
}

describe.each(TEST_STORES)("/metrics on %s", (store) => {
  let server: TestServer;
  let operator: string;
  let payments: string;

  /** The families as parsed, and each histogram series apart (`seriesOf`). */
  async function scrape(token = operator): Promise<{ families: Scrape; series: Scrape }> {
    const answer = await server.request("GET", "/metrics", { token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = answer.body as string;
    const families = parsePrometheusTextFormat(text);
    return {
      families: new Map(families.map((family) => [family.name, family])),
      series: seriesOf(text),
    };
  }

  beforeAll(async () => {
    server = await startTestServer(store, {
      demo: true,
      demoTps: 0,
      wallNowMs: paymentTimeClock(),
    });
    operator = await server.tokenFor(["operator"]);
    payments = await server.tokenFor(["payment-service"]);
    // Warm: the first apply opens the ledger's connections and leases.
    await applyAnswered(server.request, payments, groceryPayment("metrics-warm-up"));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("every family is present with its type, and counts moved by what was sent", async () => {
    const before = await scrape();
    const post = (path: string, body?: unknown) =>
      server.request("POST", path, { token: payments, ...(body === undefined ? {} : { body }) });

    const QUOTES = 7;
    for (let quoted = 0; quoted < QUOTES; quoted += 1) {
      expect(
        (await post("/v1/payments/quote", groceryPayment(`metrics-quote-${quoted}`))).status,
      ).toBe(200);
    }
    const APPLIES = 5;
    let reservedMinor = 0;
    let governmentMinor = 0;
    /** Every apply answer by ledger code, retries of `ledger_unavailable` included. */
    const applyCodes = new Map<string, number>();
    const applyOnce = async (body: unknown) => {
      const answers = await applyAnswered(server.request, payments, body);
      for (const answer of answers) {
        applyCodes.set(answer.body.code, (applyCodes.get(answer.body.code) ?? 0) + 1);
      }
      const last = answers.at(-1);
      expect(last?.body.code).toBe("reserved");
      return last?.body;
    };
    for (let applied = 0; applied < APPLIES; applied += 1) {
      const answer = await applyOnce(
        groceryPayment(`metrics-apply-${applied}`, { amountMinor: 10_000 + applied * 1_000 }),
      );
      // Each payment is new, so its reservation is counted once: when the answer makes it, or —
      // if the first try missed the deadline and the store made it later — then (the retry is a
      // replay of it).
      reservedMinor += answer.reservation.totalReservedMinor as number;
      for (const subsidy of answer.reservation.subsidies) {
        if (subsidy.funding === "government") governmentMinor += subsidy.amountMinor as number;
      }
    }
    // A replay answers again but reserves nothing more; an invalid payment is a 400.
    const replay = await applyOnce(groceryPayment("metrics-apply-0", { amountMinor: 10_000 }));
    expect(replay.replayed).toBe(true);
    const appliesAnswered = [...applyCodes.values()].reduce((sum, count) => sum + count, 0);
    expect((await post("/v1/payments/apply", { paymentId: "metrics-invalid" })).status).toBe(400);
    expect((await post("/v1/payments/metrics-apply-0/commit", {})).body.code).toBe("committed");
    expect((await post("/v1/payments/metrics-apply-1/commit", {})).body.code).toBe("committed");
    expect((await post("/v1/payments/metrics-apply-2/release")).body.code).toBe("released");

    const after = await scrape();
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect(after.families.get(name)?.type, name).toBe(type);
      expect(after.families.get(name)?.help.length, name).toBeGreaterThan(0);
    }
    const delta = (family: string, labels: Record<string, string> = {}) =>
      total(after.families, family, labels) - total(before.families, family, labels);
    const requestDelta = (route: string, status: string) =>
      requests(after.series, route, status) - requests(before.series, route, status);

    expect(requestDelta("/v1/payments/quote", "200")).toBe(QUOTES);
    expect(requestDelta("/v1/payments/apply", "200")).toBe(appliesAnswered);
    expect(requestDelta("/v1/payments/apply", "400")).toBe(1);
    expect(requestDelta("/v1/payments/:paymentId/commit", "200")).toBe(2);
    expectCumulativeBuckets(after.series);

    expect(delta("bursar_decisions_total", { operation: "quote", reason: "granted" })).toBe(QUOTES);
    expect(delta("bursar_decisions_total", { operation: "apply" })).toBe(appliesAnswered);
    for (const [code, count] of applyCodes) {
      expect(delta("bursar_ledger_answers_total", { operation: "apply", code }), code).toBe(count);
    }
    expect(applyCodes.get("reserved")).toBe(APPLIES + 1);
    expect(delta("bursar_ledger_answers_total", { operation: "commit", code: "committed" })).toBe(
      2,
    );
    expect(delta("bursar_ledger_answers_total", { operation: "release", code: "released" })).toBe(
      1,
    );
    expect(delta("bursar_subsidy_reserved_minor_total")).toBe(reservedMinor);
    expect(
      delta("bursar_subsidy_reserved_minor_total", {
        campaign: "gov-sh-grocery-subsidy",
        funding: "government",
      }),
    ).toBe(governmentMinor);
    expect(governmentMinor).toBeGreaterThan(0);

    const quote = await post("/v1/payments/quote", groceryPayment("metrics-version"));
    expect(total(after.families, "bursar_snapshot_version")).toBe(quote.body.snapshotVersion);
    expect(quote.body.snapshotVersion).toBeGreaterThan(0);
    const ageS = total(after.families, "bursar_snapshot_age_seconds");
    expect(ageS).toBeGreaterThanOrEqual(0);
    expect(ageS).toBeLessThan(600);
    expect(total(after.families, "bursar_kill_state_stale")).toBe(0);
    // One server sees the whole traffic unless told otherwise (--traffic-share).
    expect(total(after.families, "bursar_guard_traffic_share_ratio")).toBe(1);
    // Each breaker is in exactly one state.
    const breakers = new Map<string, number>();
    for (const sample of samples(after.families, "bursar_breaker_state")) {
      const breaker = sample.labels?.breaker ?? "";
      breakers.set(breaker, (breakers.get(breaker) ?? 0) + Number(sample.value));
    }
    for (const [breaker, inStates] of breakers) expect(inStates, breaker).toBe(1);
  });

  test("guard checks are counted by proposal outcome, amount allowed and ledger outcome", async () => {
    const before = await scrape();
    const checkOnce = (paymentId: string, amountMinor: number, scenario?: "p2p_transfer") =>
      server.request("POST", "/v1/guard/check", {
        token: payments,
        body: {
          payment: groceryPayment(paymentId, scenario === undefined ? {} : { scenario }),
          proposals: [
            {
              proposalId: "a",
              campaignRef: "metrics-partner",
              amountMinor,
              funding: "platform",
              label: "instant_discount",
            },
          ],
        },
      });
    /** Answers by what the ledger did, retries after `ledger.unavailable` included. */
    const ledgerOutcomes = new Map<string, number>();
    let allowedMinor = 0;
    const checked = async (...args: Parameters<typeof checkOnce>) => {
      for (let tried = 0; tried < 20; tried += 1) {
        const answer = await checkOnce(...args);
        expect(answer.status).toBe(200);
        const outcome = answer.body.replayed === true ? "replayed" : answer.body.ledger;
        ledgerOutcomes.set(outcome, (ledgerOutcomes.get(outcome) ?? 0) + 1);
        if (answer.body.ledger !== "ledger.unavailable") {
          if (answer.body.replayed !== true) allowedMinor += answer.body.allowedTotalMinor;
          return answer.body;
        }
      }
      throw new Error("the ledger stayed unavailable");
    };
    expect((await checked("metrics-check-1", 300)).ledger).toBe("ledger.recorded");
    expect((await checked("metrics-check-1", 300)).replayed).toBe(true);
    // A transfer is a protected scenario: refused, nothing to record.
    const transfer = await checked("metrics-check-2", 300, "p2p_transfer");
    expect(transfer.answers[0].reason).toBe("envelope.protected_scenario");

    const after = await scrape();
    const delta = (family: string, labels: Record<string, string> = {}) =>
      total(after.families, family, labels) - total(before.families, family, labels);
    for (const [outcome, count] of ledgerOutcomes) {
      expect(delta("bursar_guard_check_ledger_total", { outcome }), outcome).toBe(count);
    }
    expect(ledgerOutcomes.get("replayed")).toBe(1);
    expect(
      delta("bursar_guard_check_proposals_total", {
        outcome: "refused",
        reason: "envelope.protected_scenario",
      }),
    ).toBe(1);
    // The replay allowed nothing new.
    expect(allowedMinor).toBe(300);
    expect(delta("bursar_guard_check_allowed_minor_total")).toBe(allowedMinor);
  });

  test("only operators, auditors and administrators read the metrics", async () => {
    const anonymous = await server.request("GET", "/metrics");
    expect(anonymous.status).toBe(401);
    expectDocumentedError(anonymous.status, anonymous.body, "metrics without a token");
    const paymentService = await server.request("GET", "/metrics", { token: payments });
    expect(paymentService.status).toBe(403);
    await scrape(await server.tokenFor(["auditor"]));
    await scrape(server.adminToken);
  });
});
