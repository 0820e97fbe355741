/**
 * A change request and every action on it, as pure functions from a request to the next
 * request or a refusal with a code. Four eyes: the author never approves; an approval names the
 * content it approves and any edit voids it; a high-risk change needs two distinct reviewers and
 * is never approved by policy; forcing a gate takes two administrators and a written reason and
 * skips that gate alone.
 */
import type { Jsonified, SimulationReport } from "../simulation/simulation-report.ts";
import { type ChangeRefusal, type ChangeResult, refuse } from "./change-codes.ts";
import type { ChangeDiff } from "./change-diff.ts";
import { type ChangeState, nextChangeState } from "./change-lifecycle.ts";
import type { RiskAssessment } from "./change-risk.ts";
import type { BaseVersions, ChangeEdit, DocumentVersion } from "./document-versions.ts";
import type {
  CampaignObservation,
  RolloutForecast,
  RolloutPlan,
  StageObservation,
} from "./rollout.ts";

export const ROLES = ["author", "reviewer", "operator", "auditor", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly id: string;
  readonly roles: readonly Role[];
}

/** Who approves when the auto-approval policy does. */
export const POLICY_APPROVER_ID = "policy:auto-approval";

/** The gates a change may be forced past. The envelope, rollout and breakers are not gates one can skip. */
export const FORCEABLE_GATES = ["lint", "approval"] as const;
export type ForceableGate = (typeof FORCEABLE_GATES)[number];

export const CHANGE_LIMITS = {
  /** Reasons for forcing, rejecting and acknowledging: long enough to say something. */
  reasonLengthMin: 10,
  reasonLengthMax: 2_000,
  titleLengthMax: 200,
} as const;

/** A lint finding as the change keeps it; `key` identifies it across runs (code, source, path). */
export interface ChangeFinding {
  readonly key: string;
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
}

/** The simulation's report as reviewers read it (per campaign rows left out: the diff has them). */
export type ChangeSimulation = Jsonified<Omit<SimulationReport, "byCampaign" | "forecast">>;

/** What the pipeline found when the change was submitted: lint, risk, and the money forecast. */
export interface ChangeAssessment {
  readonly findings: readonly ChangeFinding[];
  /** What the change does, as reviewers read it: fields, and every campaign it reaches. */
  readonly diff?: ChangeDiff;
  readonly risk: RiskAssessment;
  readonly forecast?: RolloutForecast;
  readonly simulation?: ChangeSimulation;
  /** What the simulation ran on: recorded payments and their rate, or synthetic traffic. */
  readonly sample?: string;
  /** The versions of every document the change was assessed against, as one hash. */
  readonly assessedAgainst?: string;
  /** Subsidy per hour the simulation projected for the current and the proposed configuration. */
  readonly currentSubsidyPerHourMinor?: number;
  readonly proposedSubsidyPerHourMinor?: number;
  /**
   * Set when the submission this assessment was made for was refused at the lint gate: the
   * change stayed a draft, and the assessment is kept so that whoever reads the change — the
   * administrators asked to force its lint gate first — sees its findings and its money before
   * they force. A later submission's assessment replaces it; an edit voids it.
   */
  readonly refused?: RefusedSubmission;
}

/**
 * The refusals of a submission's lint gate, met after the assessment ran: lint errors, warnings
 * not acknowledged, and acknowledgements that name no warning or give no reason.
 */
export const LINT_GATE_CODES = [
  "lint_errors",
  "warnings_unacknowledged",
  "acknowledgement_unknown",
  "reason_required",
] as const;
export type LintGateCode = (typeof LINT_GATE_CODES)[number];

/** Why the submission an assessment was made for was refused, and when. */
export interface RefusedSubmission {
  readonly code: LintGateCode;
  /** The refusal's message, as its author was answered (it names the codes or keys). */
  readonly message: string;
  readonly at: string;
}

export interface Approval {
  readonly reviewerId: string;
  readonly contentHash: string;
  readonly at: string;
  readonly byPolicy: boolean;
}

