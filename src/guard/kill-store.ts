/**
 * The kill switch's store port (docs/reference/kill-switch.md). Every write — a kill set or
 * cleared — is one atomic step with its audit entry (`kill.set`, `kill.cleared`) and moves the
 * store's sequence by one, so a reader that sees sequence N knows every write up to N. Readers
 * poll the sequence (cheap) and read the whole state when it moved; a store that can push changes
 * (PostgreSQL's LISTEN/NOTIFY, the memory store) also offers `listen`, which only shortens the wait:
 * polling stays the guarantee. The memory store serves application tests; SQLite and PostgreSQL
 * adapters pass the same contract suite.
 */
import type { AuditDetails, AuditEntryInput } from "../core/audit/audit-entry.ts";
import {
  type Kill,
  type KillScope,
  type KillState,
  type KillWriteCode,
  killRequestProblem,
} from "../core/guard/kill.ts";

export interface PublishKillRequest {
  readonly scope: KillScope;
  readonly reason: string;
  readonly actor: string;
  readonly atMs: number;
}

export interface ClearKillRequest {
  /** The kill's own sequence. */
  readonly killSequence: number;
  readonly reason: string;
  readonly actor: string;
  readonly atMs: number;
}

export type KillWriteResult =
  | {
      readonly ok: true;
      /** The kill set, or the one cleared. */
      readonly kill: Kill;
      /** The store's sequence after this write. */
      readonly sequence: number;
    }
  | { readonly ok: false; readonly code: KillWriteCode; readonly message: string };

/** What a store tells a listener. */
export interface KillStoreListener {
  /**
   * The state may have changed (a notification came, or the channel was re-established after a
   * gap in which notifications could have been lost): read it again.
   */
  onSignal(): void;
}

export interface KillSubscription {
  stop(): Promise<void>;
}

export interface KillStore {
  /** Sets a kill: refused with a code (nothing written) or written with its `kill.set` entry. */
  publishKill(request: PublishKillRequest): Promise<KillWriteResult>;
  /** Clears an active kill, with its `kill.cleared` entry, or refuses. */
  clearKill(request: ClearKillRequest): Promise<KillWriteResult>;
  /** The active kills and the sequence they are current to, read in one consistent snapshot. */
  readState(): Promise<KillState>;
  /** The sequence alone: what a poll reads. */
  readSequence(): Promise<number>;
  /** Present when the store pushes changes: listens until the subscription is stopped. */
  listen?(listener: KillStoreListener): Promise<KillSubscription>;
  close(): Promise<void>;
}

/** Failures of a store, never refusals of a write: those are `KillWriteResult`s. */
export const KILL_STORE_ERROR_CODES = {
  closed: "The store is closed.",
  open_failed: "The database could not be opened or migrated, or an option is out of range.",
  read_failed: "A read failed (connection lost, time-out).",
  write_failed:
    "The transaction holding a write failed or its outcome is unknown: read the state to learn whether it was written.",
} as const;

export type KillStoreErrorCode = keyof typeof KILL_STORE_ERROR_CODES;

export class KillStoreError extends Error {
  override readonly name = "KillStoreError";

  constructor(
    readonly code: KillStoreErrorCode,
    detail: string,
  ) {
    super(`kill store ${code}: ${detail}`);
  }
}

/** The refusal every store gives a malformed publish before its atomic step; undefined if none. */
export function publishRefusalOf(request: PublishKillRequest): KillWriteResult | undefined {
  const problem = killRequestProblem(request.scope, request.reason, request.atMs);
  return problem === undefined ? undefined : { ok: false, code: "kill_invalid", message: problem };
}

/** The same for a clear. */
export function clearRefusalOf(request: ClearKillRequest): KillWriteResult | undefined {
  if (!Number.isSafeInteger(request.killSequence) || request.killSequence < 1) {
    return { ok: false, code: "kill_not_active", message: `no kill ${request.killSequence}` };
  }
  const problem = killRequestProblem({ kind: "all" }, request.reason, request.atMs);
  return problem === undefined ? undefined : { ok: false, code: "kill_invalid", message: problem };
}

/** The audit entry of a kill set: subject `kill/<sequence>`, the scope in the details. */
export function killSetAuditEntry(kill: Kill): AuditEntryInput {
  return {
    at: new Date(kill.atMs).toISOString(),
    actor: kill.actor,
    action: "kill.set",
    subject: `kill/${kill.sequence}`,
    contentHash: null,
    reason: kill.reason,
    details: { scope: JSON.parse(scopeJson(kill.scope)) as AuditDetails },
  };
}

/** The audit entry of a kill cleared, naming the store's sequence of the clear. */
export function killClearedAuditEntry(
  kill: Kill,
  request: ClearKillRequest,
  sequence: number,
): AuditEntryInput {
  return {
    at: new Date(request.atMs).toISOString(),
    actor: request.actor,
    action: "kill.cleared",
    subject: `kill/${kill.sequence}`,
    contentHash: null,
    reason: request.reason,
    details: { clearedAtSequence: sequence },
  };
}

/** Kills as the stores keep them: the scope as its JSON text. */
export function killOfRow(row: {
  sequence: number;
  scope_json: string;
  reason: string;
  actor: string;
  at_ms: number;
}): Kill {
  return {
    sequence: Number(row.sequence),
    scope: JSON.parse(row.scope_json) as KillScope,
    reason: row.reason,
    actor: row.actor,
    atMs: Number(row.at_ms),
  };
}

/** The scope as stored: only the fields its kind has, in a fixed order. */
export function scopeJson(scope: KillScope): string {
  switch (scope.kind) {
    case "all":
      return JSON.stringify({ kind: "all" });
    case "campaigns":
      return JSON.stringify({ kind: "campaigns", campaignIds: [...scope.campaignIds] });
    case "template":
      return JSON.stringify({ kind: "template", templateId: scope.templateId });
    case "funding":
      return JSON.stringify({ kind: "funding", funding: scope.funding });
  }
}
