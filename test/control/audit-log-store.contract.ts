/**
 * The contract every audit log store passes (src/control/audit-log.ts), against a real database
 * for the durable ones. A store's test file calls `describeAuditLogStoreContract` with a factory
 * giving a fresh, empty log for every test and, for a durable store, how to open it again, how
 * child processes open it, and raw SQL access to its tables for the tamper tests.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import {
  type AuditLogStore,
  AuditLogStoreError,
  auditEntryHash,
} from "../../src/control/audit-log.ts";
import type { AuditProblemCode } from "../../src/core/audit/audit-chain-verifier.ts";
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  type AuditEntryInput,
  type AuditHead,
} from "../../src/core/audit/audit-entry.ts";

/** Raw SQL on the store's tables, as someone with access to the database would tamper. */
export interface AuditTamper {
  /** SQL with `?` placeholders. */
  run(sql: string, params?: readonly unknown[]): Promise<void>;
  /** Drops the append-only triggers, as a tamperer with DDL rights can. */
  dropGuards(): Promise<void>;
  close(): Promise<void>;
}

export interface AuditLogUnderTest {
  readonly store: AuditLogStore;
  /** Opens the same log again after `store` was closed: a restart. */
  readonly reopen?: () => Promise<AuditLogStore>;
  /** Arguments after the child script's path that open the same log in another process. */
  readonly childArgs?: readonly string[];
  readonly tamper?: () => Promise<AuditTamper>;
}

const CHILD = fileURLToPath(new URL("./audit-append-child.ts", import.meta.url));
const T0_MS = Date.UTC(2025, 0, 16, 6, 40);

export function auditInput(
  index: number,
  overrides: Partial<AuditEntryInput> = {},
): AuditEntryInput {
  return {
    at: new Date(T0_MS + index * 1_000).toISOString(),
    actor: index % 2 === 0 ? "alice" : "bob@risk",
    action: index % 3 === 0 ? "change.created" : "change.approved",
    subject: `change/${index}`,
    contentHash: index % 2 === 0 ? auditEntryHash({ ...placeholder, sequence: index + 1 }) : null,
    reason: index % 2 === 1 ? `reason ${index}: «ok» 补贴` : null,
    details: { index, tags: ["a", "b"], nested: { ok: true, none: null } },
    ...overrides,
  };
}

const placeholder = {
  sequence: 1,
  at: "2025-01-16T06:40:00.000Z",
  actor: "x",
  action: "change.created" as const,
  subject: "change/0",
  contentHash: null,
  reason: null,
  details: {},
  previousHash: AUDIT_GENESIS_HASH,
};

function runChild(args: readonly string[], count: number, actor: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CHILD, ...args, String(count), actor],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`appending process ${actor} exited ${code}: ${stderr}`));
      else resolve((JSON.parse(stdout) as { sequences: number[] }).sequences);
    });
  });
}

async function appendAll(store: AuditLogStore, count: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const result = await store.append(auditInput(index));
    if (!result.ok) throw new Error(`append refused: ${result.code}`);
    entries.push(result.entry);
  }
  return entries;
}

async function readAll(store: AuditLogStore): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (;;) {
    const page = await store.read(entries.length + 1, 1_000);
    entries.push(...page);
    if (page.length < 1_000) return entries;
  }
}

function problems(violations: readonly { sequence: number; problem: AuditProblemCode }[]) {
  return violations.map((violation) => `${violation.problem}@${violation.sequence}`);
}

