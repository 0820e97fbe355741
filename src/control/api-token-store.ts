/**
 * The API tokens' store port (docs/reference/api-tokens.md). A token is stored as its record: who
 * it acts for, its roles, and the SHA-256 of its secret, never the secret. Every write — a token
 * created or revoked — is one atomic step with its audit entry (`token.created`, `token.revoked`),
 * whole or absent. `createFirst` creates only while no token exists at all, so two processes
 * starting at once on an empty store make one administrator token between them. The memory store
 * serves application tests; SQLite and PostgreSQL pass the same contract suite
 * (test/control/api-token-store.contract.ts).
 */
import type { ApiRole } from "../core/access/api-roles.ts";
import {
  API_TOKEN_LIMITS,
  isSecretHash,
  isTimeMs,
  revokeProblem,
  tokenGrantProblem,
  tokenIdProblem,
} from "../core/access/api-token.ts";
import { type TokenRefusal, tokenRefusal } from "../core/access/token-codes.ts";
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import { refusalOf } from "./audit-log.ts";

export interface ApiTokenRecord {
  /** 12 lower-case hex digits: the token text's middle part, no secret. */
  readonly id: string;
  /** What people call it: "checkout service, eu-west". */
  readonly name: string;
  /** Whom requests made with it act for: the audit log's actor. */
  readonly principalId: string;
  readonly roles: readonly ApiRole[];
  /** Lower-case hex SHA-256 of the secret's text. */
  readonly secretHash: string;
  readonly createdAtMs: number;
  readonly createdBy: string;
  /** Null while the token is valid; a revocation is final. */
  readonly revokedAtMs: number | null;
  readonly revokedBy: string | null;
}

/** A record as it is created: not revoked. */
export type NewApiTokenRecord = Omit<ApiTokenRecord, "revokedAtMs" | "revokedBy">;

export interface CreateApiTokenRequest {
  /** `createdBy` and `createdAtMs` must be `actor` and `atMs`. */
  readonly record: NewApiTokenRecord;
  readonly actor: string;
  readonly atMs: number;
}

export interface RevokeApiTokenRequest {
  readonly id: string;
  readonly actor: string;
  readonly reason: string;
  readonly atMs: number;
}

export interface ApiTokenListOptions {
  readonly includeRevoked: boolean;
  /** At most `API_TOKEN_LIMITS.listLimitMax`; a larger one returns that many. */
  readonly limit: number;
}

export type ApiTokenWriteResult =
  | { readonly ok: true; readonly record: ApiTokenRecord }
  | TokenRefusal;

