/**
 * A document's versions over HTTP (src/server/document-version-routes.ts), on both real stores,
 * against one server per store seeded with the examples: the coffee campaign's history as a
 * change rolls out, is rolled back and an operator lowers its limits — each version's state, its
 * change, when it was written and reached everyone — its pages, one version's content, and the
 * refusals (unknown documents and versions, bad parameters, roles). Tests run in order and share
 * the server.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { API_ROLES } from "../../src/core/access/api-roles.ts";
import { DEMO_IMPORT_TITLE } from "../../src/server/demo-seed.ts";
import { expectDocumentedError } from "../support/api-calls.ts";
import { startTestServer, TEST_STORES, type TestServer } from "../support/server.ts";

type Answer = Awaited<ReturnType<TestServer["request"]>>;

const COFFEE = "idc-coffee-afternoon-tea";
const VERSIONS = `/v1/documents/campaign/${COFFEE}/versions`;
const READERS = ["author", "reviewer", "operator", "auditor", "admin"];

describe.each(TEST_STORES)("document versions over HTTP on %s", (store) => {
  let server: TestServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    server = await startTestServer(store, { demo: true, demoTps: 0 });
    for (const [name, roles] of [
      ["alice", ["author"]],
      ["bob", ["reviewer"]],
      ["olga", ["operator"]],
      ["audrey", ["auditor"]],
    ] as const) {
      tokens[name] = await server.tokenFor(roles, name);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const get = (path: string, token = tokens.audrey!) => server.request("GET", path, { token });

  /** An action, sent again when the server's rollout tick wrote the same change in between. */
  async function act(path: string, token: string, body: unknown): Promise<Answer> {
    let answer: Answer | undefined;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      answer = await server.request("POST", path, { token, body });
      if (answer.status !== 409 || answer.body.code !== "concurrent_update") return answer;
    }
    return answer!;
  }

  function expectRefused(answer: Answer, status: number, code: string, context: string): void {
    expect({ status: answer.status, code: answer.body.code }, context).toEqual({ status, code });
    expectDocumentedError(answer.status, answer.body, context);
  }

  test("a seeded campaign has one version: active, written by the demo's import", async () => {
    const answer = await get(VERSIONS);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toMatchObject({
      key: `campaign/${COFFEE}`,
      latestVersion: 1,
      nextBeforeVersion: null,
    });
    const [first] = answer.body.versions;
    expect(answer.body.versions).toHaveLength(1);
    expect(first).toMatchObject({
      version: 1,
      state: "active",
      retires: false,
      rollback: false,
      change: { title: DEMO_IMPORT_TITLE, state: "active", operatorAction: null },
    });
    expect(first.changeId).toBe(first.change.id);
    expect(first.change.approvals.length).toBeGreaterThan(0);
    // Written when the import's rollout started; everyone had it once the rollout completed.
    expect(Date.parse(first.writtenAt)).toBeLessThanOrEqual(Date.parse(first.activatedAt));
    // The template's history is its own.
    const coffee = (await get(`/v1/documents/campaign/${COFFEE}`)).body;
    const template = await get(`/v1/documents/template/${coffee.template}/versions`);
    expect(template.body.versions.map((v: { state: string }) => v.state)).toEqual(["active"]);
  });

  test("rolled out, rolled back, lowered by an operator: each version's state, change and times", async () => {
    const coffee = (await get(`/v1/documents/campaign/${COFFEE}`)).body;
    const raised = { ...coffee, limits: { ...coffee.limits, totalBudgetMinor: 4_000_000 } };
    const created = await act("/v1/changes", tokens.alice!, {
      title: "raise the coffee budget",
      edits: [{ op: "put", document: raised }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((await act(`/v1/changes/${id}/submit`, tokens.alice!, {})).body.state).toBe("in_review");
    const approved = await act(`/v1/changes/${id}/approve`, tokens.bob!, {
      contentHash: created.body.contentHash,
    });
    expect(approved.body.state).toBe("approved");
    expect((await act(`/v1/changes/${id}/rollout`, tokens.olga!, {})).body.state).toBe(
      "rolling_out",
    );

    const rolling = (await get(VERSIONS)).body;
    expect(rolling.latestVersion).toBe(2);
    expect(rolling.versions.map((v: { state: string }) => v.state)).toEqual([
      "rolling_out",
      "active",
    ]);
    expect(rolling.versions[0]).toMatchObject({
      version: 2,
      changeId: id,
      rollback: false,
      activatedAt: null,
      change: {
        id,
        title: "raise the coffee budget",
        authorId: "alice",
        state: "rolling_out",
        approvals: [expect.objectContaining({ reviewerId: "bob", byPolicy: false })],
        forced: [],
      },
    });
    expect(Date.parse(rolling.versions[0].writtenAt)).toBeGreaterThanOrEqual(
      Date.parse(rolling.versions[1].writtenAt),
    );
    const second = await get(`${VERSIONS}/2`, tokens.alice!);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ version: 2, state: "rolling_out" });
    expect(second.body.document.limits.totalBudgetMinor).toBe(4_000_000);
    expect((await get(`${VERSIONS}/1`)).body.document).toEqual(coffee);

    const reason = "the budget owner asked to wait a week";
    expect((await act(`/v1/changes/${id}/rollback`, tokens.olga!, { reason })).body.state).toBe(
      "rolled_back",
    );
    const undone = (await get(VERSIONS)).body;
    expect(undone.versions.map((v: { version: number; state: string }) => v.state)).toEqual([
      "active",
      "rolled_back",
      "superseded",
    ]);
    expect(undone.versions[0]).toMatchObject({
      version: 3,
      changeId: `${id}/rollback`,
      rollback: true,
      change: { id, state: "rolled_back", closingReason: reason },
    });
    expect(undone.versions[0].activatedAt).toBe(undone.versions[0].writtenAt);
    expect(undone.versions[1]).toMatchObject({ version: 2, activatedAt: null });
    expect((await get(`${VERSIONS}/3`)).body.document).toEqual(coffee);

    const lowered = { ...coffee.limits, totalBudgetMinor: coffee.limits.totalBudgetMinor - 1 };
    const lowering = await act(`/v1/campaigns/${COFFEE}/lower-limits`, tokens.olga!, {
      limits: lowered,
      reason: "the bank cut its share of the budget",
    });
    expect(lowering.status, JSON.stringify(lowering.body)).toBe(200);
    const latest = (await get(VERSIONS)).body;
    expect(latest.latestVersion).toBe(4);
    expect(latest.versions.map((v: { state: string }) => v.state)).toEqual([
      "active",
      "superseded",
      "rolled_back",
      "superseded",
    ]);
    expect(latest.versions[0]).toMatchObject({
      changeId: lowering.body.id,
      change: { operatorAction: { kind: "lower_limits" }, authorId: "olga" },
    });
    expect(latest.versions[0].activatedAt).toBe(latest.versions[0].writtenAt);
    const times = latest.versions.map((v: { writtenAt: string }) => Date.parse(v.writtenAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  test("pages: newest first, limit versions, nextBeforeVersion until the first", async () => {
    const first = (await get(`${VERSIONS}?limit=3`)).body;
    expect(first.versions.map((v: { version: number }) => v.version)).toEqual([4, 3, 2]);
    expect(first.nextBeforeVersion).toBe(2);
    const rest = (await get(`${VERSIONS}?limit=3&beforeVersion=${first.nextBeforeVersion}`)).body;
    expect(rest.versions.map((v: { version: number }) => v.version)).toEqual([1]);
    expect(rest).toMatchObject({ latestVersion: 4, nextBeforeVersion: null });
    // A page that ends exactly on version 1 says there is nothing older.
    const exact = (await get(`${VERSIONS}?limit=2&beforeVersion=3`)).body;
    expect(exact.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(exact.nextBeforeVersion).toBeNull();
    // Past the newest, the page starts at the newest; below the first, it is empty.
    expect((await get(`${VERSIONS}?beforeVersion=99`)).body.versions).toHaveLength(4);
    expect((await get(`${VERSIONS}?beforeVersion=1`)).body.versions).toEqual([]);
  });

  test("unknown documents and versions are 404; bad parameters 400; nothing else passes", async () => {
    for (const path of [
      "/v1/documents/campaign/no-such-campaign/versions",
      "/v1/documents/campaign/no-such-campaign/versions/1",
      `${VERSIONS}/5`,
      `${VERSIONS}/9007199254740991`,
    ]) {
      expectRefused(await get(path), 404, "not_found", path);
    }
    for (const path of [
      `${VERSIONS}/0`,
      `${VERSIONS}/1.5`,
      `${VERSIONS}/two`,
      `${VERSIONS}/9007199254740992`,
      `${VERSIONS}?limit=0`,
      `${VERSIONS}?limit=101`,
      `${VERSIONS}?beforeVersion=0`,
      `${VERSIONS}?colour=red`,
      "/v1/documents/display/x/versions",
      "/v1/documents/campaign/Bad_Id/versions",
    ]) {
      expectRefused(await get(path), 400, "body_invalid", path);
    }
  });

  test("readers only: every other token is 403, no token 401", async () => {
    for (const role of API_ROLES) {
      const token = await server.tokenFor([role]);
      for (const path of [VERSIONS, `${VERSIONS}/1`]) {
        const answer = await get(path, token);
        if (READERS.includes(role)) expect(answer.status, `${role} ${path}`).toBe(200);
        else expectRefused(answer, 403, "forbidden", `${role} ${path}`);
      }
    }
    expectRefused(await server.request("GET", VERSIONS), 401, "unauthenticated", "no token");
  });
});
