/**
 * One entry of the hash-chained audit log, its limits and its canonical encoding: the exact
 * text whose SHA-256 is the entry's hash (docs/reference/audit-log.md, "The hash"). Hashing
 * itself needs `node:crypto` and lives in src/control/audit-log.ts; everything here is pure.
 */
import { type AuditAction, isAuditAction } from "./audit-actions.ts";

/** A value inside `details`: JSON without fractions, so every tool writes it alike. */
export type AuditDetailValue =
  | null
  | boolean
  | number
  | string
  | readonly AuditDetailValue[]
  | AuditDetails;

export interface AuditDetails {
  readonly [key: string]: AuditDetailValue;
}

/** What an appender supplies; the store adds the sequence and both hashes atomically. */
export interface AuditEntryInput {
  /** When it happened, from the appender's injected clock: `YYYY-MM-DDTHH:MM:SS.sssZ`. */
  readonly at: string;
  /** Who: a principal id. */
  readonly actor: string;
  readonly action: AuditAction;
  /** What: `kind/id`, e.g. `change/42`, `campaign/idc-coffee@3`. */
  readonly subject: string;
  /** SHA-256 (lower-case hex) of the content acted on, or null. */
  readonly contentHash: string | null;
  readonly reason: string | null;
  readonly details: AuditDetails;
}

export interface AuditEntry extends AuditEntryInput {
  /** 1, 2, 3, … without gaps, in the order entries were appended. */
  readonly sequence: number;
  /** The `hash` of the entry before (the genesis hash for sequence 1). */
  readonly previousHash: string;
  /** SHA-256 (lower-case hex) of `auditHashText(entry)`. */
  readonly hash: string;
}

/** The latest sequence and hash: `{0, GENESIS_HASH}` for an empty log. */
export interface AuditHead {
  readonly sequence: number;
  readonly hash: string;
}

/** What entry 1 links to: 64 zeros. */
export const AUDIT_GENESIS_HASH = "0".repeat(64);

/** Names the encoding inside every hashed text, so a future encoding cannot collide with it. */
export const AUDIT_HASH_FORMAT = "bursar.audit.v1";

export const AUDIT_LIMITS = {
  actorLengthMax: 128,
  subjectLengthMax: 256,
  reasonBytesMax: 2_000,
  /** The canonical JSON text of `details`, in UTF-8 bytes. */
  detailsBytesMax: 4_096,
  /** Objects and arrays nested inside `details`, counting `details` itself. */
  detailsDepthMax: 4,
  detailsKeyLengthMax: 64,
} as const;

/** Why an append was refused; nothing was written (docs/reference/audit-log.md). */
export const AUDIT_REFUSAL_CODES = {
  at_invalid: "`at` is not a real instant written as `YYYY-MM-DDTHH:MM:SS.sssZ`.",
  actor_invalid:
    "`actor` is empty, longer than 128 characters, or holds characters outside letters, digits and `._:@+-`.",
  action_unknown: "`action` is not in the action catalog.",
  subject_invalid:
    "`subject` is not `kind/id` (kind: lower-case letters, digits, `_`, `-`; id: printable ASCII without spaces) or is longer than 256 characters.",
  content_hash_invalid: "`contentHash` is neither null nor 64 lower-case hexadecimal digits.",
  reason_invalid:
    "`reason` is an empty string, or holds a NUL character or a lone UTF-16 surrogate (which no store keeps as written).",
  reason_too_long: "`reason` is longer than 2,000 UTF-8 bytes.",
  details_invalid:
    "`details` is not a plain JSON object of null, booleans, safe integers, strings and arrays and objects of them, with keys of letters, digits and `_` (at most 64), nested at most 4 deep.",
  details_too_large: "The canonical JSON text of `details` is longer than 4,096 UTF-8 bytes.",
} as const;

export type AuditRefusalCode = keyof typeof AUDIT_REFUSAL_CODES;

