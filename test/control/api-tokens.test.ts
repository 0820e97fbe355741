/**
 * ApiTokenService (src/control/api-tokens.ts) over real stores: the memory store for the
 * application's behaviour, and a SQLite file to show the token's text is stored nowhere.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test, vi } from "vitest";
import {
  ApiTokenService,
  type ApiTokenServiceOptions,
  BOOTSTRAP_ADMIN,
  type IssueApiTokenRequest,
} from "../../src/control/api-tokens.ts";
import { MemoryApiTokenStore } from "../../src/control/memory-api-token-store.ts";
import { MemoryAuditLogStore } from "../../src/control/memory-audit-log-store.ts";
import { parseApiTokenText } from "../../src/core/access/api-token.ts";
import { SqliteApiTokenStore } from "../../src/stores/sqlite/sqlite-api-token-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";

const AT_MS = Date.UTC(2025, 0, 16, 6, 40);
const directory = mkdtempSync(join(tmpdir(), "bursar-api-token-service-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** Deterministic bytes: SHA-256 of a counter, as many as asked (at most 32 a draw). */
function seededBytes(seed: string): (size: number) => Buffer {
  let draws = 0;
  return (size) => {
    draws += 1;
    return createHash("sha256").update(`${seed} ${draws}`).digest().subarray(0, size);
  };
}

const CHECKOUT: IssueApiTokenRequest = {
  name: "checkout service, eu-west",
  principalId: "svc.checkout",
  roles: ["payment-service"],
  actor: "alice",
};

function world(options: Partial<ApiTokenServiceOptions> = {}) {
  const audit = new MemoryAuditLogStore();
  const store = new MemoryApiTokenStore(audit);
  const clock = { nowMs: AT_MS };
  const service = new ApiTokenService({
    store,
    nowMs: () => clock.nowMs,
    randomBytes: seededBytes("world"),
    ...options,
  });
  const finds = vi.spyOn(store, "find");
  return { audit, store, clock, service, finds };
}

async function issued(service: ApiTokenService, request: IssueApiTokenRequest = CHECKOUT) {
  const result = await service.issue(request);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result;
}

