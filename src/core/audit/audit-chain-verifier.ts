/**
 * Checks a hash-chained audit log entry by entry, in bounded memory, so a log of millions of
 * entries streams through it page by page. The hash function arrives as an argument (the core
 * does no hashing of its own). Every tampering with entries up to the last one read yields at
 * least one violation; the problem code names the likeliest cause. What the chain alone cannot
 * see (the newest entries deleted or rewritten) needs a head: the store's recorded head and an
 * anchor the auditor kept (docs/reference/audit-log.md, "What is detected").
 */
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  type AuditHead,
  auditEntryShapeProblem,
  auditHashText,
  isSha256Hex,
} from "./audit-entry.ts";

export const AUDIT_PROBLEM_CODES = {
  malformed:
    "The entry breaks the entry's shape or limits (an unknown action, a hash that is not SHA-256 hex, …): no store writes it so.",
  out_of_order: "The entry's sequence is not above the sequence read before it.",
  missing:
    "Sequences were skipped: the entries from `expected` up to the one before `actual` were deleted.",
  edited:
    "The entry's stored hash is not the hash of its fields: a field (or the hash) was changed after it was written.",
  reordered:
    "The entry's stored hash is right for its fields at another sequence (`actual`) than where it is (`expected`): entries were moved.",
  inserted:
    "An entry with a consistent hash stands where entries were pushed along to make room: it was forged and inserted.",
  broken_link:
    "The entry's hash is consistent but its previousHash is not the hash of the entry before it: the entry before was replaced by, or preceded by, a forged entry, or that entry's hash was changed.",
  head_mismatch:
    "The head the store recorded with the last append is not the last entry: entries were deleted from or added at the end without going through the store.",
  truncated: "The anchor's sequence is beyond the last entry: the newest entries were deleted.",
  anchor_mismatch:
    "The entry at the anchor's sequence does not have the anchor's hash (or is gone): the log up to the anchor was rewritten.",
} as const;

export type AuditProblemCode = keyof typeof AUDIT_PROBLEM_CODES;

export interface AuditViolation {
  readonly sequence: number;
  readonly problem: AuditProblemCode;
  readonly expected: string;
  readonly actual: string;
}

/** `bursar audit verify`'s report (docs/reference/audit-log.md). */
export interface AuditVerification {
  /** Entries read. */
  readonly entries: number;
  /** The last entry read: what to keep as the next anchor when `ok`. */
  readonly head: AuditHead;
  /** The first `violationsMax` violations, in the order found. */
  readonly violations: readonly AuditViolation[];
  /** Violations found beyond `violationsMax`. */
  readonly violationsOmitted: number;
  readonly ok: boolean;
}

export interface AuditChainVerifierOptions {
  /** SHA-256 of a text's UTF-8 bytes in lower-case hex. */
  readonly hashText: (text: string) => string;
  /** A head the auditor kept: the entry at its sequence must still have its hash. */
  readonly anchor?: AuditHead;
  /** The head the store recorded with its last append: the last entry must be it. */
  readonly recordedHead?: AuditHead;
  readonly violationsMax?: number;
}

export const AUDIT_VERIFIER_LIMITS = {
  violationsMax: 1_000,
  /** Recent entries kept to check links and tell moved entries from edited ones. */
  windowEntries: 64,
  /** How far from its place a moved entry is recognised as moved (else it is `edited`). */
  reorderDistanceMax: 16,
  /** Entries whose hash fails that are probed at other sequences; the rest are `edited`. */
  reorderProbedEntriesMax: 10_000,
} as const;

interface PlaceRecord {
  readonly hash: string;
  /** The stored hash is the hash of the entry's fields at its own sequence. */
  readonly selfConsistent: boolean;
  insertionReported: boolean;
}

/** Parses `SEQ:HASH` (`--expect-head`); undefined when it is not one. */
export function parseAuditHead(text: string): AuditHead | undefined {
  const match = /^(\d{1,16}):([0-9a-f]{64})$/.exec(text.trim());
  if (match === null) return undefined;
  const sequence = Number(match[1]);
  return Number.isSafeInteger(sequence) ? { sequence, hash: match[2]! } : undefined;
}

export function formatAuditHead(head: AuditHead): string {
  return `${head.sequence}:${head.hash}`;
}

