/**
 * API tokens for the HTTP server (docs/reference/api-tokens.md): issuing one (its text is shown
 * once and never stored: only the SHA-256 of its secret is), the administrator token of the first
 * start, revoking, and authenticating a presented text on every request.
 *
 * Authentication keeps a small cache of records read from the store, so the hot path reads the
 * store about once a second per token rather than on every request. A cached record is trusted
 * for `cacheTrustMs` from the instant its read was issued; a revocation through this service drops
 * the entry at once, one through another process is obeyed here within `cacheTrustMs`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiRole } from "../core/access/api-roles.ts";
import {
  API_TOKEN_FORMAT,
  apiTokenText,
  parseApiTokenText,
  tokenGrantProblem,
} from "../core/access/api-token.ts";
import type { TokenRefusal } from "../core/access/token-codes.ts";
import { wholeOption } from "../core/whole-option.ts";
import type {
  ApiTokenListOptions,
  ApiTokenRecord,
  ApiTokenStore,
  ApiTokenWriteResult,
  NewApiTokenRecord,
} from "./api-token-store.ts";

export interface ApiTokenServiceOptions {
  readonly store: ApiTokenStore;
  readonly nowMs: () => number;
  /** `crypto.randomBytes` in production; seeded bytes in tests. */
  readonly randomBytes: (size: number) => Buffer;
  /** Records cached at most (the oldest read goes first); 0 reads the store on every request. */
  readonly cacheEntriesMax?: number;
  /** How long a cached record is trusted; 0 reads the store on every request. */
  readonly cacheTrustMs?: number;
}

export const API_TOKEN_SERVICE_DEFAULTS = {
  cacheEntriesMax: 10_000,
  cacheTrustMs: 1_000,
} as const;

const OPTION_RANGES = {
  cacheEntriesMax: [0, 1_000_000],
  cacheTrustMs: [0, 60_000],
} as const;

/** What the first start's token is issued as. */
export const BOOTSTRAP_ADMIN = {
  name: "bootstrap administrator",
  principalId: "admin",
  roles: ["admin"],
  /** The audit log's actor for it: no person has a token yet. */
  actor: "bursar:bootstrap",
} as const satisfies IssueApiTokenRequest;

/** Ids drawn for one token before giving up: 48 random bits collide about never. */
const ID_ATTEMPTS_MAX = 3;

export interface IssueApiTokenRequest {
  readonly name: string;
  readonly principalId: string;
  readonly roles: readonly ApiRole[];
  /** Who issues it: the audit log's actor. */
  readonly actor: string;
}

export type IssueApiTokenResult =
  | {
      readonly ok: true;
      readonly record: ApiTokenRecord;
      /** `bsr_<id>_<secret>`: returned this once, stored nowhere. */
      readonly token: string;
    }
  | TokenRefusal;

export interface RevokeApiTokenCall {
  readonly id: string;
  readonly actor: string;
  readonly reason: string;
}

interface CachedToken {
  readonly record: ApiTokenRecord;
  readonly secretHash: Buffer;
  /** When the read that found it was issued. */
  readonly readAtMs: number;
  /**
   * The secret once a request presented one that matched the hash: later requests with the
   * token are compared with it (in constant time) instead of hashed again — a SHA-256 per request
   * was a tenth of a quote's server time. Lives only as long as the entry is trusted.
   */
  verifiedSecret?: Buffer;
}

export class ApiTokenService {
  private readonly store: ApiTokenStore;
  private readonly nowMs: () => number;
  private readonly randomBytes: (size: number) => Buffer;
  private readonly cacheEntriesMax: number;
  private readonly cacheTrustMs: number;
  /** By id, oldest read first. */
  private readonly cache = new Map<string, CachedToken>();
  /** Reads in flight by id, so a burst of requests with one token reads the store once. */
  private readonly reading = new Map<string, Promise<CachedToken | undefined>>();
  /** Moves with every revocation here: a read that began before one does not fill the cache. */
  private revocations = 0;

  constructor(options: ApiTokenServiceOptions) {
    this.store = options.store;
    this.nowMs = options.nowMs;
    this.randomBytes = options.randomBytes;
    this.cacheEntriesMax = optionOf(options, "cacheEntriesMax");
    this.cacheTrustMs = optionOf(options, "cacheTrustMs");
  }

  /** A new token: the record and its text, which is never shown again. */
  async issue(request: IssueApiTokenRequest): Promise<IssueApiTokenResult> {
    return this.issueWith(request, false);
  }

  /**
   * The first start's administrator token, created only while the store holds no token at all
   * (another process starting at once may make it instead); undefined when one exists.
   */
  async bootstrapAdmin(): Promise<{ token: string; record: ApiTokenRecord } | undefined> {
    const result = await this.issueWith(BOOTSTRAP_ADMIN, true);
    if (result.ok) return { token: result.token, record: result.record };
    if (result.code === "tokens_exist") return undefined;
    throw new Error(`the bootstrap administrator token was refused: ${result.code}`);
  }