export interface ForceRecord {
  readonly gate: ForceableGate;
  readonly adminIds: readonly string[];
  readonly reason: string;
  readonly contentHash: string;
  readonly at: string;
}

export interface Acknowledgement {
  readonly findingKey: string;
  readonly reason: string;
  readonly byId: string;
}

export interface RolloutProgress {
  readonly plan: RolloutPlan;
  readonly stageIndex: number;
  readonly stageStartedAt: string;
  readonly observation: StageObservation;
}

export interface ChangeRequest {
  readonly id: string;
  readonly title: string;
  readonly authorId: string;
  readonly state: ChangeState;
  readonly edits: readonly ChangeEdit[];
  readonly baseVersions: BaseVersions;
  /** Hash of the edits' canonical form: what approvals and forcing are bound to. */
  readonly contentHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly assessment?: ChangeAssessment;
  readonly acknowledgements: readonly Acknowledgement[];
  readonly approvals: readonly Approval[];
  /** Requests by one administrator waiting for a second. */
  readonly pendingForces: readonly ForceRecord[];
  /** Gates skipped, each by two administrators: shown wherever the change appears. */
  readonly forced: readonly ForceRecord[];
  readonly rollout?: RolloutProgress;
  /** The versions the change wrote when its rollout started. */
  readonly written: readonly DocumentVersion[];
  /** Why the change was rejected, aborted or rolled back. */
  readonly closingReason?: string;
  /**
   * Set on the record of an operator's action (a lowering of limits): it took effect at once,
   * without review, and is born active. Undoing it raises money, so that takes a change request.
   */
  readonly operatorAction?: { readonly kind: OperatorActionKind; readonly reason: string };
}

function hasRole(principal: Principal, role: Role): boolean {
  return principal.roles.includes(role);
}

function needRole(principal: Principal, role: Role, action: string): ChangeResult<object> {
  return hasRole(principal, role)
    ? { ok: true }
    : refuse("role_missing", `${principal.id} needs the ${role} role to ${action}`);
}

/**
 * Only a change's author edits or submits it: the approvals four eyes counts are of people
 * other than the one who wrote the content, so nobody else may write into it.
 */
function needAuthor(
  change: ChangeRequest,
  principal: Principal,
  action: string,
): ChangeResult<object> {
  const role = needRole(principal, "author", `${action} a change`);
  if (!role.ok) return role;
  return principal.id === change.authorId
    ? { ok: true }
    : refuse(
        "not_the_author",
        `${change.id} is ${change.authorId}'s; only they ${action} it (create your own change)`,
      );
}

function checkReason(reason: string, action: string): ChangeResult<object> {
  const length = reason.trim().length;
  if (length < CHANGE_LIMITS.reasonLengthMin || length > CHANGE_LIMITS.reasonLengthMax) {
    return refuse(
      "reason_required",
      `${action} needs a reason of ${CHANGE_LIMITS.reasonLengthMin} to ${CHANGE_LIMITS.reasonLengthMax} characters`,
    );
  }
  return { ok: true };
}

type Outcome = ChangeResult<{ change: ChangeRequest }>;

/** A change request as it starts: nothing assessed, approved, forced or written yet. */
function newChange(fields: {
  readonly id: string;
  readonly title: string;
  readonly authorId: string;
  readonly state: ChangeState;
  readonly edits: readonly ChangeEdit[];
  readonly baseVersions: BaseVersions;
  readonly contentHash: string;
  readonly at: string;
}): ChangeRequest {
  return {
    id: fields.id,
    title: fields.title.slice(0, CHANGE_LIMITS.titleLengthMax),
    authorId: fields.authorId,
    state: fields.state,
    edits: fields.edits,
    baseVersions: fields.baseVersions,
    contentHash: fields.contentHash,
    createdAt: fields.at,
    updatedAt: fields.at,
    acknowledgements: [],
    approvals: [],
    pendingForces: [],
    forced: [],
    written: [],
  };
}

