/**
 * The contract every kill store passes (src/guard/kill-store.ts): the memory store and the
 * durable ones against a real SQLite file and the real PostgreSQL server. A store's test calls
 * `describeKillStoreContract` with a factory giving a fresh, empty store for every test, the audit
 * log it appends to, and, for a durable store, how to open it again and a second instance beside it.
 */
import { afterEach, describe, expect, test } from "vitest";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import { KILL_LIMITS, type KillScope } from "../../src/core/guard/kill.ts";
import type { KillStore, PublishKillRequest } from "../../src/guard/kill-store.ts";

export interface KillStoreUnderTest {
  readonly store: KillStore;
  readonly audit: AuditLogStore;
  /** Opens the same store again after `store` was closed: a restart. */
  readonly reopen?: () => Promise<KillStore>;
  /** Another store on the same file or database, on connections of its own. */
  readonly another?: () => Promise<KillStore>;
}

const AT_MS = Date.UTC(2025, 0, 16, 0, 31);

function request(
  scope: KillScope,
  overrides: Partial<PublishKillRequest> = {},
): PublishKillRequest {
  return { scope, reason: "spend far above forecast", actor: "oncall", atMs: AT_MS, ...overrides };
}

const SCOPES: readonly KillScope[] = [
  { kind: "campaigns", campaignIds: ["a-coffee", "c-bank"] },
  { kind: "template", templateId: "instant-discount" },
  { kind: "funding", funding: "government" },
  { kind: "all" },
];