export interface ApiTokenStore {
  /**
   * Stores a new token with its `token.created` entry in one atomic step, or refuses with a code
   * (`token_id_taken`, `too_many_tokens`, a check's code, `audit_refused`) and writes nothing.
   */
  create(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult>;
  /**
   * The same, only while no token exists at all, revoked ones included (the first start); else
   * `tokens_exist`. Two calls at once, from any processes, create one token.
   */
  createFirst(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult>;
  /**
   * Revokes an unrevoked token with its `token.revoked` entry; `token_not_found`, or
   * `token_revoked` when it was revoked before (the first revocation stands).
   */
  revoke(request: RevokeApiTokenRequest): Promise<ApiTokenWriteResult>;
  /** The record, revoked or not; undefined for an unknown or malformed id. */
  find(id: string): Promise<ApiTokenRecord | undefined>;
  /** Newest first, at most `limit` (and never more than 1,000). */
  list(options: ApiTokenListOptions): Promise<ApiTokenRecord[]>;
  close(): Promise<void>;
}

/** Failures of a store, never refusals of a write: those are `ApiTokenWriteResult`s. */
export const API_TOKEN_STORE_ERROR_CODES = {
  closed: "The store is closed; every call after `close` fails with this code.",
  open_failed: "The database could not be opened or migrated, or an option is out of range.",
  read_failed: "A read failed (connection lost, time-out): the caller cannot tell the token valid.",
  write_failed:
    "The transaction holding a write failed or its outcome is unknown: find the token to learn whether it was written.",
} as const;

export type ApiTokenStoreErrorCode = keyof typeof API_TOKEN_STORE_ERROR_CODES;

export class ApiTokenStoreError extends Error {
  override readonly name = "ApiTokenStoreError";

  constructor(
    readonly code: ApiTokenStoreErrorCode,
    detail: string,
  ) {
    super(`api token store ${code}: ${detail}`);
  }
}

/**
 * The refusal every store gives a malformed create before its atomic step, the audit entry's own
 * checks included; undefined if none.
 */
export function createRefusalOf(request: CreateApiTokenRequest): TokenRefusal | undefined {
  const { record } = request;
  const problem = tokenIdProblem(record.id) ?? tokenGrantProblem(record);
  if (problem !== undefined) return problem;
  if (!isSecretHash(record.secretHash)) {
    return tokenRefusal(
      "token_record_invalid",
      "the secret's hash is not 64 lower-case hex digits",
    );
  }
  if (!isTimeMs(request.atMs) || record.createdAtMs !== request.atMs) {
    return tokenRefusal(
      "token_record_invalid",
      "createdAtMs is not the request's atMs, a non-negative integer",
    );
  }
  if (record.createdBy !== request.actor) {
    return tokenRefusal("token_record_invalid", "createdBy is not the request's actor");
  }
  return auditRefusalOf(tokenCreatedAuditEntry(record));
}

/** The same for a revocation, with a stand-in record for the audit entry's checks. */
export function revokeRefusalOf(request: RevokeApiTokenRequest): TokenRefusal | undefined {
  return (
    revokeProblem(request.reason, request.atMs) ??
    auditRefusalOf(tokenRevokedAuditEntry({ id: "0".repeat(12), principalId: "x" }, request))
  );
}

/** `token.created`: subject `api-token/<id>`; name, principal and roles, never the hash. */
export function tokenCreatedAuditEntry(record: NewApiTokenRecord): AuditEntryInput {
  return {
    at: new Date(record.createdAtMs).toISOString(),
    actor: record.createdBy,
    action: "token.created",
    subject: `api-token/${record.id}`,
    contentHash: null,
    reason: null,
    details: { name: record.name, principalId: record.principalId, roles: [...record.roles] },
  };
}

export function tokenRevokedAuditEntry(
  record: Pick<ApiTokenRecord, "id" | "principalId">,
  request: RevokeApiTokenRequest,
): AuditEntryInput {
  return {
    at: new Date(request.atMs).toISOString(),
    actor: request.actor,
    action: "token.revoked",
    subject: `api-token/${record.id}`,
    contentHash: null,
    reason: request.reason,
    details: { principalId: record.principalId },
  };
}

/** A record as the SQL stores keep it: the roles as their JSON text. */
export interface ApiTokenRow {
  id: string;
  name: string;
  principal_id: string;
  roles_json: string;
  secret_hash: string;
  created_at_ms: number;
  created_by: string;
  revoked_at_ms: number | null;
  revoked_by: string | null;
}

export const API_TOKEN_COLUMNS =
  "id, name, principal_id, roles_json, secret_hash, created_at_ms, created_by, revoked_at_ms, revoked_by";

export function apiTokenRowOf(record: NewApiTokenRecord): ApiTokenRow {
  return {
    id: record.id,
    name: record.name,
    principal_id: record.principalId,
    roles_json: JSON.stringify(record.roles),
    secret_hash: record.secretHash,
    created_at_ms: record.createdAtMs,
    created_by: record.createdBy,
    revoked_at_ms: null,
    revoked_by: null,
  };
}

export function apiTokenOfRow(row: ApiTokenRow): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    principalId: row.principal_id,
    roles: JSON.parse(row.roles_json) as ApiRole[],
    secretHash: row.secret_hash,
    createdAtMs: Number(row.created_at_ms),
    createdBy: row.created_by,
    revokedAtMs: row.revoked_at_ms === null ? null : Number(row.revoked_at_ms),
    revokedBy: row.revoked_by,
  };
}

/** The row values in `API_TOKEN_COLUMNS` order. */
export function apiTokenRowValues(row: ApiTokenRow): (string | number | null)[] {
  return [
    row.id,
    row.name,
    row.principal_id,
    row.roles_json,
    row.secret_hash,
    row.created_at_ms,
    row.created_by,
    row.revoked_at_ms,
    row.revoked_by,
  ];
}

/** A list's limit as a store applies it: an integer within 0..1,000. */
export function apiTokenListLimitOf(limit: number): number {
  if (!Number.isFinite(limit)) return limit > 0 ? API_TOKEN_LIMITS.listLimitMax : 0;
  return Math.min(Math.max(Math.trunc(limit), 0), API_TOKEN_LIMITS.listLimitMax);
}

/** What the stores say when the id is not (or no longer) an unrevoked token's. */
export function revokeMissRefusal(id: string, record: ApiTokenRecord | undefined): TokenRefusal {
  return record === undefined
    ? tokenRefusal("token_not_found", `no token has id ${id}`)
    : tokenRefusal("token_revoked", `token ${id} was revoked at ${record.revokedAtMs}`);
}

export function tooManyTokensRefusal(active: number): TokenRefusal {
  return tokenRefusal("too_many_tokens", `${active} unrevoked tokens exist`);
}

export function tokenIdTakenRefusal(id: string): TokenRefusal {
  return tokenRefusal("token_id_taken", `a token with id ${id} exists`);
}

export function tokensExistRefusal(): TokenRefusal {
  return tokenRefusal("tokens_exist", "a token exists already: the first one was created");
}

function auditRefusalOf(entry: AuditEntryInput): TokenRefusal | undefined {
  const refusal = refusalOf(entry);
  return refusal === undefined || refusal.ok
    ? undefined
    : tokenRefusal("audit_refused", `${refusal.code}: ${refusal.message}`);
}
