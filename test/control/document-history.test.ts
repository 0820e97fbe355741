/**
 * A document's history as the read model tells it (src/control/document-history.ts), over the
 * memory change store with versions written as the service writes them: the states the HTTP
 * test's flow does not reach — a new document rolling out (nothing active yet), a retirement in
 * force and one rolling out, a version rolled back after its change completed — and the page
 * bounds. The HTTP test (test/server/document-version-routes.test.ts) runs the rest on both
 * durable stores.
 */
import { beforeAll, describe, expect, test } from "vitest";
import { DocumentHistory } from "../../src/control/document-history.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../../src/control/memory-change-store.ts";
import type { ChangeRequest } from "../../src/core/change/change-request.ts";
import {
  documentKeyOf,
  rollbackWriterId,
  writerOf,
} from "../../src/core/change/document-versions.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Program } from "../../src/core/model/program.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";
import {
  draftChange,
  instant,
  programDocument,
  rollingOutChange,
  versionsOf,
} from "./change-store-fixtures.ts";

let program: Program;
beforeAll(async () => {
  const documents: ConfigDocument[] = await exampleDocuments();
  program = documents.find((document) => document.kind === "program") as Program;
});

function ok<T extends { ok: boolean }>(result: T): T {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result)}`);
  return result;
}

async function world() {
  const store = new MemoryChangeStore(new MemoryAuditLogStore());
  return { store, history: new DocumentHistory(store) };
}

/** Writes `change` (new) with `versions` of `document`: version `version`, retiring if asked. */
async function write(
  store: MemoryChangeStore,
  change: ChangeRequest,
  document: ConfigDocument,
  version: number,
  retire = false,
) {
  const versions = versionsOf(change.id, [document], version, retire);
  const stored = await store.getChange(change.id);
  ok(await store.writeChange(change, stored?.revision ?? 0, versions, undefined));
  return versions;
}

describe("document history", () => {
  test("a new document rolling out: its first version is rolling out, none active yet", async () => {
    const { store, history } = await world();
    const document = programDocument(program, "p-new");
    const draft = draftChange(await store.nextChangeId(), [document]);
    const written = versionsOf(draft.id, [document], 1);
    await write(store, rollingOutChange(draft, written), document, 1);
    const page = await history.page(documentKeyOf(document), { limit: 5 });
    expect(page?.versions.map((v) => [v.version, v.state, v.activatedAt])).toEqual([
      [1, "rolling_out", null],
    ]);
    expect(page?.versions[0]?.change).toMatchObject({
      forced: [{ gate: "lint", adminIds: ["root1", "root2"] }],
      approvals: [{ reviewerId: "rui" }, { reviewerId: "mei" }],
    });
  });

  test("retirements: one in force is retired; one rolling out leaves the version before it active", async () => {
    const { store, history } = await world();
    const document = programDocument(program, "p-old");
    const key = documentKeyOf(document);
    const first = draftChange(await store.nextChangeId(), [document]);
    await write(store, { ...first, state: "active", updatedAt: instant(1_000) }, document, 1);
    const retiring = draftChange(await store.nextChangeId(), []);
    const retired = versionsOf(retiring.id, [document], 2, true);
    await write(store, rollingOutChange(retiring, retired), document, 2, true);
    expect((await history.page(key, { limit: 5 }))?.versions.map((v) => v.state)).toEqual([
      "rolling_out",
      "active",
    ]);
    // Its rollout completes: the change's last write.
    const rolled = (await store.getChange(retiring.id))!;
    const completed = { ...rolled.change, state: "active" as const, updatedAt: instant(90_000) };
    ok(await store.writeChange(completed, rolled.revision, [], undefined));
    const page = await history.page(key, { limit: 5 });
    expect(page?.versions.map((v) => [v.state, v.retires, v.activatedAt])).toEqual([
      ["retired", true, instant(90_000)],
      ["superseded", false, instant(1_000)],
    ]);
    expect((await history.version(key, 2))?.document).toBeNull();
  });

  test("a change rolled back after it completed: its version rolled back, the rollback active and in force at once", async () => {
    const { store, history } = await world();
    const document = programDocument(program, "p-back");
    const key = documentKeyOf(document);
    const first = draftChange(await store.nextChangeId(), [document]);
    await write(store, { ...first, state: "active" }, document, 1);
    const raised = { ...document, name: "raised" };
    const second = draftChange(await store.nextChangeId(), [raised]);
    await write(store, { ...second, state: "active", updatedAt: instant(5_000) }, raised, 2);
    const rolledBack: ChangeRequest = {
      ...second,
      state: "rolled_back",
      closingReason: "the bank withdrew",
      updatedAt: instant(9_000),
    };
    ok(
      await store.writeChange(
        { ...rolledBack, written: versionsOf(second.id, [raised], 2) },
        1,
        versionsOf(rollbackWriterId(second.id), [document], 3),
        undefined,
      ),
    );
    const page = await history.page(key, { limit: 5 });
    expect(page?.versions.map((v) => [v.version, v.state, v.rollback, v.activatedAt])).toEqual([
      [3, "active", true, instant(9_000)],
      [2, "rolled_back", false, null],
      [1, "superseded", false, first.updatedAt],
    ]);
    expect(page?.versions[0]?.change).toMatchObject({
      id: second.id,
      closingReason: "the bank withdrew",
    });
  });

  test("pages are 1..100 versions; unknown documents and versions are undefined", async () => {
    const { store, history } = await world();
    const document = programDocument(program, "p-pages");
    const change = draftChange(await store.nextChangeId(), [document]);
    for (let version = 1; version <= 3; version += 1) {
      const versions = versionsOf(change.id, [{ ...document, name: `v${version}` }], version);
      ok(await store.writeChange(change, version - 1, versions, undefined));
    }
    const key = documentKeyOf(document);
    expect((await history.page(key, { limit: 0 }))?.versions).toHaveLength(1);
    expect((await history.page(key, { limit: 1_000 }))?.versions).toHaveLength(3);
    expect(await history.page("program/nobody", { limit: 5 })).toBeUndefined();
    expect(await history.version(key, 4)).toBeUndefined();
    expect(await history.version("program/nobody", 1)).toBeUndefined();
    expect(writerOf("change-4/rollback")).toEqual({ changeId: "change-4", rollback: true });
    expect(writerOf("change-4")).toEqual({ changeId: "change-4", rollback: false });
  });
});
