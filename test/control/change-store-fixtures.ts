/**
 * Change requests, versions and audit inputs for the change store contract and its child
 * processes: built with the core's own functions, so what the stores keep is what the service
 * writes.
 */
import { contentHashOf } from "../../src/control/change-service.ts";
import type { AuditAction } from "../../src/core/audit/audit-actions.ts";
import type { AuditEntryInput } from "../../src/core/audit/audit-entry.ts";
import { type ChangeRequest, createChange } from "../../src/core/change/change-request.ts";
import {
  type ChangeEdit,
  type DocumentVersion,
  documentKeyOf,
} from "../../src/core/change/document-versions.ts";
import { defaultRolloutPlan } from "../../src/core/change/rollout.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Program } from "../../src/core/model/program.ts";

const T0_MS = Date.UTC(2026, 11, 2, 6, 40);

export function instant(offsetMs: number): string {
  return new Date(T0_MS + offsetMs).toISOString();
}

/** A new change (draft) putting `documents`, made against nothing stored yet. */
export function draftChange(
  id: string,
  documents: readonly ConfigDocument[],
  title = `change ${id}`,
): ChangeRequest {
  const edits: ChangeEdit[] = documents.map((document) => ({ op: "put", document }));
  const created = createChange({
    id,
    title,
    author: { id: "ana", roles: ["author"] },
    edits,
    baseVersions: Object.fromEntries(edits.map((edit) => [keyOf(edit), 0])),
    contentHash: contentHashOf(edits),
    at: instant(0),
  });
  if (!created.ok) throw new Error(`createChange refused: ${created.code}`);
  return created.change;
}

function keyOf(edit: ChangeEdit) {
  return edit.op === "put" ? documentKeyOf(edit.document) : edit.key;
}

/** The versions a change writes: `version` of each document (null retires it). */
export function versionsOf(
  changeId: string,
  documents: readonly (ConfigDocument | { kind: ConfigDocument["kind"]; id: string })[],
  version: number,
  retire = false,
): DocumentVersion[] {
  return documents.map((document) => {
    const content = retire ? null : (document as ConfigDocument);
    return {
      key: documentKeyOf(document),
      version,
      document: content,
      contentHash: contentHashOf(content),
      changeId,
    };
  });
}

/** A change far along its life: assessed, approved twice, forced, rolling out with what it wrote. */
export function rollingOutChange(
  change: ChangeRequest,
  written: readonly DocumentVersion[],
): ChangeRequest {
  return {
    ...change,
    state: "rolling_out",
    updatedAt: instant(60_000),
    assessment: {
      findings: [
        {
          key: "lint.percent_without_cap@campaign/x#offer",
          code: "lint.percent_without_cap",
          severity: "warning",
          message: "«补贴» without a cap: 0.3 元",
        },
      ],
      risk: {
        level: "high",
        reasons: [{ code: "spend_growth", message: "+30 %" }],
        approvalsRequired: 2,
        autoApprovable: false,
      },
      forecast: { subsidyPerPaymentMilliMinor: 2_500, subsidisedShareBps: 4_000 },
      currentSubsidyPerHourMinor: 100_000,
      proposedSubsidyPerHourMinor: 130_000,
    },
    acknowledgements: [
      {
        findingKey: "lint.percent_without_cap@campaign/x#offer",
        reason: "the cap lives in the template",
        byId: "ana",
      },
    ],
    approvals: ["rui", "mei"].map((reviewerId) => ({
      reviewerId,
      contentHash: change.contentHash,
      at: instant(30_000),
      byPolicy: false,
    })),
    forced: [
      {
        gate: "lint",
        adminIds: ["root1", "root2"],
        reason: "deadline agreed with the bank in writing",
        contentHash: change.contentHash,
        at: instant(40_000),
      },
    ],
    rollout: {
      plan: defaultRolloutPlan(130_000),
      stageIndex: 0,
      stageStartedAt: instant(60_000),
      observation: { payments: 0, subsidisedPayments: 0, subsidyMinor: 0 },
    },
    written,
  };
}

/** What the service appends with a write. */
export function auditOf(
  change: ChangeRequest,
  action: AuditAction,
  actor = "ana",
  overrides: Partial<AuditEntryInput> = {},
): AuditEntryInput {
  return {
    at: change.updatedAt,
    actor,
    action,
    subject: `change/${change.id}`,
    contentHash: change.contentHash,
    reason: null,
    details: { state: change.state },
    ...overrides,
  };
}

/** A copy of an example program under another id: changes that touch disjoint documents. */
export function programDocument(base: Program, id: string): Program {
  return { ...base, id, name: `Program ${id}` };
}
