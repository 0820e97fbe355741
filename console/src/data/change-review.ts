/**
 * The change-review page's view of a change request (GET /v1/changes/{id}; docs/reference/
 * changes.md): the money first — simulated subsidy per hour and share of payments subsidised,
 * current against proposed, by scenario, region and funder — then whether this reader may
 * approve it and why not (four eyes), and the marks of forced, policy-approved and operators'
 * changes, here and in a campaign's versions. Pure.
 */

export interface SimulatedSide {
  readonly subsidisedPayments: number;
  readonly subsidisedShareBps: number;
  readonly subsidyMinor: number;
  readonly subsidyPerHourMinor: number;
}

export interface SimulatedRow {
  readonly key: string;
  readonly payments: number;
  readonly current: SimulatedSide;
  readonly proposed: SimulatedSide;
  readonly deltaSubsidyPerHourMinor: number;
}

export interface Simulation {
  readonly currency: string;
  readonly payments: number;
  readonly windowMs: number;
  readonly current: SimulatedSide;
  readonly proposed: SimulatedSide;
  readonly byScenario: readonly SimulatedRow[];
  readonly byRegion: readonly SimulatedRow[];
  readonly byFunding: readonly SimulatedRow[];
  readonly flags: readonly { readonly code: string; readonly message: string }[];
  readonly worstPayment?: {
    readonly proposed?: {
      readonly paymentId: string;
      readonly subsidyMinor: number;
      readonly paymentAmountMinor: number;
      readonly scenario: string;
      readonly region: string;
    } | null;
  };
}

export interface ChangeRequestView {
  readonly id: string;
  readonly title: string;
  readonly authorId: string;
  readonly state: string;
  readonly contentHash: string;
  readonly approvals: readonly {
    readonly reviewerId: string;
    readonly byPolicy: boolean;
    readonly at: string;
  }[];
  readonly pendingForces: readonly ForceView[];
  readonly forced: readonly ForceView[];
  /** An operator's pause or lowering: born active, without review. */
  readonly operatorAction?: OperatorActionView | null;
  readonly acknowledgements: readonly {
    readonly findingKey: string;
    readonly reason: string;
    readonly byId: string;
  }[];
  readonly assessment?: {
    readonly findings: readonly { key: string; code: string; severity: string; message: string }[];
    readonly risk: {
      readonly level: string;
      readonly reasons: readonly { code: string; message: string }[];
      readonly approvalsRequired: number;
      readonly autoApprovable: boolean;
    };
    readonly diff: {
      readonly documents: readonly {
        key: string;
        operation: string;
        fields: readonly { path: string; before?: unknown; after?: unknown }[];
      }[];
      readonly campaigns: readonly {
        campaignId: string;
        operation: string;
        fields: readonly { field: string; before?: unknown; after?: unknown; inherited: boolean }[];
      }[];
    };
    readonly simulation?: Simulation | null;
    /** Present when this is the assessment of a submission the lint gate refused. */
    readonly refused?: RefusedSubmission | null;
  } | null;
}

/** Why the submission an assessment was made for was refused (its code and message), and when. */
export interface RefusedSubmission {
  readonly code: string;
  readonly message: string;
  readonly at: string;
}

export interface OperatorActionView {
  readonly kind: string;
  readonly reason: string;
}

export interface ForceView {
  readonly gate: string;
  readonly adminIds: readonly string[];
  readonly reason: string;
  readonly at: string;
}

export interface MoneyRow {
  readonly key: string;
  readonly currentPerHourMinor: number;
  readonly proposedPerHourMinor: number;
  readonly deltaPerHourMinor: number;
  readonly currentShareBps: number;
  readonly proposedShareBps: number;
}

/**
 * A split's rows where the change moves money or either side spends, the largest move first
 * (then the largest spend, then the key); rows where nothing is spent either way are left out.
 */
