/**
 * The audit log's encoding and its verifier, without a store: a worked example pinned to its
 * exact text and hash, the same hashes recomputed by another tool (Python), and properties over
 * generated chains: an untouched chain verifies, and every single edit, deletion, swap or
 * forgery is reported.
 */
import { spawnSync } from "node:child_process";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  auditEntryHash,
  EMPTY_AUDIT_HEAD,
  sealAuditEntry,
  verifyAuditChain,
} from "../../src/control/audit-log.ts";
import { AUDIT_ACTIONS, type AuditAction } from "../../src/core/audit/audit-actions.ts";
import {
  AUDIT_VERIFIER_LIMITS,
  parseAuditHead,
} from "../../src/core/audit/audit-chain-verifier.ts";
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  type AuditEntryInput,
  auditHashText,
  canonicalAuditJson,
  checkAuditEntryInput,
  isAuditInstant,
} from "../../src/core/audit/audit-entry.ts";

function chainOf(inputs: readonly AuditEntryInput[]): AuditEntry[] {
  const entries: AuditEntry[] = [];
  let head = EMPTY_AUDIT_HEAD;
  for (const input of inputs) {
    const entry = sealAuditEntry(input, head);
    entries.push(entry);
    head = { sequence: entry.sequence, hash: entry.hash };
  }
  return entries;
}

function headOf(entries: readonly AuditEntry[]) {
  const last = entries.at(-1);
  return last === undefined ? EMPTY_AUDIT_HEAD : { sequence: last.sequence, hash: last.hash };
}

/** Re-hashes an entry after a change, as a tamperer who knows the encoding does. */
function rehashed(entry: Omit<AuditEntry, "hash">): AuditEntry {
  return { ...entry, hash: auditEntryHash(entry) };
}

const storableText = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 40 })
  .filter((text) => !text.includes("\u0000"));

const detailValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  storableText,
);

const inputArbitrary: fc.Arbitrary<AuditEntryInput> = fc.record({
  at: fc
    .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) })
    .map((ms) => new Date(ms).toISOString()),
  actor: fc.stringMatching(/^[a-z][a-z0-9._@-]{0,15}$/),
  action: fc.constantFrom(...(Object.keys(AUDIT_ACTIONS) as AuditAction[])),
  subject: fc.nat(10_000).map((id) => `change/${id}`),
  contentHash: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null }),
  reason: fc.option(storableText, { nil: null }),
  details: fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), detailValue, {
    maxKeys: 4,
  }),
});

const chainArbitrary = fc.array(inputArbitrary, { minLength: 2, maxLength: 24 }).map(chainOf);

/** One field of one entry changed to another value a store could hold. */
const FIELD_EDITS: Record<string, (entry: AuditEntry) => AuditEntry> = {
  at: (entry) => ({
    ...entry,
    at: entry.at.replace(/\d(?=\.\d{3}Z$)/, (d) => String((+d + 1) % 10)),
  }),
  actor: (entry) => ({ ...entry, actor: `${entry.actor}x` }),
  action: (entry) => ({
    ...entry,
    action: entry.action === "kill.set" ? "kill.cleared" : "kill.set",
  }),
  subject: (entry) => ({ ...entry, subject: `${entry.subject}0` }),
  contentHash: (entry) => ({
    ...entry,
    contentHash: entry.contentHash === null ? "a".repeat(64) : null,
  }),
  reason: (entry) => ({ ...entry, reason: entry.reason === null ? "why" : null }),
  details: (entry) => ({ ...entry, details: { ...entry.details, Forged: 1 } }),
  previousHash: (entry) => ({ ...entry, previousHash: "b".repeat(64) }),
  hash: (entry) => ({ ...entry, hash: "c".repeat(64) }),
};