export function createChange(input: {
  readonly id: string;
  readonly title: string;
  readonly author: Principal;
  readonly edits: readonly ChangeEdit[];
  readonly baseVersions: BaseVersions;
  readonly contentHash: string;
  readonly at: string;
}): Outcome {
  const role = needRole(input.author, "author", "create a change");
  if (!role.ok) return role;
  return {
    ok: true,
    change: newChange({ ...input, title: input.title, authorId: input.author.id, state: "draft" }),
  };
}

/** New edits: everything bound to the old content (assessment, approvals, forcing) is void. */
export function editChange(
  change: ChangeRequest,
  editor: Principal,
  edits: { edits: readonly ChangeEdit[]; baseVersions: BaseVersions; contentHash: string },
  at: string,
): Outcome {
  const move = nextChangeState(change.state, "edit");
  if (!move.ok) return move;
  const author = needAuthor(change, editor, "edit");
  if (!author.ok) return author;
  const { assessment: _voided, ...rest } = change;
  return {
    ok: true,
    change: {
      ...rest,
      ...edits,
      state: move.state,
      updatedAt: at,
      acknowledgements: [],
      approvals: [],
      pendingForces: [],
      forced: [],
    },
  };
}

function isForced(change: ChangeRequest, gate: ForceableGate): boolean {
  return change.forced.some(
    (force) => force.gate === gate && force.contentHash === change.contentHash,
  );
}

/**
 * What a submission needs before its assessment runs: a change that may be submitted, by its own
 * author. Checked first, so nobody makes the service lint and simulate a change they may not
 * submit (a simulation costs up to seconds).
 */
export function checkSubmitter(
  change: ChangeRequest,
  submitter: Principal,
): ChangeResult<{ state: ChangeState }> {
  const move = nextChangeState(change.state, "submit");
  if (!move.ok) return move;
  const author = needAuthor(change, submitter, "submit");
  return author.ok ? { ok: true, state: move.state } : author;
}

/**
 * Sends a change to review with its assessment. Lint errors block unless the lint gate was
 * forced; every warning needs an acknowledgement with a reason. A low-risk change the policy
 * may approve is approved at once, recorded as approved by policy. A refusal at the lint gate
 * leaves the change as it was; `keepRefusedAssessment` says what the caller keeps of it.
 */
export function submitChange(
  change: ChangeRequest,
  submitter: Principal,
  assessment: ChangeAssessment,
  acknowledgements: readonly Acknowledgement[],
  at: string,
): Outcome {
  const move = checkSubmitter(change, submitter);
  if (!move.ok) return move;
  const errors = assessment.findings.filter((finding) => finding.severity === "error");
  if (errors.length > 0 && !isForced(change, "lint")) {
    return refuse(
      "lint_errors",
      `${errors.length} lint error(s): ${errors.map((finding) => finding.code).join(", ")}`,
    );
  }
  const warnings = new Set(
    assessment.findings.filter((finding) => finding.severity === "warning").map((f) => f.key),
  );
  for (const acknowledgement of acknowledgements) {
    if (!warnings.has(acknowledgement.findingKey)) {
      return refuse("acknowledgement_unknown", `no warning ${acknowledgement.findingKey}`);
    }
    const reason = checkReason(acknowledgement.reason, "acknowledging a warning");
    if (!reason.ok) return reason;
  }
  const acknowledged = new Set(
    acknowledgements.map((acknowledgement) => acknowledgement.findingKey),
  );
  const missing = [...warnings].filter((key) => !acknowledged.has(key));
  if (missing.length > 0 && !isForced(change, "lint")) {
    return refuse("warnings_unacknowledged", `acknowledge with a reason: ${missing.join(", ")}`);
  }
  // A submission that passed the gate is no refused one, whatever assessment it was handed.
  const { refused: _refused, ...passed } = assessment;
  const submitted: ChangeRequest = {
    ...change,
    state: move.state,
    assessment: passed,
    acknowledgements,
    updatedAt: at,
  };
  if (!assessment.risk.autoApprovable || assessment.risk.level === "high") {
    return settleApprovals(submitted, at);
  }
  const approval: Approval = {
    reviewerId: POLICY_APPROVER_ID,
    contentHash: change.contentHash,
    at,
    byPolicy: true,
  };
  return settleApprovals({ ...submitted, approvals: [approval] }, at);
}