export function describeKillStoreContract(
  name: string,
  open: () => Promise<KillStoreUnderTest>,
): void {
  describe(`kill store contract: ${name}`, () => {
    const opened: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((each) => each.close().catch(() => {})));
    });
    const fresh = async () => {
      const underTest = await open();
      opened.push(underTest.store, underTest.audit);
      return underTest;
    };

    test("an empty store is at sequence 0 with no kills", async () => {
      const { store } = await fresh();
      expect(await store.readState()).toEqual({ sequence: 0, active: [] });
      expect(await store.readSequence()).toBe(0);
    });

    test("every scope is kept as published, in sequence order, each with its kill.set entry", async () => {
      const { store, audit } = await fresh();
      for (const [index, scope] of SCOPES.entries()) {
        const result = await store.publishKill(request(scope, { atMs: AT_MS + index }));
        expect(result).toEqual({
          ok: true,
          sequence: index + 1,
          kill: {
            sequence: index + 1,
            scope,
            reason: "spend far above forecast",
            actor: "oncall",
            atMs: AT_MS + index,
          },
        });
      }
      const state = await store.readState();
      expect(state.sequence).toBe(SCOPES.length);
      expect(state.active.map((kill) => kill.scope)).toEqual(SCOPES);
      const entries = await audit.read(1, 100);
      expect(entries.map((entry) => [entry.action, entry.subject, entry.actor])).toEqual(
        SCOPES.map((_, index) => ["kill.set", `kill/${index + 1}`, "oncall"]),
      );
      expect(entries[0]).toMatchObject({
        at: "2025-01-16T00:31:00.000Z",
        reason: "spend far above forecast",
        details: { scope: { kind: "campaigns", campaignIds: ["a-coffee", "c-bank"] } },
      });
      expect(await audit.verify()).toMatchObject({ ok: true, entries: SCOPES.length });
    });

    test("a clear moves the sequence, removes the kill and is audited; a second clear is refused", async () => {
      const { store, audit } = await fresh();
      await store.publishKill(request({ kind: "all" }));
      await store.publishKill(request({ kind: "funding", funding: "bank" }));
      const clear = { killSequence: 1, reason: "false alarm", actor: "lead", atMs: AT_MS + 5 };
      expect(await store.clearKill(clear)).toMatchObject({
        ok: true,
        sequence: 3,
        kill: { sequence: 1 },
      });
      expect(await store.readState()).toMatchObject({ sequence: 3, active: [{ sequence: 2 }] });
      expect(await store.clearKill(clear)).toMatchObject({ ok: false, code: "kill_not_active" });
      expect(await store.clearKill({ ...clear, killSequence: 99 })).toMatchObject({
        ok: false,
        code: "kill_not_active",
      });
      expect(await store.clearKill({ ...clear, killSequence: 0 })).toMatchObject({
        ok: false,
        code: "kill_not_active",
      });
      const last = (await audit.read(3, 1))[0];
      expect(last).toMatchObject({
        action: "kill.cleared",
        subject: "kill/1",
        actor: "lead",
        reason: "false alarm",
        details: { clearedAtSequence: 3 },
      });
      expect(await store.readSequence()).toBe(3);
    });

    test("refusals write nothing: a malformed kill, an actor the audit log refuses", async () => {
      const { store, audit } = await fresh();
      const bad = [
        request({ kind: "campaigns", campaignIds: [] }),
        request({ kind: "all" }, { reason: "" }),
        request({ kind: "nothing" } as unknown as KillScope),
        request({ kind: "all" }, { atMs: -1 }),
      ];
      for (const each of bad) {
        expect(await store.publishKill(each)).toMatchObject({ ok: false, code: "kill_invalid" });
      }
      expect(
        await store.publishKill(request({ kind: "all" }, { actor: "no spaces allowed" })),
      ).toMatchObject({
        ok: false,
        code: "audit_refused",
      });
      await store.publishKill(request({ kind: "all" }));
      expect(
        await store.clearKill({
          killSequence: 1,
          reason: "r",
          actor: "no spaces allowed",
          atMs: AT_MS,
        }),
      ).toMatchObject({ ok: false, code: "audit_refused" });
      expect(await store.readState()).toMatchObject({ sequence: 1, active: [{ sequence: 1 }] });
      expect((await audit.head()).sequence).toBe(1);
    });

    test(`at most ${KILL_LIMITS.activeKillsMax} active kills`, async () => {
      const { store } = await fresh();
      for (let index = 0; index < KILL_LIMITS.activeKillsMax; index += 1) {
        const result = await store.publishKill(
          request({ kind: "template", templateId: `t${index}` }),
        );
        if (!result.ok) throw new Error(result.message);
      }
      expect(await store.publishKill(request({ kind: "all" }))).toMatchObject({
        ok: false,
        code: "too_many_kills",
      });
      await store.clearKill({ killSequence: 1, reason: "r", actor: "oncall", atMs: AT_MS });
      expect(await store.publishKill(request({ kind: "all" }))).toMatchObject({
        ok: true,
        sequence: 1_002,
      });
    }, 120_000);

    test("a closed store fails with closed", async () => {
      const { store } = await fresh();
      await store.close();
      await expect(store.readSequence()).rejects.toMatchObject({ code: "closed" });
      await expect(store.publishKill(request({ kind: "all" }))).rejects.toMatchObject({
        code: "closed",
      });
    });

    test("a listener, where the store offers one, is signalled after a write", async () => {
      const { store, another } = await fresh();
      if (store.listen === undefined) return;
      const writer = another === undefined ? store : await another();
      if (writer !== store) opened.push(writer);
      let signals = 0;
      let signalled: () => void = () => {};
      const subscription = await store.listen({
        onSignal: () => {
          signals += 1;
          signalled();
        },
      });
      const afterConnect = signals;
      const arrived = new Promise<void>((resolve) => {
        signalled = resolve;
      });
      await writer.publishKill(request({ kind: "all" }));
      await arrived;
      expect(signals).toBeGreaterThan(afterConnect);
      expect(await store.readSequence()).toBe(1);
      await subscription.stop();
    });

    describe("durable stores", () => {
      test("a restart finds the kills and the sequence; another instance sees every write", async () => {
        const { store, reopen, another } = await fresh();
        if (reopen === undefined || another === undefined) return;
        const other = await another();
        opened.push(other);
        await store.publishKill(request({ kind: "all" }));
        expect(await other.readSequence()).toBe(1);
        await other.clearKill({ killSequence: 1, reason: "r", actor: "oncall", atMs: AT_MS });
        await other.publishKill(request({ kind: "funding", funding: "bank" }));
        await store.close();
        const again = await reopen();
        opened.push(again);
        expect(await again.readState()).toMatchObject({ sequence: 3, active: [{ sequence: 3 }] });
      });

      test("writers at once on two instances get unique sequences without gaps", async () => {
        const { store, audit, another } = await fresh();
        if (another === undefined) return;
        const other = await another();
        opened.push(other);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? store : other).publishKill(
              request({ kind: "template", templateId: `t${index}` }),
            ),
          ),
        );
        const sequences = results.map((result) => (result.ok ? result.sequence : -1));
        expect([...sequences].sort((left, right) => left - right)).toEqual(
          Array.from({ length: 20 }, (_, index) => index + 1),
        );
        expect((await store.readState()).active.length).toBe(20);
        expect(await audit.verify()).toMatchObject({ ok: true, entries: 20 });
      });
    });
  });
}