describe("the canonical encoding", () => {
  const example: AuditEntry = rehashed({
    sequence: 1,
    at: "2025-01-16T06:40:00.000Z",
    actor: "alice",
    action: "change.approved",
    subject: "change/42",
    contentHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    reason: "checked the money: ¥0.50 off",
    details: { stage: 2, approvals: ["alice", "bob"] },
    previousHash: AUDIT_GENESIS_HASH,
  });

  test("is the documented text, and its SHA-256 the documented hash", () => {
    // docs/reference/audit-log.md, "A worked example": change both together or neither.
    expect(auditHashText(example)).toBe(
      '["bursar.audit.v1",1,"2025-01-16T06:40:00.000Z","alice","change.approved","change/42","9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","checked the money: ¥0.50 off",{"approvals":["alice","bob"],"stage":2},"0000000000000000000000000000000000000000000000000000000000000000"]',
    );
    expect(example.hash).toBe("db094ecfb636ab2a31601c116eb5471ad3e7e89d4f1b2c730ef67e5273a61c38");
  });

  test("sorts keys at every level and writes no whitespace", () => {
    expect(canonicalAuditJson({ b: [{ d: 1, c: null }], a: 'x\n\u0001"é😀' })).toBe(
      '{"a":"x\\n\\u0001\\"é😀","b":[{"c":null,"d":1}]}',
    );
  });

  const python = spawnSync("python3", ["--version"]).status === 0;
  test.skipIf(!python)(
    "another tool (Python's json and hashlib) recomputes every hash [skipped only where python3 is missing]",
    () => {
      const entries = chainOf([
        ...fc.sample(inputArbitrary, { seed: 20250116, numRuns: 30 }),
        {
          ...example,
          reason: "tab\t, newline\n, control \u0001\u001f, DEL \u007f, U+2028 \u2028, 𝄞",
        },
      ]);
      const script = [
        "import hashlib, json, sys",
        "for e in json.load(sys.stdin):",
        "  text = json.dumps(['bursar.audit.v1', e['sequence'], e['at'], e['actor'], e['action'], e['subject'], e['contentHash'], e['reason'], e['details'], e['previousHash']], separators=(',', ':'), ensure_ascii=False, sort_keys=True)",
        "  print(hashlib.sha256(text.encode('utf-8')).hexdigest())",
      ].join("\n");
      const result = spawnSync("python3", ["-c", script], {
        input: JSON.stringify(entries),
        encoding: "utf8",
      });
      expect(result.stderr).toBe("");
      expect(result.stdout.trim().split("\n")).toEqual(entries.map((entry) => entry.hash));
    },
  );

  test("instants are real and written one way", () => {
    expect(isAuditInstant("2024-02-29T23:59:59.999Z")).toBe(true);
    expect(isAuditInstant("2000-02-29T00:00:00.000Z")).toBe(true);
    for (const text of [
      "2025-02-29T00:00:00.000Z",
      "1900-02-29T00:00:00.000Z",
      "2025-04-31T00:00:00.000Z",
      "2025-01-16T24:00:00.000Z",
      "2025-01-16T06:40:00Z",
      "2025-01-16T06:40:00.000+08:00",
      "2025-01-16 06:40:00.000Z",
    ]) {
      expect(isAuditInstant(text), text).toBe(false);
    }
  });

  test.prop([inputArbitrary])("every generated input is accepted and survives JSON", (input) => {
    expect(checkAuditEntryInput(input)).toBeUndefined();
    const entry = sealAuditEntry(input, EMPTY_AUDIT_HEAD);
    const { hash, ...unsealed } = JSON.parse(JSON.stringify(entry)) as AuditEntry;
    expect(auditEntryHash(unsealed)).toBe(hash);
  });

  test("SEQ:HASH anchors parse, other text does not", () => {
    expect(parseAuditHead(` 7:${"a".repeat(64)} `)).toEqual({ sequence: 7, hash: "a".repeat(64) });
    for (const text of [
      "7",
      `7:${"A".repeat(64)}`,
      `-1:${"a".repeat(64)}`,
      `7:${"a".repeat(63)}`,
    ]) {
      expect(parseAuditHead(text), text).toBeUndefined();
    }
  });
});