export class AuditChainVerifier {
  private entries = 0;
  private lastSequence = 0;
  private lastHash = AUDIT_GENESIS_HASH;
  /** Stored hash by the sequence each recent entry was written at (its place in the chain). */
  private readonly hashByWrittenAt = new Map<number, string>([[0, AUDIT_GENESIS_HASH]]);
  /** Recent entries by the sequence where they are now. */
  private readonly byPlace = new Map<number, PlaceRecord>();
  /**
   * Links whose predecessor was not read yet (it was moved further down): checked when an entry
   * written at that sequence turns up, or reported at the end.
   */
  private readonly pendingLinks = new Map<number, { sequence: number; previousHash: string }>();
  private readonly violations: AuditViolation[] = [];
  private violationsOmitted = 0;
  private probedEntries = 0;
  private anchorSeen = false;
  private readonly violationsMax: number;

  constructor(private readonly options: AuditChainVerifierOptions) {
    this.violationsMax = options.violationsMax ?? AUDIT_VERIFIER_LIMITS.violationsMax;
    if (options.anchor !== undefined && !isSha256Hex(options.anchor.hash)) {
      throw new Error("the anchor's hash is not SHA-256 hex");
    }
  }

  /** Takes the next entry in the order the store holds them (ascending sequence). */
  add(entry: AuditEntry): void {
    this.entries += 1;
    const shapeProblem = auditEntryShapeProblem(entry);
    if (shapeProblem !== undefined) {
      this.report(entry.sequence, "malformed", "a well-formed entry", shapeProblem);
      if (Number.isSafeInteger(entry.sequence) && entry.sequence > this.lastSequence) {
        this.written(entry.sequence, String(entry.hash));
        this.advance(entry.sequence, String(entry.hash), false);
      }
      return;
    }
    if (entry.sequence <= this.lastSequence) {
      this.report(
        entry.sequence,
        "out_of_order",
        `above ${this.lastSequence}`,
        String(entry.sequence),
      );
      return;
    }
    const afterGap = entry.sequence > this.lastSequence + 1;
    if (afterGap) {
      this.report(
        this.lastSequence + 1,
        "missing",
        String(this.lastSequence + 1),
        String(entry.sequence),
      );
    }
    this.checkAnchor(entry);
    const computed = this.options.hashText(auditHashText(entry));
    if (computed === entry.hash) {
      if (!afterGap) this.checkLink(entry);
      this.written(entry.sequence, entry.hash);
      this.advance(entry.sequence, entry.hash, true);
      return;
    }
    const writtenAt = this.writtenAt(entry);
    if (writtenAt === undefined) {
      this.report(entry.sequence, "edited", computed, entry.hash);
      this.written(entry.sequence, entry.hash);
    } else {
      this.reportInsertionAt(writtenAt, entry.hash);
      this.report(entry.sequence, "reordered", String(entry.sequence), String(writtenAt));
      this.written(writtenAt, entry.hash);
    }
    this.advance(entry.sequence, entry.hash, false);
  }

  finish(): AuditVerification {
    for (const [writtenAt, link] of this.pendingLinks) {
      this.reportLink(
        link.sequence,
        `the hash of an entry written at ${writtenAt}`,
        link.previousHash,
      );
    }
    this.pendingLinks.clear();
    const last = { sequence: this.lastSequence, hash: this.lastHash };
    const recorded = this.options.recordedHead;
    if (
      recorded !== undefined &&
      (recorded.sequence !== last.sequence || recorded.hash !== last.hash)
    ) {
      this.report(
        recorded.sequence,
        "head_mismatch",
        formatAuditHead(recorded),
        formatAuditHead(last),
      );
    }
    const anchor = this.options.anchor;
    if (anchor !== undefined && anchor.sequence > 0 && !this.anchorSeen) {
      if (anchor.sequence > last.sequence) {
        this.report(anchor.sequence, "truncated", String(anchor.sequence), String(last.sequence));
      } else {
        this.report(anchor.sequence, "anchor_mismatch", anchor.hash, "absent");
      }
    }
    return {
      entries: this.entries,
      head: last,
      violations: this.violations,
      violationsOmitted: this.violationsOmitted,
      ok: this.violations.length === 0 && this.violationsOmitted === 0,
    };
  }

