/**
 * The contract every API token store passes (src/control/api-token-store.ts): the memory store
 * and the durable ones against a real SQLite file and the real PostgreSQL server. A store's test
 * calls `describeApiTokenStoreContract` with a factory giving a fresh, empty store for every test,
 * the audit log it appends to, and, for a durable store, how to open it again and a second
 * instance beside it (connections of its own: another process, as far as the store can tell).
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, test } from "vitest";
import type {
  ApiTokenStore,
  CreateApiTokenRequest,
  NewApiTokenRecord,
} from "../../src/control/api-token-store.ts";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import type { ApiRole } from "../../src/core/access/api-roles.ts";
import { API_TOKEN_LIMITS } from "../../src/core/access/api-token.ts";

export interface ApiTokenStoreUnderTest {
  readonly store: ApiTokenStore;
  readonly audit: AuditLogStore;
  /** Opens the same store again after `store` was closed: a restart. */
  readonly reopen?: () => Promise<ApiTokenStore>;
  /** Another store on the same file or database, on connections of its own. */
  readonly another?: () => Promise<ApiTokenStore>;
}

const AT_MS = Date.UTC(2025, 0, 16, 6, 40);

export function tokenIdOf(index: number): string {
  return index.toString(16).padStart(12, "0");
}

export function newRecord(
  index: number,
  overrides: Partial<NewApiTokenRecord> = {},
): NewApiTokenRecord {
  return {
    id: tokenIdOf(index),
    name: `checkout service ${index}`,
    principalId: `svc.checkout-${index}`,
    roles: ["payment-service"],
    secretHash: createHash("sha256").update(`secret ${index}`).digest("hex"),
    createdAtMs: AT_MS + index,
    createdBy: "alice",
    ...overrides,
  };
}

/** A create request whose actor and time are the record's. */
export function creation(record: NewApiTokenRecord): CreateApiTokenRequest {
  return { record, actor: record.createdBy, atMs: record.createdAtMs };
}

function revocation(
  id: string,
  overrides: Partial<{ actor: string; reason: string; atMs: number }> = {},
) {
  return { id, actor: "bob", reason: "the laptop was stolen", atMs: AT_MS + 1_000, ...overrides };
}