function isLintGateCode(code: ChangeRefusal["code"]): code is LintGateCode {
  return (LINT_GATE_CODES as readonly string[]).includes(code);
}

/**
 * The change as a submission refused at the lint gate leaves it: in its state (a draft, so
 * nothing can approve or roll it out), with the submission's assessment kept and marked as
 * refused, so that every reader sees the findings and the money the refusal was about. It
 * replaces whatever assessment the change held. Undefined for any other refusal: those are
 * decided before the assessment runs, and leave nothing to keep.
 */
export function keepRefusedAssessment(
  change: ChangeRequest,
  assessment: ChangeAssessment,
  refusal: ChangeRefusal,
  at: string,
): ChangeRequest | undefined {
  if (!isLintGateCode(refusal.code)) return undefined;
  // The lint gate is met only by a change that may be submitted: a draft. Anything else here is
  // a caller's bug, and keeping an assessment on it would show reviewers a refusal as current.
  if (!nextChangeState(change.state, "submit").ok) {
    throw new Error(`${change.id} is ${change.state}: no submission of it reaches the lint gate`);
  }
  const refused: RefusedSubmission = { code: refusal.code, message: refusal.message, at };
  return { ...change, assessment: { ...assessment, refused }, updatedAt: at };
}

/** Moves a change in review to approved once it has the approvals its risk requires. */
function settleApprovals(change: ChangeRequest, at: string): Outcome {
  if (change.state !== "in_review") return { ok: true, change };
  const required = change.assessment?.risk.approvalsRequired ?? 2;
  const highRisk = change.assessment?.risk.level !== "low";
  const reviewers = new Set(
    change.approvals
      .filter((approval) => approval.contentHash === change.contentHash)
      // The policy never counts towards a high-risk change.
      .filter((approval) => !(highRisk && approval.byPolicy))
      .map((approval) => approval.reviewerId),
  );
  const enough = reviewers.size >= required || isForced(change, "approval");
  if (!enough) return { ok: true, change };
  const move = nextChangeState(change.state, "approve");
  if (!move.ok) return move;
  return { ok: true, change: { ...change, state: move.state, updatedAt: at } };
}

/** A reviewer approves the content they saw, named by its hash. */
export function approveChange(
  change: ChangeRequest,
  reviewer: Principal,
  contentHash: string,
  at: string,
): Outcome {
  const move = nextChangeState(change.state, "record_approval");
  if (!move.ok) return move;
  const role = needRole(reviewer, "reviewer", "approve a change");
  if (!role.ok) return role;
  if (reviewer.id === change.authorId) {
    return refuse(
      "author_cannot_approve",
      `${reviewer.id} wrote ${change.id}; another reviewer must approve it`,
    );
  }
  if (contentHash !== change.contentHash) {
    return refuse(
      "content_changed",
      `the approval names content ${contentHash.slice(0, 12)}…, the change is now ${change.contentHash.slice(0, 12)}…`,
    );
  }
  if (
    change.approvals.some(
      (approval) => approval.reviewerId === reviewer.id && approval.contentHash === contentHash,
    )
  ) {
    return refuse("already_approved", `${reviewer.id} already approved this content`);
  }
  const approval: Approval = { reviewerId: reviewer.id, contentHash, at, byPolicy: false };
  return settleApprovals(
    { ...change, approvals: [...change.approvals, approval], updatedAt: at },
    at,
  );
}