describe("the chain verifier", () => {
  test.prop([chainArbitrary])("an untouched chain verifies, with its head", (entries) => {
    const head = headOf(entries);
    expect(verifyAuditChain(entries, { recordedHead: head, anchor: head })).toEqual({
      entries: entries.length,
      head,
      violations: [],
      violationsOmitted: 0,
      ok: true,
    });
  });

  test.prop([chainArbitrary, fc.nat(), fc.constantFrom(...Object.keys(FIELD_EDITS))])(
    "any one field of any entry edited is reported as edited at that entry",
    (entries, pick, field) => {
      const index = pick % entries.length;
      const tampered = entries.with(index, FIELD_EDITS[field]!(entries[index]!));
      const report = verifyAuditChain(tampered);
      expect(report.ok).toBe(false);
      expect(report.violations[0]).toMatchObject({ sequence: index + 1, problem: "edited" });
    },
  );

  test.prop([chainArbitrary, fc.nat()])(
    "a deleted entry is reported as missing; the newest only by the recorded head or the anchor",
    (entries, pick) => {
      const index = pick % entries.length;
      const tampered = entries.toSpliced(index, 1);
      const head = headOf(entries);
      if (index < entries.length - 1) {
        expect(verifyAuditChain(tampered).violations).toEqual([
          {
            sequence: index + 1,
            problem: "missing",
            expected: String(index + 1),
            actual: String(index + 2),
          },
        ]);
      } else {
        expect(verifyAuditChain(tampered).ok).toBe(true);
        expect(problemsOf(verifyAuditChain(tampered, { recordedHead: head }))).toEqual([
          "head_mismatch",
        ]);
        expect(problemsOf(verifyAuditChain(tampered, { anchor: head }))).toEqual(["truncated"]);
      }
    },
  );

  test.prop([chainArbitrary, fc.nat(), fc.nat()])(
    "two entries swapped are both reported as reordered, each with where it was written",
    (entries, first, second) => {
      const low = Math.min(first % entries.length, second % entries.length);
      const high = Math.max(first % entries.length, second % entries.length);
      fc.pre(low !== high && high - low <= AUDIT_VERIFIER_LIMITS.reorderDistanceMax);
      const tampered = entries.with(low, { ...entries[high]!, sequence: low + 1 });
      tampered[high] = { ...entries[low]!, sequence: high + 1 };
      expect(verifyAuditChain(tampered).violations).toEqual([
        {
          sequence: low + 1,
          problem: "reordered",
          expected: String(low + 1),
          actual: String(high + 1),
        },
        {
          sequence: high + 1,
          problem: "reordered",
          expected: String(high + 1),
          actual: String(low + 1),
        },
      ]);
    },
  );

  test.prop([chainArbitrary, fc.nat(), inputArbitrary])(
    "a forged entry with a correct hash in place of another breaks the next link; at the end only the anchor sees it",
    (entries, pick, forgedInput) => {
      const index = pick % entries.length;
      const previous = index === 0 ? EMPTY_AUDIT_HEAD : headOf(entries.slice(0, index));
      const forged = sealAuditEntry(forgedInput, previous);
      fc.pre(forged.hash !== entries[index]!.hash);
      const tampered = entries.with(index, forged);
      if (index < entries.length - 1) {
        expect(verifyAuditChain(tampered).violations).toEqual([
          {
            sequence: index + 2,
            problem: "broken_link",
            expected: forged.hash,
            actual: entries[index]!.hash,
          },
        ]);
      } else {
        expect(verifyAuditChain(tampered).ok).toBe(true);
        expect(problemsOf(verifyAuditChain(tampered, { anchor: headOf(entries) }))).toEqual([
          "anchor_mismatch",
        ]);
      }
    },
  );

  test("entries moved further than the probe reaches are reported as edited, with the links they break", () => {
    const distance = AUDIT_VERIFIER_LIMITS.reorderDistanceMax + 1;
    const entries = chainOf(fc.sample(inputArbitrary, { seed: 1, numRuns: distance + 2 }));
    const tampered = entries.with(0, { ...entries[distance]!, sequence: 1 });
    tampered[distance] = { ...entries[0]!, sequence: distance + 1 };
    expect(problemsOf(verifyAuditChain(tampered))).toEqual([
      "edited",
      "broken_link",
      "edited",
      "broken_link",
    ]);
  });

  test("entries out of sequence order and malformed entries are reported", () => {
    const entries = chainOf(fc.sample(inputArbitrary, { seed: 2, numRuns: 4 }));
    expect(
      problemsOf(verifyAuditChain([entries[0]!, entries[1]!, entries[1]!, entries[2]!])),
    ).toEqual(["out_of_order"]);
    const malformed = entries.with(1, { ...entries[1]!, hash: "not a hash" });
    expect(problemsOf(verifyAuditChain(malformed))).toEqual(["malformed", "broken_link"]);
  });

  test("violations beyond the limit are counted, not listed", () => {
    const entries = chainOf(fc.sample(inputArbitrary, { seed: 3, numRuns: 30 }));
    const tampered = entries.map((entry) => ({ ...entry, actor: `${entry.actor}x` }));
    const report = verifyAuditChain(tampered, { violationsMax: 10 });
    expect(report.violations).toHaveLength(10);
    expect(report.violationsOmitted).toBe(20);
    expect(report.ok).toBe(false);
  });
});

function problemsOf(report: { violations: readonly { problem: string }[] }): string[] {
  return report.violations.map((violation) => violation.problem);
}