export interface AuditRefusal {
  readonly code: AuditRefusalCode;
  readonly message: string;
}

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/;
const ACTOR = /^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/;
const SUBJECT = /^[a-z][a-z0-9_-]*\/[\x21-\x7e]+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const DETAILS_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && SHA256_HEX.test(value);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** A real instant in the one form `Date.prototype.toISOString` writes for years 0–9999. */
export function isAuditInstant(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const match = INSTANT.exec(value);
  if (match === null) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as number[];
  const daysInMonth = [31, isLeapYear(year!) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return (
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth[month! - 1]! &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59
  );
}

/** UTF-8 length of well-formed text. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0)!;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** No NUL (PostgreSQL's text refuses it) and no lone surrogate (UTF-8 cannot carry it). */
function isStorableText(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if (unit === 0) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(index + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      index += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Why `value` is not a storable details value, or undefined when it is. */
function detailsProblem(value: unknown, depth: number): string | undefined {
  if (value === null || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isSafeInteger(value) ? undefined : `${value} is not a safe integer`;
  }
  if (typeof value === "string") {
    return isStorableText(value) ? undefined : "a string holds NUL or a lone surrogate";
  }
  // `details` itself is depth 1: objects and arrays at depths 1 to detailsDepthMax are kept.
  if (depth > AUDIT_LIMITS.detailsDepthMax) {
    return `nested deeper than ${AUDIT_LIMITS.detailsDepthMax}, counting details itself`;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = detailsProblem(item, depth + 1);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (!isPlainObject(value)) return `a ${typeof value} is not JSON`;
  for (const [key, item] of Object.entries(value)) {
    if (!DETAILS_KEY.test(key) || key.length > AUDIT_LIMITS.detailsKeyLengthMax) {
      return `key ${JSON.stringify(key)} is not a name of letters, digits and _ (at most ${AUDIT_LIMITS.detailsKeyLengthMax})`;
    }
    const problem = detailsProblem(item, depth + 1);
    if (problem !== undefined) return `${key}: ${problem}`;
  }
  return undefined;
}

/**
 * JSON with no whitespace and object keys in ascending order at every level. Keys are ASCII
 * names, so every tool sorts them alike; numbers are safe integers, so every tool writes them
 * alike. Strings are escaped as ECMAScript's JSON.stringify does (and Python's json.dumps with
 * ensure_ascii=False).
 */
export function canonicalAuditJson(value: AuditDetailValue): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalAuditJson).join(",")}]`;
  const object = value as AuditDetails;
  const keys = Object.keys(object).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalAuditJson(object[key]!)}`).join(",")}}`;
}

/** The first reason `input` cannot be appended, or undefined when it can. */
export function checkAuditEntryInput(input: AuditEntryInput): AuditRefusal | undefined {
  if (!isAuditInstant(input.at)) {
    return { code: "at_invalid", message: `at ${JSON.stringify(input.at)} is not an instant` };
  }
  if (
    typeof input.actor !== "string" ||
    input.actor.length > AUDIT_LIMITS.actorLengthMax ||
    !ACTOR.test(input.actor)
  ) {
    return { code: "actor_invalid", message: `actor ${JSON.stringify(input.actor)} is refused` };
  }
  if (!isAuditAction(input.action)) {
    return {
      code: "action_unknown",
      message: `action ${JSON.stringify(input.action)} is not in the catalog`,
    };
  }
  if (
    typeof input.subject !== "string" ||
    input.subject.length > AUDIT_LIMITS.subjectLengthMax ||
    !SUBJECT.test(input.subject)
  ) {
    return {
      code: "subject_invalid",
      message: `subject ${JSON.stringify(input.subject)} is not kind/id`,
    };
  }
  if (input.contentHash !== null && !isSha256Hex(input.contentHash)) {
    return { code: "content_hash_invalid", message: "contentHash is not SHA-256 hex" };
  }
  if (input.reason !== null) {
    if (typeof input.reason !== "string" || input.reason === "" || !isStorableText(input.reason)) {
      return { code: "reason_invalid", message: "reason is empty or not storable text" };
    }
    const bytes = utf8ByteLength(input.reason);
    if (bytes > AUDIT_LIMITS.reasonBytesMax) {
      return {
        code: "reason_too_long",
        message: `reason is ${bytes} bytes, above ${AUDIT_LIMITS.reasonBytesMax}`,
      };
    }
  }
  if (!isPlainObject(input.details)) {
    return { code: "details_invalid", message: "details is not a plain object" };
  }
  const problem = detailsProblem(input.details, 1);
  if (problem !== undefined) return { code: "details_invalid", message: `details: ${problem}` };
  const bytes = utf8ByteLength(canonicalAuditJson(input.details));
  if (bytes > AUDIT_LIMITS.detailsBytesMax) {
    return {
      code: "details_too_large",
      message: `details are ${bytes} bytes, above ${AUDIT_LIMITS.detailsBytesMax}`,
    };
  }
  return undefined;
}

/** The refusal an entry read back would earn, plus problems with its sequence and hashes. */
export function auditEntryShapeProblem(entry: AuditEntry): string | undefined {
  if (!Number.isSafeInteger(entry.sequence) || entry.sequence < 1) {
    return `sequence ${entry.sequence} is not a positive integer`;
  }
  if (!isSha256Hex(entry.previousHash)) return "previousHash is not SHA-256 hex";
  if (!isSha256Hex(entry.hash)) return "hash is not SHA-256 hex";
  const refusal = checkAuditEntryInput(entry);
  return refusal === undefined ? undefined : `${refusal.code}: ${refusal.message}`;
}

/**
 * The text an entry's hash is taken over: a JSON array, in this order, of the format name,
 * sequence, at, actor, action, subject, contentHash, reason, details and previousHash, written
 * canonically (`canonicalAuditJson`). Its SHA-256 over the UTF-8 bytes, in lower-case hex, is
 * the entry's `hash`.
 */
export function auditHashText(entry: Omit<AuditEntry, "hash">): string {
  return canonicalAuditJson([
    AUDIT_HASH_FORMAT,
    entry.sequence,
    entry.at,
    entry.actor,
    entry.action,
    entry.subject,
    entry.contentHash,
    entry.reason,
    entry.details,
    entry.previousHash,
  ]);
}
