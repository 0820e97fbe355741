/**
 * The change pipeline end to end over each store: memory, a real SQLite file and the real
 * PostgreSQL server, with a restart in the middle for the durable ones. The clock is injected and
 * every hash is deterministic, so the flow leaves the same change requests, the same versions
 * and the same audit chain, to the last hash, in every store: the durable stores are held to the
 * memory store, the service's own model (change-service.test.ts tests the service's rules).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import { type AssessProposal, ChangeService } from "../../src/control/change-service.ts";
import type { ChangeStore } from "../../src/control/change-store.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import type { AuditEntry } from "../../src/core/audit/audit-entry.ts";
import type { ChangeRequest, Principal } from "../../src/core/change/change-request.ts";
import type { DocumentVersion } from "../../src/core/change/document-versions.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Template } from "../../src/core/model/template.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { PostgresChangeStore } from "../../src/stores/postgres/postgres-change-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteChangeStore } from "../../src/stores/sqlite/sqlite-change-store.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";
import { importAsActive } from "./rollout-helpers.ts";

const ana: Principal = { id: "ana", roles: ["author"] };
const rui: Principal = { id: "rui", roles: ["reviewer"] };
const mei: Principal = { id: "mei", roles: ["reviewer"] };
const ops: Principal = { id: "ops", roles: ["operator"] };

interface Stores {
  readonly store: ChangeStore;
  readonly audit: AuditLogStore;
  /** Closes both and opens them again on the same file or database; memory keeps its objects. */
  restart(): Promise<Stores>;
}

/** What the flow leaves behind, compared across stores. */
interface Outcome {
  readonly changes: readonly ChangeRequest[];
  readonly versions: readonly DocumentVersion[];
  readonly audit: readonly AuditEntry[];
}

