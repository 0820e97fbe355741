/**
 * What `bursar serve` adds for the web console (src/server/console-routes.ts,
 * console-campaign-routes.ts): its files at `/` and `/assets/:file` with their content types and
 * caching, 404 for anything it did not build (traversal included), a page saying how to build
 * when the build is missing; `GET /v1/campaigns`, the budgets as the ledger counts them, and
 * `POST /v1/lint`, a draft's findings without a change, for the change pipeline's readers only —
 * on both real stores.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_ROLES } from "../../src/core/access/api-roles.ts";
import { incidentEdits } from "../../src/demo/incident-change.ts";
import { CONSOLE_CSP, consoleRoutes, loadConsoleBuild } from "../../src/server/console-routes.ts";
import type { RouteAnswer, RouteSpec } from "../../src/server/route.ts";
import {
  applyAnswered,
  expectDocumentedError,
  groceryPayment,
  paymentTimeClock,
} from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

function fakeBuild(): string {
  const directory = mkdtempSync(join(tmpdir(), "bursar-console-build-"));
  mkdirSync(join(directory, "assets", "nested"), { recursive: true });
  writeFileSync(join(directory, "index.html"), '<!doctype html><a href="/docs">docs</a>');
  writeFileSync(join(directory, "assets", "index-abc123.js"), "console.log(1)");
  writeFileSync(join(directory, "assets", "index-abc123.css"), "body{}");
  writeFileSync(join(directory, "assets", "notes.exe"), "not served");
  writeFileSync(join(directory, "assets", "nested", "deep.js"), "not served");
  return directory;
}

function handler(routes: RouteSpec[], url: string) {
  const found = routes.find((spec) => spec.url === url);
  if (found === undefined) throw new Error(`no route ${url}`);
  return (file?: string) =>
    found.handle({
      params: file === undefined ? undefined : { file },
      query: undefined,
      body: undefined,
      caller: undefined,
      requestId: "test",
    }) as RouteAnswer;
}

describe("the console's files as routes", () => {
  const directory = fakeBuild();
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  test("serves index.html with its security headers and the build's assets by name", () => {
    const routes = consoleRoutes(loadConsoleBuild(directory));
    const home = handler(routes, "/")();
    expect(String(home.body)).toContain('href="/docs"');
    expect(home.contentType).toBe("text/html; charset=utf-8");
    expect(home.headers?.["content-security-policy"]).toBe(CONSOLE_CSP);
    expect(home.headers?.["cache-control"]).toBe("no-cache");
    const asset = handler(routes, "/assets/:file");
    const script = asset("index-abc123.js");
    expect(String(script.body)).toBe("console.log(1)");
    expect(script.contentType).toBe("text/javascript; charset=utf-8");
    expect(script.headers?.["cache-control"]).toContain("immutable");
    expect(asset("index-abc123.css").contentType).toBe("text/css; charset=utf-8");
  });

  test("only files of the build's assets folder with a known type exist", () => {
    const asset = handler(consoleRoutes(loadConsoleBuild(directory)), "/assets/:file");
    for (const name of ["notes.exe", "nested", "deep.js", "../index.html", "..", "index.html"]) {
      expect(() => asset(name), name).toThrow(/no such console file/);
    }
  });

  test("without a build, / says how to build it and still links the API's reference", () => {
    const build = loadConsoleBuild(join(directory, "missing"));
    expect(build.index).toBeUndefined();
    const routes = consoleRoutes(build);
    const home = handler(routes, "/")();
    expect(String(home.body)).toContain("npm run build:console");
    expect(String(home.body)).toContain('href="/docs"');
    expect(home.contentType).toBe("text/html; charset=utf-8");
    expect(() => handler(routes, "/assets/:file")("index-abc123.js")).toThrow();
  });
});

const READERS = ["author", "reviewer", "operator", "auditor", "admin"];

describe.each(TEST_STORES)("the console's routes on %s", (store) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(store, {
      demo: true,
      demoTps: 0,
      wallNowMs: paymentTimeClock(),
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test("/ is HTML on the API's origin, and no path leaves the build", async () => {
    const home = await server.request("GET", "/");
    expect(home.status).toBe(200);
    expect(home.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(home.body).toContain('href="/docs"');
    for (const path of [
      "/assets/nope.js",
      "/assets/..%2F..%2Fpackage.json",
      "/assets/%2e%2e%2fpackage.json",
      "/assets/..%5Cpackage.json",
    ]) {
      const answer = await server.request("GET", path);
      expect(answer.status, path).toBe(404);
      expectDocumentedError(answer.status, answer.body, path);
    }
  });

  test("every asset the page names is served with its type", async () => {
    const home = await server.request("GET", "/");
    const named = [...String(home.body).matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map(
      (match) => match[1] as string,
    );
    // Without a build (npm ci --ignore-scripts) the page names none: that page is checked above.
    for (const path of named) {
      const answer = await server.request("GET", path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers.get("content-type"), path).toMatch(/^text\/(javascript|css)/);
      expect(answer.headers.get("cache-control")).toContain("max-age=31536000");
    }
  });

  test("GET /v1/campaigns: readers only, with the ledger's budgets and today's spend", async () => {
    const tokens = new Map<string, string>();
    for (const role of API_ROLES) tokens.set(role, await server.tokenFor([role]));
    for (const role of API_ROLES) {
      const answer = await server.request("GET", "/v1/campaigns", { token: tokens.get(role)! });
      if (READERS.includes(role)) expect(answer.status, role).toBe(200);
      else {
        expect(answer.status, role).toBe(403);
        expectDocumentedError(answer.status, answer.body, role);
      }
    }
    const anonymous = await server.request("GET", "/v1/campaigns");
    expect(anonymous.status).toBe(401);

    const auditor = tokens.get("auditor")!;
    const payment = groceryPayment("console-budget-1");
    const before = await server.request("GET", "/v1/campaigns", { token: auditor });
    expect(before.body.campaigns.length).toBeGreaterThan(10);
    const ids = before.body.campaigns.map((row: { id: string }) => row.id);
    expect(ids).toEqual([...ids].sort());
    const grocery = before.body.campaigns.find(
      (row: { id: string }) => row.id === "gov-sh-grocery-subsidy",
    );
    expect(grocery).toMatchObject({
      phase: "running",
      currency: "CNY",
      dailyBudgetMinor: 800_000,
      budget: { reservedMinor: 0, spentMinor: 0 },
      today: { date: "2025-03-05", reservedMinor: 0, spentMinor: 0 },
    });

    // A loaded machine can miss the ledger's 50 ms deadline; a retry with the same id is safe.
    let answers = await applyAnswered(server.request, tokens.get("payment-service")!, payment);
    for (
      let tries = 0;
      tries < 20 && answers.at(-1)?.body.code === "ledger_unavailable";
      tries += 1
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answers = await applyAnswered(server.request, tokens.get("payment-service")!, payment);
    }
    const applied = answers[answers.length - 1]!;
    expect(applied.body.code).toBe("reserved");
    const granted = applied.body.reservation.subsidies.find(
      (subsidy: { campaignId: string }) => subsidy.campaignId === "gov-sh-grocery-subsidy",
    );
    expect(granted.amountMinor).toBeGreaterThan(0);

    const after = await server.request("GET", "/v1/campaigns", { token: auditor });
    const row = after.body.campaigns.find(
      (campaign: { id: string }) => campaign.id === "gov-sh-grocery-subsidy",
    );
    expect(row.budget.reservedMinor + row.budget.spentMinor).toBe(granted.amountMinor);
    expect(row.today.reservedMinor + row.today.spentMinor).toBe(granted.amountMinor);
    const untouched = after.body.campaigns.find(
      (campaign: { id: string }) => campaign.id === "bank-bj-government-fee",
    );
    expect(untouched.budget).toEqual({ reservedMinor: 0, spentMinor: 0 });
  });

  test("POST /v1/lint: a draft's issues and findings by field, for readers, writing nothing", async () => {
    // Tokens first: issuing one is audited, and this test checks that linting is not.
    const author = await server.tokenFor(["author"], "lint.author");
    const payments = await server.tokenFor(["payment-service"]);
    const lint = (edits: unknown[], token = author) =>
      server.request("POST", "/v1/lint", { token, body: { edits } });
    const headBefore = (
      await server.request("GET", "/v1/audit/verify", { token: server.adminToken })
    ).body.head;
    const changesBefore = (await server.request("GET", "/v1/changes", { token: author })).body
      .changes.length;

    const everyday = (
      await server.request("GET", "/v1/documents/campaign/idc-national-qr-everyday", {
        token: author,
      })
    ).body;
    expect((await lint([{ op: "put", document: everyday }], payments)).status).toBe(403);
    expect((await server.request("POST", "/v1/lint", { body: { edits: [] } })).status).toBe(401);
    const empty = await lint([]);
    expect(empty.status).toBe(400);
    expectDocumentedError(empty.status, empty.body, "no edits");

    // Half typed: a budget as text and no display. Issues, with their paths; no lint yet.
    const halfTyped = { ...everyday, limits: { ...everyday.limits, totalBudgetMinor: "30000" } };
    delete halfTyped.display;
    const invalid = await lint([{ op: "put", document: halfTyped }]);
    expect(invalid.status).toBe(200);
    expect(invalid.body.linted).toBe(false);
    const paths = invalid.body.findings.map((finding: { path: string }) => finding.path);
    expect(paths).toEqual(expect.arrayContaining(["limits.totalBudgetMinor", "display"]));
    for (const finding of invalid.body.findings) {
      expect(finding.source).toBe("campaign/idc-national-qr-everyday");
      expect(finding.key).toBe(`${finding.code}|${finding.source}|${finding.path}`);
    }

    // A copy reaching everything: the warning a submission would ask to acknowledge.
    const copy = { ...everyday, id: "idc-lint-copy", stacking: { priority: 1 } };
    const warned = await lint([{ op: "put", document: copy }]);
    expect(warned.body.linted).toBe(true);
    expect(warned.body.findings).toContainEqual(
      expect.objectContaining({
        code: "lint.scope_everything",
        severity: "warning",
        source: "campaign/idc-lint-copy",
        path: "scope",
      }),
    );
    expect(
      warned.body.findings.some((finding: { code: string }) =>
        finding.code.startsWith("simulation."),
      ),
    ).toBe(false);

    // The 2025-01-16 variant: the errors lint blocks it with.
    const documents = (await server.request("GET", "/v1/documents", { token: author })).body
      .documents;
    const variant = await lint(incidentEdits(documents, "variant"));
    expect(variant.body.linted).toBe(true);
    expect(
      variant.body.findings.filter((finding: { severity: string }) => finding.severity === "error")
        .length,
    ).toBeGreaterThan(0);

    const headAfter = (
      await server.request("GET", "/v1/audit/verify", { token: server.adminToken })
    ).body.head;
    expect(headAfter).toEqual(headBefore);
    expect(
      (await server.request("GET", "/v1/changes", { token: author })).body.changes.length,
    ).toBe(changesBefore);
  });

  test("GET /v1/campaigns refuses unknown query fields", async () => {
    const answer = await server.request("GET", "/v1/campaigns?limit=5", {
      token: server.adminToken,
    });
    expect(answer.status).toBe(400);
    expectDocumentedError(answer.status, answer.body, "unknown query field");
  });
});
