/**
 * The guard's control plane over HTTP, on both real stores: a kill withdraws a campaign's subsidy
 * from quotes within the serving's tick and clearing it brings it back; an incident is opened,
 * acknowledged, noted, raised, mitigated, remediated (releasing its versions' reservations from the
 * server's ledger) and resolved; impact reports answer in JSON and CSV; webhook endpoints are
 * added, listed without their secrets and removed; the audit log lists and verifies; roles outside
 * an endpoint's access are refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

const PAYMENT = {
  paymentId: "guard-1",
  userId: "u-guard-1",
  amountMinor: 12_000,
  currency: "CNY",
  scenario: "merchant_qr",
  payeeKind: "merchant",
  merchantId: "m-1",
  merchantCategory: "5411",
  region: "CN-SH",
  channel: "app",
  paymentMethod: "balance",
  atMs: Date.parse("2025-03-05T12:00:00+08:00"),
};

/** Kills are read on the serving's tick (100 ms); this is far beyond it. */
const WAIT_MS_MAX = 2_000;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(TEST_STORES)("the guard over HTTP on %s", (store) => {
  let server: TestServer;
  let operator: string;
  let auditor: string;
  let admin: string;
  let payments: string;
  beforeAll(async () => {
    // The server's clock runs from just after the payment, so its reservation is fresh when
    // remediation releases it (reservations expire by the server's clock, 15 minutes on).
    const startedMs = Date.now();
    server = await startTestServer(store, {
      demo: true,
      demoTps: 0,
      wallNowMs: () => PAYMENT.atMs + 1_000 + (Date.now() - startedMs),
    });
    [operator, auditor, payments] = await Promise.all([
      server.tokenFor(["operator"], "oncall.li"),
      server.tokenFor(["auditor"], "audit.wang"),
      server.tokenFor(["payment-service"], "checkout"),
    ]);
    admin = server.adminToken;
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const quote = async () => {
    const answer = await server.request("POST", "/v1/payments/quote", {
      token: payments,
      body: PAYMENT,
    });
    expect(answer.status).toBe(200);
    return answer.body.subsidies.map((subsidy: { campaignId: string }) => subsidy.campaignId);
  };

  test("a kill withdraws a campaign's subsidy within the tick, and clearing it restores it", async () => {
    const before: string[] = await quote();
    expect(before.length).toBeGreaterThan(0);
    const killed = before[0]!;

    const set = await server.request("POST", "/v1/kills", {
      token: operator,
      body: { scope: { kind: "campaigns", campaignIds: [killed] }, reason: "test: suspicious" },
    });
    expect(set.status).toBe(201);
    expect(set.body.kill).toMatchObject({ actor: "oncall.li", reason: "test: suspicious" });
    const sequence: number = set.body.kill.sequence;

    const during: string[] = await until(quote, (ids) => !ids.includes(killed));
    expect(during).not.toContain(killed);
    const listed = await server.request("GET", "/v1/kills", { token: auditor });
    expect(listed.status).toBe(200);
    expect(listed.body.active.map((kill: { sequence: number }) => kill.sequence)).toContain(
      sequence,
    );

    const cleared = await server.request("POST", `/v1/kills/${sequence}/clear`, {
      token: operator,
      body: { reason: "test: safe again" },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.kill.sequence).toBe(sequence);
    const after: string[] = await until(quote, (ids) => ids.includes(killed));
    expect(after).toContain(killed);

    const again = await server.request("POST", `/v1/kills/${sequence}/clear`, {
      token: operator,
      body: { reason: "test: twice" },
    });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe("kill_not_active");
  });

  test("a kill's scope is checked: unknown kinds and fields are refused, nothing is written", async () => {
    const before = (await server.request("GET", "/v1/kills", { token: operator })).body.sequence;
    for (const scope of [
      { kind: "everything" },
      { kind: "all", campaignIds: ["x"] },
      { kind: "campaigns", campaignIds: [] },
      { kind: "funding", funding: "aliens" },
    ]) {
      const refused = await server.request("POST", "/v1/kills", {
        token: operator,
        body: { scope, reason: "test" },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe("body_invalid");
    }
    const blank = await server.request("POST", "/v1/kills", {
      token: operator,
      body: { scope: { kind: "all" }, reason: "   " },
    });
    expect(blank.status).toBe(400);
    expect(blank.body.code).toBe("kill_invalid");
    const after = (await server.request("GET", "/v1/kills", { token: operator })).body.sequence;
    expect(after).toBe(before);
  });

  test("an incident goes from open to resolved, and its impact report counts its payment", async () => {
    // A busy machine may answer ledger_unavailable past the store's deadline; the apply is
    // idempotent, so a retry gets the stored answer.
    const apply = () =>
      server.request("POST", "/v1/payments/apply", { token: payments, body: PAYMENT });
    const applied = await until(apply, (answer) => answer.body.code !== "ledger_unavailable");
    expect(applied.body.code).toBe("reserved");
    const subsidy = applied.body.reservation.subsidies[0];
    const version = { campaignId: subsidy.campaignId, version: subsidy.campaignVersion };

    const opened = await server.request("POST", "/v1/incidents", {
      token: operator,
      body: {
        title: "coffee subsidy on every payment",
        reason: "a customer reported a discount where none was expected",
        severity: "P2",
        windowStartMs: PAYMENT.atMs - 60_000,
        blame: { campaignVersions: [version] },
      },
    });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ state: "open", severity: "P2" });
    const id: string = opened.body.id;
    const path = `/v1/incidents/${id}`;

    const act = (verb: string, body?: unknown) =>
      server.request("POST", `${path}/${verb}`, { token: operator, body });
    expect((await act("acknowledge")).body.acknowledged.byId).toBe("oncall.li");
    const twice = await act("acknowledge");
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe("incident.already_acknowledged");
    const noted = await act("notes", { text: "looking at the coffee campaign" });
    expect(noted.status).toBe(200);
    expect(noted.body.timeline.at(-1)).toMatchObject({ kind: "note", byId: "oncall.li" });
    expect(
      (await act("raise", { severity: "P1", reason: "it spreads to more regions" })).body.severity,
    ).toBe("P1");
    const lower = await act("raise", { severity: "P3", reason: "it is smaller than feared" });
    expect(lower.body.code).toBe("incident.severity_not_higher");

    const report = await server.request("GET", `${path}/impact`, { token: auditor });
    expect(report.status).toBe(200);
    expect(report.body.totals.payments).toBeGreaterThanOrEqual(1);
    expect(report.body.totals.heldMinor).toBeGreaterThan(0);
    const csv = await server.request("GET", `${path}/impact?format=csv`, { token: auditor });
    expect(csv.headers.get("content-type")).toContain("text/csv");
    expect(csv.body.split("\r\n")[0]).toMatch(/^split,key,payments,/);

    const early = await act("resolve", { reason: "the campaign was rolled back" });
    expect(early.status).toBe(409);
    expect(early.body.code).toBe("incident.illegal_transition");
    expect(
      (await act("mitigate", { reason: "killed and rolled back the campaign" })).body.state,
    ).toBe("mitigated");
    const remediated = await act("remediate", {
      reason: "absorb what was committed; finance agreed",
      costAbsorbedMinor: 0,
    });
    expect(remediated.status).toBe(200);
    expect(remediated.body.remediation.reservationsReleased.count).toBeGreaterThanOrEqual(1);
    const committed = await server.request("POST", `/v1/payments/${PAYMENT.paymentId}/commit`, {
      token: payments,
      body: {},
    });
    expect(committed.body.code).not.toBe("committed");
    const resolved = await act("resolve", { reason: "the campaign was rolled back for good" });
    expect(resolved.status).toBe(200);
    expect(resolved.body.state).toBe("resolved");

    const shown = await server.request("GET", path, { token: auditor });
    expect(shown.body.resolution.byId).toBe("oncall.li");
    const listed = await server.request("GET", "/v1/incidents?state=resolved&limit=10", {
      token: auditor,
    });
    expect(listed.body.incidents.map((each: { id: string }) => each.id)).toContain(id);
    expect(listed.body.incidents[0].timeline).toBeUndefined();
  });

  test("unknown incidents are 404, malformed requests 400", async () => {
    const missing = await server.request("GET", "/v1/incidents/incident-999999", {
      token: operator,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("incident.not_found");
    const action = await server.request("POST", "/v1/incidents/incident-999999/acknowledge", {
      token: operator,
    });
    expect(action.status).toBe(404);
    const short = await server.request("POST", "/v1/incidents", {
      token: operator,
      body: { title: "t", reason: "short" },
    });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe("incident.reason_required");
    const tooMany = await server.request("GET", "/v1/incidents?limit=1001", { token: operator });
    expect(tooMany.status).toBe(400);
    const noVersions = await server.request("POST", "/v1/incidents", {
      token: operator,
      body: { title: "no versions", reason: "nothing blamed at all yet" },
    });
    const impact = await server.request("GET", `/v1/incidents/${noVersions.body.id}/impact`, {
      token: operator,
    });
    expect(impact.status).toBe(404);
    expect(impact.body.code).toBe("not_found");
  });

  test("the impact report of named versions, in JSON and CSV", async () => {
    const body = { versions: [{ campaignId: "no-such-campaign", version: 1 }] };
    const json = await server.request("POST", "/v1/impact", { token: operator, body });
    expect(json.status).toBe(200);
    expect(json.body.totals.payments).toBe(0);
    const csv = await server.request("POST", "/v1/impact?format=csv", { token: auditor, body });
    expect(csv.status).toBe(200);
    expect(csv.body).toMatch(/^split,key,payments,/);
    const bad = await server.request("POST", "/v1/impact", {
      token: operator,
      body: { ...body, fromMs: 10, toMs: 5 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe("body_invalid");
  });

  test("breakers list, and a move an armed breaker cannot make is refused", async () => {
    const listed = await server.request("GET", "/v1/breakers", { token: auditor });
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body.breakers)).toBe(true);
    const reset = await server.request("POST", "/v1/breakers/campaign-spend/reset", {
      token: operator,
    });
    expect(reset.status).toBe(409);
    expect(reset.body.code).toBe("illegal_breaker_transition");
  });

  test("webhook endpoints: the secret is in the answer that makes it and nowhere else", async () => {
    const added = await server.request("POST", "/v1/webhooks", {
      token: admin,
      body: {
        id: "pager",
        url: "https://hooks.example.com/path/token-in-path",
        eventTypes: ["incident.opened"],
      },
    });
    expect(added.status).toBe(201);
    const secret: string = added.body.secret;
    expect(secret).toMatch(/^whsec_/);
    expect(added.body.endpoint).toEqual({
      id: "pager",
      url: "https://hooks.example.com/path/token-in-path",
      eventTypes: ["incident.opened"],
      enabled: true,
    });
    const again = await server.request("POST", "/v1/webhooks", {
      token: admin,
      body: { id: "pager", url: "https://hooks.example.com/", eventTypes: ["*"] },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("endpoint_exists");
    const credentials = await server.request("POST", "/v1/webhooks", {
      token: admin,
      body: { id: "creds", url: "https://user:pw@hooks.example.com/", eventTypes: ["*"] },
    });
    expect(credentials.status).toBe(400);
    expect(credentials.body.code).toBe("url_has_credentials");

    const listed = await server.request("GET", "/v1/webhooks", { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.endpoints.map((each: { id: string }) => each.id)).toEqual(["pager"]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.endpoints[0].secret).toBeUndefined();

    const disabled = await server.request("POST", "/v1/webhooks/pager/disable", { token: admin });
    expect(disabled.body).toEqual({ id: "pager", enabled: false });
    const deliveries = await server.request("GET", "/v1/webhooks/pager/deliveries?limit=5", {
      token: admin,
    });
    expect(deliveries.status).toBe(200);
    expect(JSON.stringify(deliveries.body)).not.toContain(secret);

    const removed = await server.request("DELETE", "/v1/webhooks/pager", { token: admin });
    expect(removed.body).toEqual({ id: "pager", removed: true });
    const gone = await server.request("DELETE", "/v1/webhooks/pager", { token: admin });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe("endpoint_not_found");
    const noDeliveries = await server.request("GET", "/v1/webhooks/nobody/deliveries", {
      token: admin,
    });
    expect(noDeliveries.status).toBe(404);
  });

  test("the audit log lists what was done, by whom, and its chain verifies", async () => {
    const first = await server.request("GET", "/v1/audit?limit=2", { token: auditor });
    expect(first.status).toBe(200);
    expect(first.body.entries).toHaveLength(2);
    expect(first.body.nextAfterSequence).toBe(first.body.entries[1].sequence);
    const page = await server.request(
      "GET",
      `/v1/audit?afterSequence=${first.body.nextAfterSequence}&limit=10000`,
      { token: auditor },
    );
    const all = [...first.body.entries, ...page.body.entries];
    expect(page.body.nextAfterSequence).toBeNull();
    const actions = all.filter((entry) => entry.actor === "oncall.li").map((entry) => entry.action);
    expect(actions).toEqual(
      expect.arrayContaining(["kill.set", "kill.cleared", "incident.opened"]),
    );
    expect(JSON.stringify(all)).not.toMatch(/whsec_/);
    expect(all.find((entry) => entry.action === "webhook.endpoint_added").details.origin).toBe(
      "https://hooks.example.com",
    );

    const verified = await server.request("GET", "/v1/audit/verify", { token: auditor });
    expect(verified.status).toBe(200);
    expect(verified.body.ok).toBe(true);
    expect(verified.body.entries).toBe(all.length);
    const head = `${verified.body.head.sequence}:${verified.body.head.hash}`;
    const anchored = await server.request("GET", `/v1/audit/verify?expectHead=${head}`, {
      token: admin,
    });
    expect(anchored.body.ok).toBe(true);
    const malformed = await server.request("GET", "/v1/audit/verify?expectHead=nope", {
      token: auditor,
    });
    expect(malformed.status).toBe(400);
    const tooMany = await server.request("GET", "/v1/audit?limit=10001", { token: auditor });
    expect(tooMany.status).toBe(400);
  });

  test("roles outside an endpoint's access are refused with 403", async () => {
    const cases: [string, string, string, unknown?][] = [
      [payments, "GET", "/v1/kills"],
      [payments, "POST", "/v1/kills", { scope: { kind: "all" }, reason: "x" }],
      [auditor, "POST", "/v1/kills", { scope: { kind: "all" }, reason: "x" }],
      [auditor, "POST", "/v1/incidents/incident-1/acknowledge"],
      [payments, "GET", "/v1/incidents"],
      [auditor, "POST", "/v1/breakers/x/acknowledge"],
      [operator, "GET", "/v1/webhooks"],
      [auditor, "POST", "/v1/webhooks", { id: "x", url: "https://a.example/", eventTypes: ["*"] }],
      [operator, "GET", "/v1/audit"],
      [payments, "GET", "/v1/audit/verify"],
      [payments, "POST", "/v1/impact", { versions: [{ campaignId: "c", version: 1 }] }],
    ];
    for (const [token, method, path, body] of cases) {
      const answer = await server.request(method, path, {
        token,
        ...(body === undefined ? {} : { body }),
      });
      expect({ method, path, status: answer.status, code: answer.body.code }).toEqual({
        method,
        path,
        status: 403,
        code: "forbidden",
      });
    }
    const anonymous = await server.request("GET", "/v1/kills");
    expect(anonymous.status).toBe(401);
  });

  test("the OpenAPI document lists every guard endpoint with its roles and schemas", async () => {
    const document = (await server.request("GET", "/openapi.json")).body;
    const clear = document.paths["/v1/kills/{killSequence}/clear"].post;
    expect(clear["x-bursar-roles"]).toEqual(["operator", "admin"]);
    expect(clear.parameters.map((parameter: { name: string }) => parameter.name)).toEqual([
      "killSequence",
    ]);
    expect(document.paths["/v1/kills"].post.requestBody).toBeDefined();
    expect(document.paths["/v1/audit"].get["x-bursar-roles"]).toEqual(["auditor", "admin"]);
    expect(document.paths["/v1/webhooks/{endpointId}"].delete["x-bursar-roles"]).toEqual(["admin"]);
    expect(document.paths["/v1/incidents/{incidentId}/impact"].get).toBeDefined();
  });
});