const directory = mkdtempSync(join(tmpdir(), "bursar-change-service-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function memoryStores(): Stores {
  const audit = new MemoryAuditLogStore();
  const stores: Stores = {
    store: new MemoryChangeStore(audit),
    audit,
    restart: async () => stores,
  };
  return stores;
}

function sqliteStores(path: string): Stores {
  const store = SqliteChangeStore.open({ path });
  const audit = SqliteAuditLogStore.open({ path });
  return {
    store,
    audit,
    restart: async () => {
      await Promise.all([store.close(), audit.close()]);
      return sqliteStores(path);
    },
  };
}

async function postgresStores(url: string, schema: string): Promise<Stores> {
  const store = await PostgresChangeStore.open({ url, schema });
  const audit = await PostgresAuditLogStore.open({ url, schema });
  return {
    store,
    audit,
    restart: async () => {
      await Promise.all([store.close(), audit.close()]);
      return postgresStores(url, schema);
    },
  };
}

function ok<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

/**
 * Seeds the examples, rolls a rename out stage by stage, keeps a submission refused at lint, rolls
 * the rename back, rejects a template edit.
 */
async function runFlow(first: Stores, documents: readonly ConfigDocument[]): Promise<Outcome> {
  let stores = first;
  const clock = { nowMs: Date.parse("2026-12-02T06:40:00.000Z") };
  let next: Awaited<ReturnType<AssessProposal>> = {
    findings: [],
    money: { currentSubsidyPerHourMinor: 0, proposedSubsidyPerHourMinor: 0 },
    forecast: { subsidyPerPaymentMilliMinor: 0, subsidisedShareBps: 0 },
  };
  const serviceOf = (store: ChangeStore) =>
    new ChangeService({
      store,
      assess: async () => next,
      now: () => new Date(clock.nowMs).toISOString(),
    });
  let service = serviceOf(stores.store);

  await importAsActive(
    service,
    clock,
    { author: ana, reviewers: [rui, mei], operator: ops },
    documents,
  );

  stores = await stores.restart();
  service = serviceOf(stores.store);
  next = {
    findings: [],
    money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 100_000 },
    forecast: { subsidyPerPaymentMilliMinor: 2_000, subsidisedShareBps: 4_000 },
  };
  const coffee = documents.find(
    (document) => document.kind === "campaign" && document.id === "idc-coffee-afternoon-tea",
  ) as Campaign;
  const renamed: Campaign = { ...coffee, name: "Coffee, renamed" };
  const rename = ok(await service.create(ana, "rename", [{ op: "put", document: renamed }]));
  expect(ok(await service.submit(ana, rename.change.id, [])).change.state).toBe("approved");
  ok(await service.startRollout(ops, rename.change.id));
  const serving = await service.servingConfiguration();
  expect(serving.rollout?.changeId).toBe(rename.change.id);
  expect(serving.stable.find((document) => document.id === coffee.id)).toEqual(coffee);
  for (const stage of (await service.show(rename.change.id))!.rollout!.plan.stages) {
    ok(
      await service.observe(
        rename.change.id,
        { payments: 1_000, subsidisedPayments: 400, subsidyMinor: 2_000 },
        new Date(clock.nowMs).toISOString(),
      ),
    );
    clock.nowMs += stage.dwellMinMs;
    ok(await service.judge(rename.change.id));
  }
  expect((await service.show(rename.change.id))!.state).toBe("active");
  expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
    renamed,
  );

  // A submission refused at lint keeps its assessment on the draft, across a restart.
  const lintError = {
    key: "lint.template_edit_changes_offer_kind|template/instant-discount|offer",
    code: "lint.template_edit_changes_offer_kind",
    severity: "error" as const,
    message: "fixed becomes percent for every campaign of the template",
  };
  next = {
    findings: [lintError],
    money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 9_000_000 },
    forecast: { subsidyPerPaymentMilliMinor: 2_500_000, subsidisedShareBps: 4_000 },
    sample: "synthetic traffic for the test",
  };
  const instant = documents.find(
    (document) => document.kind === "template" && document.id === "instant-discount",
  ) as Template;
  const percent = {
    ...instant,
    offer: { kind: "percent", rateBps: 2_000, capMinor: 20_000 },
  } as Template;
  const refusedChange = ok(
    await service.create(ana, "20 % off", [{ op: "put", document: percent }]),
  );
  expect(await service.submit(ana, refusedChange.change.id, [])).toMatchObject({
    code: "lint_errors",
  });

  stores = await stores.restart();
  service = serviceOf(stores.store);
  const kept = (await service.show(refusedChange.change.id))!;
  expect(kept.state).toBe("draft");
  expect(kept.assessment).toMatchObject({
    findings: [lintError],
    proposedSubsidyPerHourMinor: 9_000_000,
    refused: { code: "lint_errors", at: new Date(clock.nowMs).toISOString() },
  });
  next = {
    findings: [],
    money: { currentSubsidyPerHourMinor: 100_000, proposedSubsidyPerHourMinor: 100_000 },
    forecast: { subsidyPerPaymentMilliMinor: 2_000, subsidisedShareBps: 4_000 },
  };
  ok(await service.rollBack(ops, rename.change.id, "the name confused the cashier screen"));
  expect((await service.activeDocuments()).find((document) => document.id === coffee.id)).toEqual(
    coffee,
  );
  const template = documents.find(
    (document) => document.kind === "template" && document.id === "instant-discount",
  ) as Template;
  const bigger = { ...template, offer: { kind: "fixed", amountMinor: 150 } } as Template;
  const edit = ok(await service.create(ana, "bigger discount", [{ op: "put", document: bigger }]));
  expect(ok(await service.submit(ana, edit.change.id, [])).change.state).toBe("in_review");
  ok(await service.reject(rui, edit.change.id, "not in this quarter's budget"));

  const audit: AuditEntry[] = [];
  for (;;) {
    const page = await stores.audit.read(audit.length + 1, 1_000);
    audit.push(...page);
    if (page.length < 1_000) break;
  }
  expect(await stores.audit.verify()).toMatchObject({ entries: audit.length, ok: true });
  const outcome = {
    changes: await stores.store.listChanges({ limit: 100 }),
    versions: [...(await stores.store.latestVersions())].sort((left, right) =>
      left.key < right.key ? -1 : 1,
    ),
    audit,
  };
  await Promise.all([stores.store.close(), stores.audit.close()]);
  return outcome;
}

describe("the change pipeline over every store", () => {
  let documents: ConfigDocument[];
  let model: Outcome;

  beforeAll(async () => {
    documents = await exampleDocuments();
    model = await runFlow(memoryStores(), documents);
  });

  test("memory: the model's flow is what the service tests expect", () => {
    expect(model.changes.map((change) => change.state)).toEqual([
      "rejected",
      "draft",
      "rolled_back",
      "active",
    ]);
    expect(model.versions).toHaveLength(documents.length);
    expect(model.audit.length).toBeGreaterThan(10);
  });

  test("sqlite: the same changes, versions and audit chain, across two restarts", async () => {
    const outcome = await runFlow(sqliteStores(join(directory, "control.sqlite")), documents);
    expect(outcome).toEqual(model);
  });

  test("postgres: the same changes, versions and audit chain, across two restarts", async () => {
    const schema = `change_service_${process.pid}`;
    const outcome = await runFlow(await postgresStores(inject("postgresUrl"), schema), documents);
    expect(outcome).toEqual(model);
  });
});