export function describeAuditLogStoreContract(
  name: string,
  create: () => Promise<AuditLogUnderTest>,
): void {
  describe(`audit log store contract: ${name}`, () => {
    const opened: AuditLogStore[] = [];
    const tampers: AuditTamper[] = [];
    const open = async () => {
      const underTest = await create();
      opened.push(underTest.store);
      return underTest;
    };
    const reopened = async (underTest: AuditLogUnderTest) => {
      const store = await underTest.reopen!();
      opened.push(store);
      return store;
    };
    const tamperOf = async (underTest: AuditLogUnderTest) => {
      const tamper = await underTest.tamper!();
      tampers.push(tamper);
      return tamper;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close().catch(() => {});
      for (const tamper of tampers.splice(0)) await tamper.close();
    });

    test("an empty log has the genesis head, no entries, and verifies", async () => {
      const { store } = await open();
      expect(await store.head()).toEqual({ sequence: 0, hash: AUDIT_GENESIS_HASH });
      expect(await store.read(1, 10)).toEqual([]);
      expect(await store.verify()).toEqual({
        entries: 0,
        head: { sequence: 0, hash: AUDIT_GENESIS_HASH },
        violations: [],
        violationsOmitted: 0,
        ok: true,
      });
    });

    test("appends number, link and hash entries; read pages them in order; head follows", async () => {
      const { store } = await open();
      const appended = await appendAll(store, 5);
      expect(appended.map((entry) => entry.sequence)).toEqual([1, 2, 3, 4, 5]);
      expect(appended[0]!.previousHash).toBe(AUDIT_GENESIS_HASH);
      for (const [index, entry] of appended.entries()) {
        const { hash, ...unsealed } = entry;
        expect(hash).toBe(auditEntryHash(unsealed));
        if (index > 0) expect(entry.previousHash).toBe(appended[index - 1]!.hash);
        expect(entry).toMatchObject({ ...auditInput(index) });
      }
      expect(await store.read(1, 10)).toEqual(appended);
      expect(await store.read(2, 2)).toEqual(appended.slice(1, 3));
      expect(await store.read(6, 10)).toEqual([]);
      expect(await store.head()).toEqual({ sequence: 5, hash: appended[4]!.hash });
      const verification = await store.verify();
      expect(verification).toMatchObject({ entries: 5, ok: true, violations: [] });
      expect(verification.head).toEqual({ sequence: 5, hash: appended[4]!.hash });
    });

    test("details are stored as their canonical text: key order does not change the hash", async () => {
      const { store } = await open();
      const first = await store.append(
        auditInput(0, { details: { b: 1, a: { d: [1, "x"], c: null } } }),
      );
      const read = await store.read(1, 1);
      expect(first.ok && read[0]).toEqual(first.ok && first.entry);
      expect(Object.keys(read[0]!.details)).toEqual(["a", "b"]);
      expect((await store.verify()).ok).toBe(true);
    });

    test("inputs beyond the limits are refused as values with codes, and nothing is written", async () => {
      const { store } = await open();
      await appendAll(store, 1);
      const head = await store.head();
      const refusals: [Partial<AuditEntryInput>, string][] = [
        [{ at: "2025-02-30T00:00:00.000Z" }, "at_invalid"],
        [{ at: "2025-01-16T06:40:00Z" }, "at_invalid"],
        [{ actor: "" }, "actor_invalid"],
        [{ actor: "a".repeat(129) }, "actor_invalid"],
        [{ actor: "alice smith" }, "actor_invalid"],
        [{ action: "change.exploded" as AuditEntryInput["action"] }, "action_unknown"],
        [{ subject: "change" }, "subject_invalid"],
        [{ subject: `change/${"9".repeat(300)}` }, "subject_invalid"],
        [{ contentHash: "ABC" }, "content_hash_invalid"],
        [{ reason: "" }, "reason_invalid"],
        [{ reason: "nul \u0000 inside" }, "reason_invalid"],
        [{ reason: "lone \ud800 surrogate" }, "reason_invalid"],
        [{ reason: "补".repeat(667) }, "reason_too_long"],
        [{ details: { amount: 1.5 } }, "details_invalid"],
        [{ details: { "bad key": 1 } }, "details_invalid"],
        [{ details: { a: { b: { c: { d: { e: 1 } } } } } }, "details_invalid"],
        [{ details: [] as unknown as AuditEntryInput["details"] }, "details_invalid"],
        [{ details: { text: "x".repeat(4_100) } }, "details_too_large"],
      ];
      for (const [override, code] of refusals) {
        const result = await store.append(auditInput(1, override));
        expect(result.ok ? "appended" : result.code, JSON.stringify(override).slice(0, 80)).toBe(
          code,
        );
      }
      // At the limits exactly: accepted.
      const atLimits = await store.append(
        auditInput(1, {
          actor: "a".repeat(128),
          reason: "补".repeat(666),
          // Four levels counting details itself, as documented.
          details: { a: { b: { c: { d: 1 } } } },
        }),
      );
      expect(atLimits.ok).toBe(true);
      expect((await store.head()).sequence).toBe(head.sequence + 1);
      expect((await store.verify()).ok).toBe(true);
    });

    test("read refuses a range out of bounds; a closed store refuses every call", async () => {
      const { store } = await open();
      await expect(store.read(0, 10)).rejects.toMatchObject({ code: "invalid_request" });
      await expect(store.read(1, 10_001)).rejects.toMatchObject({ code: "invalid_request" });
      await store.close();
      await expect(store.append(auditInput(0))).rejects.toBeInstanceOf(AuditLogStoreError);
      await expect(store.head()).rejects.toMatchObject({ code: "closed" });
    });

    test("many appends at once in one process form one chain", async () => {
      const { store } = await open();
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, index) => store.append(auditInput(index))),
      );
      const sequences = results.map((result) => (result.ok ? result.entry.sequence : -1));
      expect([...sequences].sort((left, right) => left - right)).toEqual(
        Array.from({ length: 60 }, (_, index) => index + 1),
      );
      expect(await store.verify()).toMatchObject({ entries: 60, ok: true });
    });

    test("the chain carries on across close and reopen", async (context) => {
      const underTest = await open();
      if (underTest.reopen === undefined) context.skip("a memory log does not outlive its store");
      const before = await appendAll(underTest.store, 3);
      await underTest.store.close();
      const store = await reopened(underTest);
      expect(await store.head()).toEqual({ sequence: 3, hash: before[2]!.hash });
      const next = await store.append(auditInput(3));
      expect(next.ok && next.entry).toMatchObject({ sequence: 4, previousHash: before[2]!.hash });
      expect(await readAll(store)).toEqual([...before, next.ok && next.entry]);
      expect(await store.verify()).toMatchObject({ entries: 4, ok: true });
    });

    test("processes appending at once form one unbroken chain, no sequence twice", async (context) => {
      const underTest = await open();
      const childArgs = underTest.childArgs;
      if (childArgs === undefined) context.skip("a memory log lives in one process");
      const perChild = 40;
      const [own, ...children] = await Promise.all([
        Promise.all(
          Array.from({ length: perChild }, (_, index) => underTest.store.append(auditInput(index))),
        ),
        runChild(childArgs!, perChild, "process1"),
        runChild(childArgs!, perChild, "process2"),
        runChild(childArgs!, perChild, "process3"),
      ]);
      const sequences = [
        ...own.map((result) => (result.ok ? result.entry.sequence : -1)),
        ...children.flat(),
      ];
      const total = perChild * 4;
      expect(new Set(sequences).size).toBe(total);
      expect([...sequences].sort((left, right) => left - right)).toEqual(
        Array.from({ length: total }, (_, index) => index + 1),
      );
      const entries = await readAll(underTest.store);
      for (const actor of ["process1", "process2", "process3"]) {
        expect(entries.filter((entry) => entry.actor === actor)).toHaveLength(perChild);
      }
      expect(await underTest.store.verify()).toMatchObject({ entries: total, ok: true });
    });

    describe("tampering through SQL", () => {
      const ENTRIES = 8;
      /** A log of eight entries and SQL access to it, the append-only triggers dropped. */
      const tampered = async (context: { skip: (note: string) => never }) => {
        const underTest = await open();
        if (underTest.tamper === undefined) context.skip("no SQL behind a memory log");
        const entries = await appendAll(underTest.store, ENTRIES);
        const tamper = await tamperOf(underTest);
        await tamper.dropGuards();
        return { store: underTest.store, entries, tamper };
      };
      const anchorOf = (entries: readonly AuditEntry[]): AuditHead => ({
        sequence: entries.at(-1)!.sequence,
        hash: entries.at(-1)!.hash,
      });

      test("the append-only triggers refuse UPDATE and DELETE until dropped", async (context) => {
        const underTest = await open();
        if (underTest.tamper === undefined) context.skip("no SQL behind a memory log");
        await appendAll(underTest.store, 2);
        const tamper = await tamperOf(underTest);
        await expect(tamper.run("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow(
          /append-only/,
        );
        await expect(tamper.run("DELETE FROM audit_log WHERE sequence = 1")).rejects.toThrow(
          /append-only/,
        );
        expect((await underTest.store.verify()).ok).toBe(true);
      });

      const edits: [string, string, unknown][] = [
        ["at", "at", "2025-01-16T06:39:59.000Z"],
        ["actor", "actor", "mallory"],
        ["action", "action", "change.forced"],
        ["subject", "subject", "change/999"],
        ["contentHash", "content_hash", "f".repeat(64)],
        ["reason", "reason", "approved after review"],
        ["details", "details_json", '{"index":3}'],
        ["previousHash", "previous_hash", "e".repeat(64)],
      ];
      for (const [field, column, value] of edits) {
        test(`an edited ${field} is reported as edited`, async (context) => {
          const { store, tamper } = await tampered(context);
          await tamper.run(`UPDATE audit_log SET ${column} = ? WHERE sequence = 4`, [value]);
          const verification = await store.verify();
          expect(problems(verification.violations)).toEqual(["edited@4"]);
          expect(verification.ok).toBe(false);
        });
      }

      test("an edited hash is reported as edited, and the next entry's link as broken", async (context) => {
        const { store, tamper } = await tampered(context);
        await tamper.run("UPDATE audit_log SET hash = ? WHERE sequence = 4", ["a".repeat(64)]);
        expect(problems((await store.verify()).violations)).toEqual(["edited@4", "broken_link@5"]);
      });

      test("an edit to an action outside the catalog is reported as malformed", async (context) => {
        const { store, tamper } = await tampered(context);
        await tamper.run("UPDATE audit_log SET action = 'change.vanished' WHERE sequence = 2");
        expect(problems((await store.verify()).violations)).toEqual(["malformed@2"]);
      });

      test("a deleted middle entry is reported as missing", async (context) => {
        const { store, tamper } = await tampered(context);
        await tamper.run("DELETE FROM audit_log WHERE sequence = 4");
        expect((await store.verify()).violations).toEqual([
          { sequence: 4, problem: "missing", expected: "4", actual: "5" },
        ]);
      });

      test("the newest entry deleted: the recorded head sees it; deleted with the head moved back, only the anchor does", async (context) => {
        const { store, entries, tamper } = await tampered(context);
        await tamper.run("DELETE FROM audit_log WHERE sequence = ?", [ENTRIES]);
        expect(problems((await store.verify()).violations)).toEqual([`head_mismatch@${ENTRIES}`]);
        await tamper.run("UPDATE audit_head SET sequence = ?, hash = ?", [
          ENTRIES - 1,
          entries[ENTRIES - 2]!.hash,
        ]);
        // Undetectable from the log alone: it is a valid, shorter log.
        expect(await store.verify()).toMatchObject({ ok: true, entries: ENTRIES - 1 });
        expect((await store.verify({ anchor: anchorOf(entries) })).violations).toEqual([
          {
            sequence: ENTRIES,
            problem: "truncated",
            expected: String(ENTRIES),
            actual: String(ENTRIES - 1),
          },
        ]);
      });

      test("a forged entry with a recomputed hash in place of another breaks the next entry's link", async (context) => {
        const { store, entries, tamper } = await tampered(context);
        const forged = forgedAfter(entries[2]!, "mallory");
        await tamper.run("DELETE FROM audit_log WHERE sequence = 4");
        await insertRow(tamper, forged);
        expect((await store.verify()).violations).toEqual([
          { sequence: 5, problem: "broken_link", expected: forged.hash, actual: entries[3]!.hash },
        ]);
      });

      test("a forged newest entry with a recomputed chain and head is seen only with the anchor", async (context) => {
        const { store, entries, tamper } = await tampered(context);
        const forged = forgedAfter(entries[ENTRIES - 2]!, "mallory");
        await tamper.run("DELETE FROM audit_log WHERE sequence = ?", [ENTRIES]);
        await insertRow(tamper, forged);
        await tamper.run("UPDATE audit_head SET sequence = ?, hash = ?", [ENTRIES, forged.hash]);
        expect((await store.verify()).ok).toBe(true);
        expect((await store.verify({ anchor: anchorOf(entries) })).violations).toEqual([
          {
            sequence: ENTRIES,
            problem: "anchor_mismatch",
            expected: entries[ENTRIES - 1]!.hash,
            actual: forged.hash,
          },
        ]);
      });

      test("a forged entry pushed in between is reported as inserted, the entries after it as moved", async (context) => {
        const { store, entries, tamper } = await tampered(context);
        for (let sequence = ENTRIES; sequence >= 5; sequence -= 1) {
          await tamper.run("UPDATE audit_log SET sequence = ? WHERE sequence = ?", [
            sequence + 1,
            sequence,
          ]);
        }
        await insertRow(tamper, forgedAfter(entries[3]!, "mallory"));
        expect(problems((await store.verify()).violations)).toEqual([
          "inserted@5",
          "reordered@6",
          "reordered@7",
          "reordered@8",
          "reordered@9",
          `head_mismatch@${ENTRIES}`,
        ]);
      });

      test("two entries swapped are reported as reordered, each with where it was written", async (context) => {
        const { store, tamper } = await tampered(context);
        await tamper.run("UPDATE audit_log SET sequence = 1000 WHERE sequence = 3");
        await tamper.run("UPDATE audit_log SET sequence = 3 WHERE sequence = 6");
        await tamper.run("UPDATE audit_log SET sequence = 6 WHERE sequence = 1000");
        expect((await store.verify()).violations).toEqual([
          { sequence: 3, problem: "reordered", expected: "3", actual: "6" },
          { sequence: 6, problem: "reordered", expected: "6", actual: "3" },
        ]);
      });
    });
  });
}

/** An entry forged to follow `previous`, with a correct hash: what a tamperer who knows the encoding writes. */
function forgedAfter(previous: AuditEntry, actor: string): AuditEntry {
  const unsealed = {
    ...auditInput(previous.sequence, { actor, reason: "forged" }),
    sequence: previous.sequence + 1,
    previousHash: previous.hash,
  };
  return { ...unsealed, hash: auditEntryHash(unsealed) };
}

async function insertRow(tamper: AuditTamper, entry: AuditEntry): Promise<void> {
  await tamper.run(
    "INSERT INTO audit_log (sequence, at, actor, action, subject, content_hash, reason, details_json, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [
      entry.sequence,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject,
      entry.contentHash,
      entry.reason,
      JSON.stringify(entry.details),
      entry.previousHash,
      entry.hash,
    ],
  );
}