  private checkAnchor(entry: AuditEntry): void {
    const anchor = this.options.anchor;
    if (anchor === undefined || entry.sequence !== anchor.sequence) return;
    this.anchorSeen = true;
    if (entry.hash !== anchor.hash) {
      this.report(entry.sequence, "anchor_mismatch", anchor.hash, entry.hash);
    }
  }

  /** The entry before in the chain: read already, or (after a move) perhaps still to come. */
  private checkLink(entry: AuditEntry): void {
    const expected = this.hashByWrittenAt.get(entry.sequence - 1);
    if (expected === undefined) {
      this.pendingLinks.set(entry.sequence - 1, {
        sequence: entry.sequence,
        previousHash: entry.previousHash,
      });
      trim(this.pendingLinks, (writtenAt, link) =>
        this.reportLink(
          link.sequence,
          `the hash of an entry written at ${writtenAt}`,
          link.previousHash,
        ),
      );
    } else if (entry.previousHash !== expected) {
      this.reportLink(entry.sequence, expected, entry.previousHash);
    }
  }

  private reportLink(sequence: number, expected: string, actual: string): void {
    this.report(sequence, "broken_link", expected, actual);
  }

  /** An entry written at `writtenAt` was read: its hash settles a link waiting for it. */
  private written(writtenAt: number, hash: string): void {
    this.hashByWrittenAt.set(writtenAt, hash);
    const pending = this.pendingLinks.get(writtenAt);
    if (pending === undefined) return;
    this.pendingLinks.delete(writtenAt);
    if (pending.previousHash !== hash)
      this.reportLink(pending.sequence, hash, pending.previousHash);
  }

  /** The sequence, near its place, at which the entry's stored hash is right. */
  private writtenAt(entry: AuditEntry): number | undefined {
    if (this.probedEntries >= AUDIT_VERIFIER_LIMITS.reorderProbedEntriesMax) return undefined;
    this.probedEntries += 1;
    for (let distance = 1; distance <= AUDIT_VERIFIER_LIMITS.reorderDistanceMax; distance += 1) {
      for (const sequence of [entry.sequence - distance, entry.sequence + distance]) {
        if (sequence < 1) continue;
        if (this.options.hashText(auditHashText({ ...entry, sequence })) === entry.hash) {
          return sequence;
        }
      }
    }
    return undefined;
  }

  /**
   * An entry written at `writtenAt` was pushed along to a later place: if the entry standing at
   * `writtenAt` has a consistent hash of its own, it was forged and put there.
   */
  private reportInsertionAt(writtenAt: number, movedHash: string): void {
    const occupant = this.byPlace.get(writtenAt);
    if (occupant === undefined || !occupant.selfConsistent || occupant.insertionReported) return;
    if (occupant.hash === movedHash) return;
    occupant.insertionReported = true;
    this.report(writtenAt, "inserted", movedHash, occupant.hash);
  }

  private advance(sequence: number, hash: string, selfConsistent: boolean): void {
    this.lastSequence = sequence;
    this.lastHash = hash;
    this.byPlace.set(sequence, { hash, selfConsistent, insertionReported: false });
    trim(this.byPlace);
    trim(this.hashByWrittenAt);
  }

  private report(
    sequence: number,
    problem: AuditProblemCode,
    expected: string,
    actual: string,
  ): void {
    if (this.violations.length >= this.violationsMax) {
      this.violationsOmitted += 1;
      return;
    }
    this.violations.push({ sequence, problem, expected, actual });
  }
}

/** Keeps a map to the window's size, dropping (and handing over) the entries inserted first. */
function trim<V>(map: Map<number, V>, dropped?: (key: number, value: V) => void): void {
  while (map.size > AUDIT_VERIFIER_LIMITS.windowEntries) {
    const [key, value] = map.entries().next().value as [number, V];
    map.delete(key);
    dropped?.(key, value);
  }
}

/** Verifies a whole chain held in memory; stores stream theirs through `AuditChainVerifier`. */
export function verifyAuditEntries(
  entries: Iterable<AuditEntry>,
  options: AuditChainVerifierOptions,
): AuditVerification {
  const verifier = new AuditChainVerifier(options);
  for (const entry of entries) verifier.add(entry);
  return verifier.finish();
}