  /**
   * The record of an unrevoked token whose text this is; undefined for anything else (malformed,
   * unknown id, wrong secret, revoked). A store failure rejects: the token may well be valid.
   * Answers at once, without a promise, when the token's record is cached — every request but
   * the first few of a token, so the payment path spends no turn of the event loop here.
   */
  authenticate(text: string): ApiTokenRecord | undefined | Promise<ApiTokenRecord | undefined> {
    const parts = parseApiTokenText(text);
    if (parts === undefined) return undefined;
    const cached = this.cachedRecord(parts.id);
    return cached instanceof Promise
      ? cached.then((read) => verifiedRecord(read, parts.secret))
      : verifiedRecord(cached, parts.secret);
  }

  /** Revokes through the store; this process stops accepting the token at once, whatever the result. */
  async revoke(request: RevokeApiTokenCall): Promise<ApiTokenWriteResult> {
    try {
      return await this.store.revoke({ ...request, atMs: this.nowMs() });
    } finally {
      this.revocations += 1;
      this.cache.delete(request.id);
      this.reading.delete(request.id);
    }
  }

  async list(options: ApiTokenListOptions): Promise<ApiTokenRecord[]> {
    return this.store.list(options);
  }

  /** One token's record by id (revoked ones too), read from the store. */
  async find(id: string): Promise<ApiTokenRecord | undefined> {
    return this.store.find(id);
  }

  private async issueWith(
    request: IssueApiTokenRequest,
    first: boolean,
  ): Promise<IssueApiTokenResult> {
    const problem = tokenGrantProblem(request);
    if (problem !== undefined) return problem;
    for (let attempt = 1; ; attempt += 1) {
      const id = this.draw(API_TOKEN_FORMAT.idBytes).toString("hex");
      const secret = this.draw(API_TOKEN_FORMAT.secretBytes).toString("base64url");
      const atMs = this.nowMs();
      const record: NewApiTokenRecord = {
        id,
        name: request.name,
        principalId: request.principalId,
        roles: [...request.roles],
        secretHash: secretHashOf(secret).toString("hex"),
        createdAtMs: atMs,
        createdBy: request.actor,
      };
      const creation = { record, actor: request.actor, atMs };
      const result = await (first ? this.store.createFirst(creation) : this.store.create(creation));
      if (result.ok)
        return { ok: true, record: result.record, token: apiTokenText({ id, secret }) };
      if (result.code !== "token_id_taken" || attempt >= ID_ATTEMPTS_MAX) return result;
    }
  }

  private draw(size: number): Buffer {
    const bytes = this.randomBytes(size);
    if (bytes.length !== size)
      throw new Error(`randomBytes gave ${bytes.length} bytes, not ${size}`);
    return bytes;
  }

  private cachedRecord(id: string): Promise<CachedToken | undefined> | CachedToken {
    const nowMs = this.nowMs();
    const cached = this.cache.get(id);
    // A clock that went back distrusts the entry rather than extending it.
    if (
      cached !== undefined &&
      nowMs >= cached.readAtMs &&
      nowMs - cached.readAtMs < this.cacheTrustMs
    ) {
      return cached;
    }
    const pending = this.reading.get(id);
    if (pending !== undefined) return pending;
    const read = this.read(id, nowMs).finally(() => {
      if (this.reading.get(id) === read) this.reading.delete(id);
    });
    this.reading.set(id, read);
    return read;
  }

  private async read(id: string, readAtMs: number): Promise<CachedToken | undefined> {
    const revocations = this.revocations;
    const record = await this.store.find(id);
    if (record === undefined) {
      // Unknown ids are not cached: random ids would only push real tokens out.
      this.cache.delete(id);
      return undefined;
    }
    const entry: CachedToken = {
      record,
      secretHash: Buffer.from(record.secretHash, "hex"),
      readAtMs,
    };
    if (entry.secretHash.length !== 32) throw new Error(`token ${id}'s stored hash is malformed`);
    if (revocations === this.revocations) this.remember(id, entry);
    return entry;
  }

  private remember(id: string, entry: CachedToken): void {
    if (this.cacheEntriesMax === 0 || this.cacheTrustMs === 0) return;
    this.cache.delete(id);
    if (this.cache.size >= this.cacheEntriesMax) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, entry);
  }
}

/** The SHA-256 of a secret's text: what the store keeps, as lower-case hex. */
export function secretHashOf(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

function optionOf(options: ApiTokenServiceOptions, name: keyof typeof OPTION_RANGES): number {
  return wholeOption(name, options[name], API_TOKEN_SERVICE_DEFAULTS[name], OPTION_RANGES[name]);
}

/** The record if `secret` is the token's secret and the token is not revoked. */
function verifiedRecord(
  cached: CachedToken | undefined,
  secret: string,
): ApiTokenRecord | undefined {
  if (cached === undefined) return undefined;
  const presented = Buffer.from(secret, "utf8");
  const verified = cached.verifiedSecret;
  const matches =
    verified !== undefined && verified.length === presented.length
      ? timingSafeEqual(presented, verified)
      : timingSafeEqual(secretHashOf(secret), cached.secretHash);
  // The secret is checked before the revocation, so one without it learns nothing of the token.
  if (!matches) return undefined;
  cached.verifiedSecret ??= presented;
  return cached.record.revokedAtMs === null ? cached.record : undefined;
}