export function describeApiTokenStoreContract(
  name: string,
  open: () => Promise<ApiTokenStoreUnderTest>,
): void {
  describe(`api token store contract: ${name}`, () => {
    const opened: { close(): Promise<void> }[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((each) => each.close().catch(() => {})));
    });
    const fresh = async () => {
      const underTest = await open();
      opened.push(underTest.store, underTest.audit);
      return underTest;
    };
    const secondInstance = async (underTest: ApiTokenStoreUnderTest) => {
      if (underTest.another === undefined) return underTest.store;
      const other = await underTest.another();
      opened.push(other);
      return other;
    };

    test("an empty store finds nothing and lists nothing", async () => {
      const { store } = await fresh();
      expect(await store.find(tokenIdOf(1))).toBeUndefined();
      expect(await store.list({ includeRevoked: true, limit: 10 })).toEqual([]);
    });

    test("a created token is found and listed as given, newest first, each with its token.created entry", async () => {
      const { store, audit } = await fresh();
      const roles: ApiRole[][] = [["payment-service"], ["reviewer", "author"], ["admin"]];
      for (const [index, each] of roles.entries()) {
        const record = newRecord(index + 1, { roles: each });
        expect(await store.create(creation(record))).toEqual({
          ok: true,
          record: { ...record, revokedAtMs: null, revokedBy: null },
        });
      }
      expect(await store.find(tokenIdOf(2))).toEqual({
        ...newRecord(2, { roles: ["reviewer", "author"] }),
        revokedAtMs: null,
        revokedBy: null,
      });
      const listed = await store.list({ includeRevoked: false, limit: 10 });
      expect(listed.map((record) => record.id)).toEqual([3, 2, 1].map(tokenIdOf));
      expect(listed.map((record) => record.roles)).toEqual([...roles].reverse());

      const entries = await audit.read(1, 10);
      expect(entries.map((entry) => [entry.action, entry.subject, entry.actor])).toEqual(
        [1, 2, 3].map((index) => ["token.created", `api-token/${tokenIdOf(index)}`, "alice"]),
      );
      expect(entries[1]).toMatchObject({
        at: new Date(AT_MS + 2).toISOString(),
        contentHash: null,
        reason: null,
        details: {
          name: "checkout service 2",
          principalId: "svc.checkout-2",
          roles: ["reviewer", "author"],
        },
      });
      const everything = JSON.stringify(entries);
      for (const index of [1, 2, 3]) expect(everything).not.toContain(newRecord(index).secretHash);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 3 });
    });

    test("refusals write nothing: malformed records, a taken id, an actor the audit log refuses", async () => {
      const { store, audit } = await fresh();
      await store.create(creation(newRecord(1)));
      const refused: [CreateApiTokenRequest, string][] = [
        [creation(newRecord(2, { id: "ABCDEF012345" })), "token_id_invalid"],
        [creation(newRecord(2, { id: "12345" })), "token_id_invalid"],
        [creation(newRecord(2, { name: "" })), "token_name_invalid"],
        [creation(newRecord(2, { name: "   " })), "token_name_invalid"],
        [creation(newRecord(2, { name: "x".repeat(101) })), "token_name_invalid"],
        [creation(newRecord(2, { name: "line\nbreak" })), "token_name_invalid"],
        [creation(newRecord(2, { principalId: "" })), "token_principal_invalid"],
        [creation(newRecord(2, { principalId: "has space" })), "token_principal_invalid"],
        [creation(newRecord(2, { principalId: "p".repeat(101) })), "token_principal_invalid"],
        [creation(newRecord(2, { roles: [] })), "token_roles_invalid"],
        [creation(newRecord(2, { roles: ["root" as ApiRole] })), "token_roles_invalid"],
        [creation(newRecord(2, { roles: ["author", "author"] })), "token_roles_invalid"],
        [creation(newRecord(2, { secretHash: "ab".repeat(31) })), "token_record_invalid"],
        [creation(newRecord(2, { secretHash: "AB".repeat(32) })), "token_record_invalid"],
        [{ ...creation(newRecord(2)), atMs: AT_MS - 5 }, "token_record_invalid"],
        [creation(newRecord(2, { createdAtMs: -1 })), "token_record_invalid"],
        [{ ...creation(newRecord(2)), actor: "mallory" }, "token_record_invalid"],
        [creation(newRecord(2, { createdBy: "no spaces allowed" })), "audit_refused"],
        [creation(newRecord(1, { name: "again" })), "token_id_taken"],
      ];
      for (const [request, code] of refused) {
        expect(await store.create(request), code).toMatchObject({ ok: false, code });
      }
      expect((await store.list({ includeRevoked: true, limit: 10 })).length).toBe(1);
      expect((await audit.head()).sequence).toBe(1);
    });

    test("a revocation is audited and final; a second one is refused with token_revoked", async () => {
      const { store, audit } = await fresh();
      await store.create(creation(newRecord(1)));
      await store.create(creation(newRecord(2)));
      const revoked = {
        ...newRecord(1),
        revokedAtMs: AT_MS + 1_000,
        revokedBy: "bob",
      };
      expect(await store.revoke(revocation(tokenIdOf(1)))).toEqual({ ok: true, record: revoked });
      expect(await store.find(tokenIdOf(1))).toEqual(revoked);
      expect(
        (await store.list({ includeRevoked: false, limit: 10 })).map((record) => record.id),
      ).toEqual([tokenIdOf(2)]);
      expect(
        (await store.list({ includeRevoked: true, limit: 10 })).map((record) => record.id),
      ).toEqual([tokenIdOf(2), tokenIdOf(1)]);

      expect(
        await store.revoke(revocation(tokenIdOf(1), { actor: "carol", atMs: AT_MS + 2_000 })),
      ).toMatchObject({ ok: false, code: "token_revoked" });
      expect(await store.find(tokenIdOf(1))).toEqual(revoked);
      expect(await audit.read(3, 10)).toEqual([
        expect.objectContaining({
          action: "token.revoked",
          subject: `api-token/${tokenIdOf(1)}`,
          actor: "bob",
          reason: "the laptop was stolen",
          details: { principalId: "svc.checkout-1" },
        }),
      ]);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 3 });
    });

    test("revocations refused write nothing: unknown or malformed ids, no reason, a bad time or actor", async () => {
      const { store, audit } = await fresh();
      await store.create(creation(newRecord(1)));
      const refused: [ReturnType<typeof revocation>, string][] = [
        [revocation(tokenIdOf(9)), "token_not_found"],
        [revocation("not-an-id"), "token_not_found"],
        [revocation(tokenIdOf(1), { reason: "" }), "token_revoke_invalid"],
        [revocation(tokenIdOf(1), { reason: " " }), "token_revoke_invalid"],
        [revocation(tokenIdOf(1), { reason: "r".repeat(2_001) }), "token_revoke_invalid"],
        [revocation(tokenIdOf(1), { atMs: -1 }), "token_revoke_invalid"],
        [revocation(tokenIdOf(1), { atMs: 1.5 }), "token_revoke_invalid"],
        [revocation(tokenIdOf(1), { actor: "no spaces allowed" }), "audit_refused"],
      ];
      for (const [request, code] of refused) {
        expect(await store.revoke(request), code).toMatchObject({ ok: false, code });
      }
      expect((await store.find(tokenIdOf(1)))?.revokedAtMs).toBeNull();
      expect((await audit.head()).sequence).toBe(1);
    });

    test("createFirst creates only while no token exists, revoked ones included", async () => {
      const { store, audit } = await fresh();
      expect(await store.createFirst(creation(newRecord(1)))).toMatchObject({
        ok: true,
        record: { id: tokenIdOf(1) },
      });
      expect(await store.createFirst(creation(newRecord(2)))).toMatchObject({
        ok: false,
        code: "tokens_exist",
      });
      await store.revoke(revocation(tokenIdOf(1)));
      expect(await store.createFirst(creation(newRecord(3)))).toMatchObject({
        ok: false,
        code: "tokens_exist",
      });
      expect(await store.create(creation(newRecord(4)))).toMatchObject({ ok: true });
      expect((await audit.read(1, 10)).map((entry) => entry.action)).toEqual([
        "token.created",
        "token.revoked",
        "token.created",
      ]);
    });

    test("createFirst at once, on two instances: exactly one token", async () => {
      const underTest = await fresh();
      const { store, audit } = underTest;
      const other = await secondInstance(underTest);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          (index % 2 === 0 ? store : other).createFirst(creation(newRecord(index + 1))),
        ),
      );
      expect(results.filter((result) => result.ok).length).toBe(1);
      expect(
        results.filter((result) => !result.ok).map((result) => (result.ok ? "" : result.code)),
      ).toEqual(Array(5).fill("tokens_exist"));
      expect((await other.list({ includeRevoked: true, limit: 10 })).length).toBe(1);
      expect(await audit.verify()).toMatchObject({ ok: true, entries: 1 });
    });

    test("list is bounded: newest first up to the limit, never more than 1,000", async () => {
      const { store } = await fresh();
      for (let index = 1; index <= 5; index += 1) await store.create(creation(newRecord(index)));
      await store.revoke(revocation(tokenIdOf(4)));
      const ids = async (includeRevoked: boolean, limit: number) =>
        (await store.list({ includeRevoked, limit })).map((record) => record.id);
      expect(await ids(true, 2)).toEqual([5, 4].map(tokenIdOf));
      expect(await ids(false, 2)).toEqual([5, 3].map(tokenIdOf));
      expect(await ids(true, 0)).toEqual([]);
      expect(await ids(true, -3)).toEqual([]);
      expect(await ids(true, 2.9)).toEqual([5, 4].map(tokenIdOf));
      expect(await ids(true, Number.POSITIVE_INFINITY)).toEqual([5, 4, 3, 2, 1].map(tokenIdOf));
      expect(await ids(true, Number.NaN)).toEqual([]);
    });

    test(`at most ${API_TOKEN_LIMITS.activeTokensMax} unrevoked tokens; a list returns at most ${API_TOKEN_LIMITS.listLimitMax}`, async () => {
      const { store, audit } = await fresh();
      for (let index = 1; index <= API_TOKEN_LIMITS.activeTokensMax; index += 1) {
        const result = await store.create(creation(newRecord(index)));
        if (!result.ok) throw new Error(result.message);
      }
      const over = API_TOKEN_LIMITS.activeTokensMax + 1;
      expect(await store.create(creation(newRecord(over)))).toMatchObject({
        ok: false,
        code: "too_many_tokens",
      });
      await store.revoke(revocation(tokenIdOf(1)));
      expect(await store.create(creation(newRecord(over)))).toMatchObject({ ok: true });
      expect(await store.create(creation(newRecord(over + 1)))).toMatchObject({
        ok: false,
        code: "too_many_tokens",
      });
      const listed = await store.list({ includeRevoked: true, limit: 5_000 });
      expect(listed.length).toBe(API_TOKEN_LIMITS.listLimitMax);
      expect(listed[0]!.id).toBe(tokenIdOf(over));
      expect((await audit.head()).sequence).toBe(API_TOKEN_LIMITS.activeTokensMax + 2);
    }, 120_000);

    test("a closed store fails with closed", async () => {
      const { store } = await fresh();
      await store.close();
      await expect(store.find(tokenIdOf(1))).rejects.toMatchObject({ code: "closed" });
      await expect(store.list({ includeRevoked: true, limit: 1 })).rejects.toMatchObject({
        code: "closed",
      });
      await expect(store.create(creation(newRecord(1)))).rejects.toMatchObject({ code: "closed" });
      await expect(store.revoke(revocation(tokenIdOf(1)))).rejects.toMatchObject({
        code: "closed",
      });
    });

    describe("durable stores", () => {
      test("a restart finds the tokens; another instance sees every write", async () => {
        const underTest = await fresh();
        const { store, reopen, another } = underTest;
        if (reopen === undefined || another === undefined) return;
        const other = await secondInstance(underTest);
        await store.create(creation(newRecord(1)));
        expect(await other.find(tokenIdOf(1))).toMatchObject({ id: tokenIdOf(1) });
        await other.revoke(revocation(tokenIdOf(1)));
        expect(await store.revoke(revocation(tokenIdOf(1)))).toMatchObject({
          ok: false,
          code: "token_revoked",
        });
        await other.create(creation(newRecord(2, { roles: ["auditor", "operator"] })));
        await store.close();
        const again = await reopen();
        opened.push(again);
        expect(await again.list({ includeRevoked: true, limit: 10 })).toEqual([
          {
            ...newRecord(2, { roles: ["auditor", "operator"] }),
            revokedAtMs: null,
            revokedBy: null,
          },
          { ...newRecord(1), revokedAtMs: AT_MS + 1_000, revokedBy: "bob" },
        ]);
      });

      test("creates and revocations at once on two instances keep one verified chain", async () => {
        const underTest = await fresh();
        const { store, audit, another } = underTest;
        if (another === undefined) return;
        const other = await secondInstance(underTest);
        const created = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? store : other).create(creation(newRecord(index + 1))),
          ),
        );
        expect(created.every((result) => result.ok)).toBe(true);
        const revoked = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? other : store).revoke(revocation(tokenIdOf(1 + (index % 5)))),
          ),
        );
        // Each of tokens 1-5 asked twice at once: one revocation stands, the other is refused.
        expect(revoked.filter((result) => result.ok).length).toBe(5);
        expect(
          revoked.filter((result) => !result.ok && result.code === "token_revoked").length,
        ).toBe(5);
        expect((await store.list({ includeRevoked: false, limit: 100 })).length).toBe(15);
        expect(await audit.verify()).toMatchObject({ ok: true, entries: 25 });
      });
    });
  });
}