export function rejectChange(
  change: ChangeRequest,
  reviewer: Principal,
  reason: string,
  at: string,
): Outcome {
  const move = nextChangeState(change.state, "reject");
  if (!move.ok) return move;
  const role = needRole(reviewer, "reviewer", "reject a change");
  if (!role.ok) return role;
  const reasonCheck = checkReason(reason, "rejecting");
  if (!reasonCheck.ok) return reasonCheck;
  return {
    ok: true,
    change: { ...change, state: move.state, closingReason: reason, updatedAt: at },
  };
}

/**
 * One administrator's request to force a gate; the second, different administrator asking for
 * the same gate completes it. Only lint and approval are gates: any other name is refused.
 */
export function forceGate(
  change: ChangeRequest,
  admin: Principal,
  gate: string,
  reason: string,
  at: string,
): Outcome {
  if (!(FORCEABLE_GATES as readonly string[]).includes(gate)) {
    return refuse(
      "gate_not_forceable",
      `${gate} cannot be forced; only ${FORCEABLE_GATES.join(" and ")} can (the envelope, the staged rollout and the breakers always hold)`,
    );
  }
  const forceable = gate as ForceableGate;
  const move = nextChangeState(change.state, "request_force");
  if (!move.ok) return move;
  const role = needRole(admin, "admin", "force a gate");
  if (!role.ok) return role;
  if (forceable === "approval" && admin.id === change.authorId) {
    // Forcing approval stands in for the reviewers: the author cannot be one of its two people.
    return refuse(
      "author_cannot_approve",
      `${admin.id} wrote ${change.id}; two other administrators must force its approval`,
    );
  }
  const reasonCheck = checkReason(reason, "forcing a gate");
  if (!reasonCheck.ok) return reasonCheck;
  const pending = change.pendingForces.find(
    (force) => force.gate === forceable && force.contentHash === change.contentHash,
  );
  if (pending === undefined) {
    const request: ForceRecord = {
      gate: forceable,
      adminIds: [admin.id],
      reason,
      contentHash: change.contentHash,
      at,
    };
    return {
      ok: true,
      change: { ...change, pendingForces: [...change.pendingForces, request], updatedAt: at },
    };
  }
  if (pending.adminIds.includes(admin.id)) {
    return refuse(
      "second_admin_required",
      `${admin.id} already asked; a second administrator must confirm`,
    );
  }
  const forced: ForceRecord = {
    ...pending,
    adminIds: [...pending.adminIds, admin.id],
    reason: `${pending.reason}\n${reason}`,
    at,
  };
  const updated: ChangeRequest = {
    ...change,
    pendingForces: change.pendingForces.filter((force) => force !== pending),
    forced: [...change.forced, forced],
    updatedAt: at,
  };
  return settleApprovals(updated, at);
}

/** Starts the staged rollout of an approved change, with the versions it writes. */
export function startRollout(
  change: ChangeRequest,
  operator: Principal,
  plan: RolloutPlan,
  written: readonly DocumentVersion[],
  at: string,
): Outcome {
  const move = nextChangeState(change.state, "start_rollout");
  if (!move.ok) return move;
  const role = needRole(operator, "operator", "start a rollout");
  if (!role.ok) return role;
  return {
    ok: true,
    change: {
      ...change,
      state: move.state,
      written,
      rollout: {
        plan,
        stageIndex: 0,
        stageStartedAt: at,
        observation: { payments: 0, subsidisedPayments: 0, subsidyMinor: 0 },
      },
      updatedAt: at,
    },
  };
}

/**
 * Adds what the current stage saw since the last report. The stage's dwell counts from the
 * first payment it was served to (`firstSeenAt`, on the clock of whatever serves it), not from
 * when someone started it on another clock.
 */