export function moneyRows(rows: readonly SimulatedRow[]): MoneyRow[] {
  return rows
    .filter(
      (row) => row.current.subsidyPerHourMinor !== 0 || row.proposed.subsidyPerHourMinor !== 0,
    )
    .map((row) => ({
      key: row.key,
      currentPerHourMinor: row.current.subsidyPerHourMinor,
      proposedPerHourMinor: row.proposed.subsidyPerHourMinor,
      deltaPerHourMinor: row.proposed.subsidyPerHourMinor - row.current.subsidyPerHourMinor,
      currentShareBps: row.current.subsidisedShareBps,
      proposedShareBps: row.proposed.subsidisedShareBps,
    }))
    .sort(
      (a, b) =>
        Math.abs(b.deltaPerHourMinor) - Math.abs(a.deltaPerHourMinor) ||
        Math.max(b.currentPerHourMinor, b.proposedPerHourMinor) -
          Math.max(a.currentPerHourMinor, a.proposedPerHourMinor) ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
}

/** The headline: per hour and share of payments, both sides, and the move. */
export function moneyHeadline(simulation: Simulation) {
  const delta = simulation.proposed.subsidyPerHourMinor - simulation.current.subsidyPerHourMinor;
  return {
    currentPerHourMinor: simulation.current.subsidyPerHourMinor,
    proposedPerHourMinor: simulation.proposed.subsidyPerHourMinor,
    deltaPerHourMinor: delta,
    /** The move relative to the current spend, basis points; undefined from nothing. */
    deltaBps:
      simulation.current.subsidyPerHourMinor > 0
        ? Math.round((delta / simulation.current.subsidyPerHourMinor) * 10_000)
        : undefined,
    currentShareBps: simulation.current.subsidisedShareBps,
    proposedShareBps: simulation.proposed.subsidisedShareBps,
  };
}

export interface ApprovalStance {
  readonly canApprove: boolean;
  /** Why this reader cannot approve, in words a person acts on; empty when they can. */
  readonly why: string;
  readonly approvalsMissing: number;
}

/** Whether the signed-in principal may approve or reject the change now, and if not, why. */
export function approvalStance(
  change: ChangeRequestView,
  principalId: string,
  roles: readonly string[],
): ApprovalStance {
  const required = change.assessment?.risk.approvalsRequired ?? 1;
  const approvalsMissing = Math.max(required - change.approvals.length, 0);
  const refuse = (why: string) => ({ canApprove: false, why, approvalsMissing });
  if (change.state !== "in_review")
    return refuse(`The change is ${change.state.replace("_", " ")}, not in review.`);
  if (change.authorId === principalId) {
    return refuse("You wrote this change: someone else must approve it (four eyes).");
  }
  if (!roles.includes("reviewer")) return refuse("Approving and rejecting need the reviewer role.");
  if (change.approvals.some((approval) => approval.reviewerId === principalId)) {
    return refuse("You approved this change already; a high-risk change needs another reviewer.");
  }
  return { canApprove: true, why: "", approvalsMissing };
}

/**
 * What a change is marked by, in what the change page and a campaign's versions each read of it
 * (GET /v1/changes/{id}, GET …/versions): its forces, approvals and operator's action.
 */
export interface ChangeMarked {
  readonly forced: readonly Pick<ForceView, "gate" | "adminIds" | "reason">[];
  readonly approvals: readonly { readonly byPolicy: boolean }[];
  readonly operatorAction?: OperatorActionView | null;
}

/**
 * What marks a change carries wherever it appears: forced gates, the policy's approval and an
 * operator's action, each with its reason.
 */
export function changeMarks(change: ChangeMarked): string[] {
  const marks = change.forced.map(
    (force) => `Forced past ${force.gate} by ${force.adminIds.join(" and ")}: ${force.reason}`,
  );
  if (change.approvals.some((approval) => approval.byPolicy)) {
    marks.push("Approved by the policy: a low-risk change that needs no reviewer");
  }
  const action = change.operatorAction;
  if (action != null) {
    marks.push(`An operator's ${action.kind.replace("_", " ")}, without review: ${action.reason}`);
  }
  return marks;
}

/** A field's value as the diff shows it: JSON, cut at `lengthMax` characters. */
export function shownValue(value: unknown, lengthMax = 120): string {
  if (value === undefined) return "—";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > lengthMax ? `${text.slice(0, lengthMax - 1)}…` : text;
}

/** The reason a reject needs: 10 to 2,000 characters (docs/reference/http-api.md). */
export function reasonProblem(reason: string): string | undefined {
  const length = reason.trim().length;
  if (length < 10) return `Write at least 10 characters (${length} so far).`;
  if (length > 2_000) return `At most 2,000 characters (${length}).`;
  return undefined;
}

export interface TemplateReach {
  /** The templates the change edits. */
  readonly templateIds: readonly string[];
  /** Campaigns whose terms change through a template (an inherited field), by id. */
  readonly throughTemplates: readonly string[];
  /** Campaigns whose terms change only by their own edited document, by id. */
  readonly direct: readonly string[];
}

/**
 * For a change that edits templates, every campaign it changes and how: through a template (an
 * inherited field changes) or only by its own document. Undefined when no template is edited.
 * The 2025-01-16 edit was one template reaching every campaign that used it (DESIGN §1).
 */
export function templateReach(
  diff: NonNullable<ChangeRequestView["assessment"]>["diff"],
): TemplateReach | undefined {
  const templateIds = diff.documents
    .filter((document) => document.key.startsWith("template/"))
    .map((document) => document.key.slice("template/".length))
    .sort();
  if (templateIds.length === 0) return undefined;
  const throughTemplates: string[] = [];
  const direct: string[] = [];
  for (const campaign of diff.campaigns) {
    if (campaign.fields.some((field) => field.inherited))
      throughTemplates.push(campaign.campaignId);
    else direct.push(campaign.campaignId);
  }
  return { templateIds, throughTemplates: throughTemplates.sort(), direct: direct.sort() };
}

/** What the page says of a kept refused submission, above its money, findings and diff. */
export interface RefusedSubmissionNotice {
  /** One sentence: the refusal, when, and what the figures below are. */
  readonly headline: string;
  /** The refusal's message as its author was answered (it names the codes or keys). */
  readonly message: string;
  /** The label the money carries. */
  readonly moneyLabel: string;
  /** The label the findings carry: whose they are and what of them stopped the submission. */
  readonly findingsLabel: string;
}

/** What stopped a submission at the lint gate, by its refusal's code. */
const LINT_GATE_STOPS: Readonly<Record<string, string>> = {
  lint_errors: "its lint errors stopped it",
  warnings_unacknowledged: "a warning was not acknowledged with a reason",
  acknowledgement_unknown: "an acknowledgement named a warning it does not have",
  reason_required: "an acknowledgement's reason was too short or too long",
};

/**
 * The notice of a change whose assessment is a refused submission's (kept on the draft so that
 * the administrators asked to force its lint gate see the findings and the money first), or
 * undefined when the assessment is a submission's that passed, or there is none.
 */
export function refusedSubmissionNotice(
  change: Pick<ChangeRequestView, "assessment">,
): RefusedSubmissionNotice | undefined {
  const refused = change.assessment?.refused;
  if (refused === undefined || refused === null) return undefined;
  const when = refused.at.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
  return {
    headline:
      `Submission refused at the lint gate (${refused.code}) at ${when}. ` +
      "The money, findings and diff below are that refused submission's; the change is still a " +
      "draft, and forcing the lint gate lets its author submit it again.",
    message: refused.message,
    moneyLabel: "The refused submission's simulation.",
    findingsLabel: `The refused submission's findings: ${LINT_GATE_STOPS[refused.code] ?? refused.code}.`,
  };
}

/** Why the money section is empty: nothing submitted yet, or nothing the documents let simulate. */
export function moneyAbsence(change: Pick<ChangeRequestView, "assessment">): string {
  const assessment = change.assessment;
  if (assessment === undefined || assessment === null) {
    return "Not simulated yet: a change is simulated when its author submits it.";
  }
  if (assessment.refused !== undefined && assessment.refused !== null) {
    return "Not simulated: the refused submission's documents do not resolve (its findings below say why), so there was no configuration to simulate.";
  }
  return "Not simulated: the submission's documents did not resolve, so there was no configuration to simulate.";
}