describe("issue and authenticate", () => {
  test("issue returns the record and the token text once; the text authenticates", async () => {
    const { service, store } = world();
    const { record, token } = await issued(service);
    expect(token).toMatch(/^bsr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const parts = parseApiTokenText(token)!;
    expect(record).toEqual({
      id: parts.id,
      name: "checkout service, eu-west",
      principalId: "svc.checkout",
      roles: ["payment-service"],
      secretHash: createHash("sha256").update(parts.secret).digest("hex"),
      createdAtMs: AT_MS,
      createdBy: "alice",
      revokedAtMs: null,
      revokedBy: null,
    });
    expect(await store.find(record.id)).toEqual(record);
    expect(await service.authenticate(token)).toEqual(record);
  });

  test("a wrong secret, an unknown id and malformed texts authenticate nothing", async () => {
    const { service } = world();
    const { token } = await issued(service);
    const { id, secret } = parseApiTokenText(token)!;
    const flipped = (text: string, at: number) =>
      `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    const refused = [
      `bsr_${id}_${flipped(secret, 0)}`,
      `bsr_${id}_${flipped(secret, 41)}`,
      `bsr_${"0".repeat(12)}_${secret}`,
      `bsr_${flipped(id, 3)
        .toLowerCase()
        .replace(/[^0-9a-f]/g, "0")}_${secret}`,
      "",
      "bsr_",
      `${token}x`,
      token.slice(0, -1),
      ` ${token}`,
      `${token}\n`,
      token.toUpperCase(),
      `BSR_${token.slice(4)}`,
      `bsr_${id.toUpperCase()}_${secret}`,
      `bsr_${id}-${secret}`,
      `bsr_${id}_${secret.slice(0, 42)}B`,
      `bsr_${id}_${secret.slice(0, 42)}=`,
      `Bearer ${token}`,
      "x".repeat(100_000),
    ];
    for (const text of refused) expect(await service.authenticate(text), text).toBeUndefined();
    for (const value of [undefined, null, 42, {}, [token]]) {
      expect(await service.authenticate(value as unknown as string)).toBeUndefined();
    }
    expect(await service.authenticate(token)).toMatchObject({ id });
  });

  test("only the secret's hash is kept: the text appears in no record, list or audit entry", async () => {
    const { service, store, audit } = world();
    const { token, record } = await issued(service);
    const { secret } = parseApiTokenText(token)!;
    const kept = JSON.stringify([
      await store.find(record.id),
      await service.list({ includeRevoked: true, limit: 10 }),
    ]);
    expect(kept).not.toContain(secret);
    expect(kept).toContain(record.secretHash);
    const entries = JSON.stringify(await audit.read(1, 10));
    expect(entries).not.toContain(secret);
    expect(entries).not.toContain(record.secretHash);
  });

  test("the token's text and secret are nowhere in a SQLite control file", async () => {
    const path = join(directory, "plain", "control.sqlite");
    const store = SqliteApiTokenStore.open({ path });
    const service = new ApiTokenService({
      store,
      nowMs: () => AT_MS,
      randomBytes: seededBytes("file"),
    });
    const { token, record } = await issued(service);
    const admin = await service.bootstrapAdmin();
    expect(admin).toBeUndefined();
    const bytes = () =>
      [path, `${path}-wal`]
        .filter((file) => existsSync(file))
        .map((file) => readFileSync(file).toString("latin1"))
        .join("");
    const { secret } = parseApiTokenText(token)!;
    // Before and after the close's checkpoint.
    expect(bytes()).toContain(record.secretHash);
    expect(bytes()).not.toContain(secret);
    await store.close();
    expect(bytes()).toContain(record.secretHash);
    expect(bytes()).not.toContain(secret);
    expect(bytes()).not.toContain(secret.slice(0, 16));
  });

  test("issue checks the grant before the store; an actor the audit log refuses is audit_refused", async () => {
    const { service, store, audit } = world();
    const refused: [IssueApiTokenRequest, string][] = [
      [{ ...CHECKOUT, name: "" }, "token_name_invalid"],
      [{ ...CHECKOUT, name: "a\u202Eb" }, "token_name_invalid"],
      [{ ...CHECKOUT, name: "é".repeat(101) }, "token_name_invalid"],
      [{ ...CHECKOUT, principalId: "-leading" }, "token_principal_invalid"],
      [{ ...CHECKOUT, principalId: "a+b" }, "token_principal_invalid"],
      [{ ...CHECKOUT, roles: [] }, "token_roles_invalid"],
      [{ ...CHECKOUT, roles: ["admin", "admin"] }, "token_roles_invalid"],
      [{ ...CHECKOUT, actor: "" }, "audit_refused"],
    ];
    for (const [request, code] of refused) {
      expect(await service.issue(request), code).toMatchObject({ ok: false, code });
    }
    expect(await service.issue({ ...CHECKOUT, name: "é".repeat(100) })).toMatchObject({
      ok: true,
    });
    expect((await store.list({ includeRevoked: true, limit: 10 })).length).toBe(1);
    expect((await audit.head()).sequence).toBe(1);
  });

  test("an id drawn twice is drawn again", async () => {
    const repeated = seededBytes("same");
    const first = repeated(6);
    let draws = 0;
    const randomBytes = (size: number) => {
      draws += 1;
      // Draws 1 and 3 are the first token's and the second token's ids: the same bytes.
      return size === 6 && draws <= 3 ? Buffer.from(first) : repeated(size);
    };
    const { service } = world({ randomBytes });
    const one = await issued(service);
    const two = await issued(service);
    expect(two.record.id).not.toBe(one.record.id);
    expect(await service.authenticate(two.token)).toMatchObject({ id: two.record.id });
  });

  test("randomBytes of the wrong length and cache options out of range are bugs", async () => {
    const { service } = world({ randomBytes: () => Buffer.alloc(3) });
    await expect(service.issue(CHECKOUT)).rejects.toThrow(/3 bytes/);
    expect(() => world({ cacheTrustMs: -1 })).toThrow(RangeError);
    expect(() => world({ cacheTrustMs: 60_001 })).toThrow(RangeError);
    expect(() => world({ cacheEntriesMax: 1.5 })).toThrow(RangeError);
  });
});

describe("revocation", () => {
  test("a token revoked through the service is refused at once, though cached", async () => {
    const { service, clock } = world();
    const { token, record } = await issued(service);
    expect(await service.authenticate(token)).toBeDefined();
    clock.nowMs += 10;
    expect(
      await service.revoke({ id: record.id, actor: "bob", reason: "leaked in a log" }),
    ).toMatchObject({ ok: true, record: { revokedAtMs: AT_MS + 10, revokedBy: "bob" } });
    expect(await service.authenticate(token)).toBeUndefined();
    expect(
      await service.revoke({ id: record.id, actor: "bob", reason: "leaked in a log" }),
    ).toMatchObject({ ok: false, code: "token_revoked" });
  });

  test("revoked elsewhere (another process): refused once the cached record is 1,000 ms old", async () => {
    const { service, store, clock } = world();
    const elsewhere = new ApiTokenService({
      store,
      nowMs: () => clock.nowMs,
      randomBytes: seededBytes("elsewhere"),
    });
    const { token, record } = await issued(service);
    expect(await service.authenticate(token)).toBeDefined();
    await elsewhere.revoke({ id: record.id, actor: "bob", reason: "leaked in a log" });
    clock.nowMs += 999;
    expect(await service.authenticate(token)).toBeDefined();
    clock.nowMs += 1;
    expect(await service.authenticate(token)).toBeUndefined();
  });

  test("a read that began before a revocation here is neither joined nor cached", async () => {
    const { service, store } = world();
    const { token, record } = await issued(service);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const find = store.find.bind(store);
    vi.spyOn(store, "find").mockImplementationOnce(async (id) => {
      const found = await find(id);
      await gate;
      return found;
    });
    const during = service.authenticate(token);
    await service.revoke({ id: record.id, actor: "bob", reason: "leaked in a log" });
    // A request after the revocation does not join the read still in flight.
    const after = service.authenticate(token);
    release();
    // The request in flight read the token before it was revoked; the later ones read again.
    expect(await during).toBeDefined();
    expect(await after).toBeUndefined();
    expect(await service.authenticate(token)).toBeUndefined();
  });
});

describe("the cache", () => {
  test("a token is read from the store once per 1,000 ms; a clock going back reads again", async () => {
    const { service, clock, finds } = world();
    const { token } = await issued(service);
    for (let request = 0; request < 100; request += 1) {
      expect(await service.authenticate(token)).toBeDefined();
      clock.nowMs += 5;
    }
    expect(finds).toHaveBeenCalledTimes(1);
    clock.nowMs += 500;
    await service.authenticate(token);
    expect(finds).toHaveBeenCalledTimes(2);
    clock.nowMs -= 10;
    await service.authenticate(token);
    expect(finds).toHaveBeenCalledTimes(3);
  });

  test("requests at once with one uncached token read the store once", async () => {
    const { service, finds } = world();
    const { token } = await issued(service);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => service.authenticate(token)),
    );
    expect(results.every((record) => record !== undefined)).toBe(true);
    expect(finds).toHaveBeenCalledTimes(1);
  });

  test("a wrong secret is refused from the cache too; unknown ids are not cached", async () => {
    const { service, finds } = world();
    const { token } = await issued(service);
    const { id, secret } = parseApiTokenText(token)!;
    await service.authenticate(token);
    const wrong = `bsr_${id}_${secret[0] === "A" ? "B" : "A"}${secret.slice(1)}`;
    expect(await service.authenticate(wrong)).toBeUndefined();
    expect(finds).toHaveBeenCalledTimes(1);
    const unknown = `bsr_${"f".repeat(12)}_${secret}`;
    await service.authenticate(unknown);
    await service.authenticate(unknown);
    expect(finds).toHaveBeenCalledTimes(3);
  });

  test("holds at most cacheEntriesMax records, the oldest read leaving first", async () => {
    const { service, finds } = world({ cacheEntriesMax: 2 });
    const tokens = [];
    for (const index of [1, 2, 3]) {
      tokens.push((await issued(service, { ...CHECKOUT, name: `service ${index}` })).token);
    }
    for (const token of tokens) await service.authenticate(token);
    expect(finds).toHaveBeenCalledTimes(3);
    await service.authenticate(tokens[2]!);
    await service.authenticate(tokens[1]!);
    expect(finds).toHaveBeenCalledTimes(3);
    await service.authenticate(tokens[0]!);
    expect(finds).toHaveBeenCalledTimes(4);
  });

  test("cacheEntriesMax 0 or cacheTrustMs 0 reads the store on every request", async () => {
    for (const options of [{ cacheEntriesMax: 0 }, { cacheTrustMs: 0 }]) {
      const { service, finds } = world(options);
      const { token } = await issued(service);
      for (let request = 0; request < 3; request += 1) await service.authenticate(token);
      expect(finds).toHaveBeenCalledTimes(3);
    }
  });

  test("a store that fails makes authenticate fail, not answer undefined", async () => {
    const { service, store } = world();
    const { token } = await issued(service);
    await store.close();
    await expect(service.authenticate(token)).rejects.toMatchObject({ code: "closed" });
  });
});

describe("bootstrapAdmin", () => {
  test("makes the administrator token only in an empty store", async () => {
    const { service, audit } = world();
    const admin = await service.bootstrapAdmin();
    expect(admin).toBeDefined();
    expect(await service.authenticate(admin!.token)).toMatchObject({
      principalId: "admin",
      roles: ["admin"],
      name: BOOTSTRAP_ADMIN.name,
      createdBy: "bursar:bootstrap",
    });
    expect(await service.bootstrapAdmin()).toBeUndefined();
    expect((await audit.read(1, 10)).map((entry) => [entry.action, entry.actor])).toEqual([
      ["token.created", "bursar:bootstrap"],
    ]);
    const other = world();
    await issued(other.service);
    expect(await other.service.bootstrapAdmin()).toBeUndefined();
  });

  test("two processes starting at once on one SQLite file make one administrator token", async () => {
    const path = join(directory, "bootstrap", "control.sqlite");
    const stores = [SqliteApiTokenStore.open({ path }), SqliteApiTokenStore.open({ path })];
    const services = stores.map(
      (store, index) =>
        new ApiTokenService({ store, nowMs: () => AT_MS, randomBytes: seededBytes(`p${index}`) }),
    );
    const made = await Promise.all(services.map((service) => service.bootstrapAdmin()));
    expect(made.filter((each) => each !== undefined).length).toBe(1);
    const token = made.find((each) => each !== undefined)!.token;
    for (const service of services) {
      expect(await service.authenticate(token)).toMatchObject({ principalId: "admin" });
    }
    await Promise.all(stores.map((store) => store.close()));
    const audit = SqliteAuditLogStore.open({ path });
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 1 });
    await audit.close();
  });
});