export function observeStage(
  change: ChangeRequest,
  seen: StageObservation,
  firstSeenAt: string,
): ChangeRequest {
  if (change.rollout === undefined) return change;
  const observation = change.rollout.observation;
  const firstReport = observation.payments === 0 && seen.payments > 0;
  const byCampaign: Record<string, CampaignObservation> = { ...observation.byCampaign };
  for (const [campaignId, more] of Object.entries(seen.byCampaign ?? {})) {
    const before = byCampaign[campaignId] ?? { subsidisedPayments: 0, subsidyMinor: 0 };
    byCampaign[campaignId] = {
      subsidisedPayments: before.subsidisedPayments + more.subsidisedPayments,
      subsidyMinor: before.subsidyMinor + more.subsidyMinor,
    };
  }
  return {
    ...change,
    rollout: {
      ...change.rollout,
      ...(firstReport ? { stageStartedAt: firstSeenAt } : {}),
      observation: {
        payments: observation.payments + seen.payments,
        subsidisedPayments: observation.subsidisedPayments + seen.subsidisedPayments,
        subsidyMinor: observation.subsidyMinor + seen.subsidyMinor,
        byCampaign,
      },
    },
  };
}

/** The next stage, with a fresh observation; past the last stage the change is active. */
export function advanceStage(change: ChangeRequest, at: string): Outcome {
  const rollout = change.rollout;
  if (rollout === undefined) return nextChangeState(change.state, "advance_stage") as Outcome;
  const last = rollout.stageIndex === rollout.plan.stages.length - 1;
  const move = nextChangeState(change.state, last ? "complete_rollout" : "advance_stage");
  if (!move.ok) return move;
  return {
    ok: true,
    change: {
      ...change,
      state: move.state,
      rollout: last
        ? rollout
        : {
            ...rollout,
            stageIndex: rollout.stageIndex + 1,
            stageStartedAt: at,
            observation: { payments: 0, subsidisedPayments: 0, subsidyMinor: 0 },
          },
      updatedAt: at,
    },
  };
}

/** The rollout was aborted by its own check: the change is rolled back. */
export function abortRollout(change: ChangeRequest, reason: string, at: string): Outcome {
  const move = nextChangeState(change.state, "abort_rollout");
  if (!move.ok) return move;
  return {
    ok: true,
    change: { ...change, state: move.state, closingReason: reason, updatedAt: at },
  };
}

export type OperatorActionKind = "lower_limits" | "pause";

/**
 * The record of an operator's action: one person, a reason, effective at once. The caller has
 * checked that the edit is purely that action (`loweredLimits`, `pausedCampaign`).
 */
export function recordOperatorAction(input: {
  readonly kind: OperatorActionKind;
  readonly id: string;
  readonly operator: Principal;
  readonly edits: readonly ChangeEdit[];
  readonly baseVersions: BaseVersions;
  readonly contentHash: string;
  readonly written: readonly DocumentVersion[];
  readonly reason: string;
  readonly at: string;
}): Outcome {
  const action = input.kind === "pause" ? "pause a campaign" : "lower a limit";
  const role = needRole(input.operator, "operator", action);
  if (!role.ok) return role;
  const reasonCheck = checkReason(input.reason, action);
  if (!reasonCheck.ok) return reasonCheck;
  return {
    ok: true,
    change: {
      ...newChange({
        ...input,
        title: `${input.kind === "pause" ? "pause" : "lower limits"}: ${input.reason}`,
        authorId: input.operator.id,
        state: "active",
      }),
      written: input.written,
      operatorAction: { kind: input.kind, reason: input.reason },
    },
  };
}

/** An operator rolls the change back: one person suffices, turning money off is easy. */
export function rollBackChange(
  change: ChangeRequest,
  operator: Principal,
  reason: string,
  at: string,
): Outcome {
  const move = nextChangeState(change.state, "roll_back");
  if (!move.ok) return move;
  if (change.operatorAction !== undefined) {
    return refuse(
      "operator_action_final",
      "undoing an operator's lowering or pause turns money back on, which takes a change request",
    );
  }
  const role = needRole(operator, "operator", "roll back a change");
  if (!role.ok) return role;
  const reasonCheck = checkReason(reason, "rolling back");
  if (!reasonCheck.ok) return reasonCheck;
  return {
    ok: true,
    change: { ...change, state: move.state, closingReason: reason, updatedAt: at },
  };
}
