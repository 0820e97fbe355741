/**
 * The change pipeline over HTTP (docs/reference/http-api.md, "Change pipeline"): the active
 * documents (templates, campaigns, programs, the envelope), change requests and every action on
 * them, and the operator's two immediate actions (pause, lower limits). Every action goes through
 * the ChangeService, which enforces roles and four eyes and audits it; a refusal is answered with
 * the pipeline's own code (docs/reference/changes.md). The route's `access` only keeps out tokens
 * with no role the action could ever need; it is never the only check.
 */
import { z } from "zod";
import { type ApiRole, changeRolesOf } from "../core/access/api-roles.ts";
import type { ChangeRefusal, ChangeResult } from "../core/change/change-codes.ts";
import { CHANGE_STATES } from "../core/change/change-lifecycle.ts";
import {
  CHANGE_LIMITS,
  type ChangeRequest,
  type Principal,
} from "../core/change/change-request.ts";
import type { ChangeEdit, DocumentKey } from "../core/change/document-versions.ts";
import { type RolloutPlan, rolloutPlanWithShares } from "../core/change/rollout.ts";
import { type Campaign, campaignSchema, limitsSchema } from "../core/model/campaign.ts";
import {
  type ConfigDocument,
  DOCUMENT_KINDS,
  type DocumentKind,
  validateDocument,
} from "../core/model/document.ts";
import { envelopeSchema } from "../core/model/envelope.ts";
import { identifier, minorUnits } from "../core/model/fields.ts";
import { type Program, programSchema } from "../core/model/program.ts";
import { templateSchema } from "../core/model/template.ts";
import { ApiError } from "./api-errors.ts";
import { type Caller, type RouteSpec, route } from "./route.ts";
import type { ServerServices } from "./server-services.ts";

/** Documents are the largest bodies the API takes: a change may carry up to 200 of them. */
const DOCUMENT_BODY_LIMIT_BYTES = 1024 * 1024;
/** Acknowledgements are a key and a reason per lint warning. */
const SUBMIT_BODY_LIMIT_BYTES = 256 * 1024;
/** Other actions carry a reason or a hash; a rollout plan is the largest of them. */
const ACTION_BODY_LIMIT_BYTES = 16 * 1024;
/** Changes one list answer holds at most. */
const CHANGES_LISTED_MAX = 200;
const CHANGES_LISTED_DEFAULT = 50;
/** A size bound only: the plan's rules (2 to 10 stages, …) are the pipeline's own check. */
const ROLLOUT_STAGES_LISTED_MAX = 32;
/** Acknowledgements one submission may carry: a size bound; unknown keys are refused by the pipeline. */
const ACKNOWLEDGEMENTS_MAX = 1_000;
const FINDING_KEY_LENGTH_MAX = 1_000;

/** Every role that acts in the pipeline may read it; the payment service's token may not. */
const READERS: readonly ApiRole[] = ["author", "reviewer", "operator", "auditor", "admin"];

const documentKind = z.enum(DOCUMENT_KINDS as [DocumentKind, ...DocumentKind[]]);

/**
 * A document as a file holds it: the same strict schemas (unknown fields refused), then the same
 * checks across fields a file gets (`validateDocument`); lint's warnings wait for the submission.
 */
const documentSchema = z
  .discriminatedUnion("kind", [templateSchema, campaignSchema, programSchema, envelopeSchema])
  .superRefine((document, context) => {
    const validated = validateDocument(document);
    for (const issue of validated.issues) {
      if (issue.severity !== "error") continue;
      context.addIssue({
        code: "custom",
        path: [...issue.path],
        message: `${issue.code}: ${issue.message}`,
      });
    }
  });

const documentKey = z
  .string()
  .max(80)
  .regex(new RegExp(`^(${DOCUMENT_KINDS.join("|")})/[a-z0-9][a-z0-9-]*$`), "expected kind/id")
  .meta({ description: "A document as kind/id, e.g. campaign/idc-coffee-afternoon-tea." });

const editSchema = z.discriminatedUnion("op", [
  z.strictObject({ op: z.literal("put"), document: documentSchema }),
  z.strictObject({ op: z.literal("retire"), key: documentKey }),
]);

const editsBody = {
  // No count bound here beyond the body's size: more than 200 edits is the pipeline's own
  // refusal (`too_many_edits`), none at all is `empty_change`.
  edits: z.array(editSchema),
};
const createBody = z.strictObject({
  title: z.string().min(1).max(CHANGE_LIMITS.titleLengthMax),
  ...editsBody,
});
const editBody = z.strictObject(editsBody);

/** Reasons are bounded here; too short a one is the pipeline's `reason_required`. */
const reason = z.string().max(CHANGE_LIMITS.reasonLengthMax);

const submitBody = z.strictObject({
  acknowledgements: z
    .array(
      z.strictObject({
        findingKey: z.string().min(1).max(FINDING_KEY_LENGTH_MAX),
        reason,
      }),
    )
    .max(ACKNOWLEDGEMENTS_MAX)
    .optional()
    .meta({ description: "One per lint warning, each with a reason; omitted: none." }),
});
const approveBody = z.strictObject({
  contentHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, "expected the change's SHA-256 content hash")
    .meta({ description: "The content the reviewer read (the change's contentHash)." }),
});
const reasonBody = z.strictObject({ reason });
const forceBody = z.strictObject({
  // Any name reaches the pipeline, so that "envelope" is refused as `gate_not_forceable`.
  gate: z.string().min(1).max(64).meta({ description: "lint or approval" }),
  reason,
});

const wholeNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const rolloutPlanSchema = z.strictObject({
  stages: z
    .array(
      z.strictObject({
        shareBps: wholeNumber,
        moneyAtRiskMaxMinor: wholeNumber,
        dwellMinMs: wholeNumber,
      }),
    )
    .max(ROLLOUT_STAGES_LISTED_MAX),
  toleranceBps: wholeNumber,
  paymentsMin: wholeNumber,
});
const rolloutBody = z
  .strictObject({
    plan: rolloutPlanSchema
      .optional()
      .meta({ description: "The whole plan; omitted: the default (1 % → 10 % → 50 % → 100 %)." }),
    sharesBps: z
      .array(wholeNumber)
      .max(ROLLOUT_STAGES_LISTED_MAX)
      .optional()
      .meta({ description: "Only the shares, with the default's dwell, ceilings and tolerance." }),
  })
  .refine((body) => body.plan === undefined || body.sharesBps === undefined, {
    message: "send plan or sharesBps, not both",
  });

const campaignLowerBody = z.strictObject({
  limits: limitsSchema.meta({
    description: "The campaign's new limits, whole: each lower than or equal to the active one.",
  }),
  reason,
});
const programLowerBody = z.strictObject({
  budgetMinor: minorUnits({ min: 1, description: "The program's new budget." }),
  perUserMaxMinor: minorUnits({
    min: 1,
    description: "The new per-user maximum; omitting one the program has would raise it.",
  }).optional(),
  reason,
});

const changeId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9-]*$/, "expected a change id such as change-12");
const changeParams = z.strictObject({ changeId });
const documentParams = z.strictObject({ kind: documentKind, id: identifier });
const campaignParams = z.strictObject({ campaignId: identifier });
const programParams = z.strictObject({ programId: identifier });
const documentsQuery = z.strictObject({ kind: documentKind.optional() });
const changesQuery = z.strictObject({
  state: z.enum(CHANGE_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(CHANGES_LISTED_MAX).optional(),
});

type ChangeParams = z.infer<typeof changeParams>;

/** The person a token acts for, in the pipeline roles its roles grant. */
function principalOf(caller: Caller | undefined): Principal {
  // Every route here has roles in its access, so the app authenticated a caller.
  if (caller === undefined) throw new Error("a change route ran without a caller");
  return { id: caller.principalId, roles: changeRolesOf(caller.roles) };
}

/** The pipeline's refusal with its own code; "no such change" is the API's `not_found`. */
function refusalOf(refusal: ChangeRefusal): ApiError {
  return refusal.code === "not_found"
    ? ApiError.of("not_found", refusal.message)
    : ApiError.refusal(refusal.code, refusal.message);
}

/** The change an action left, with `status`; a refusal is thrown as the API's error. */
function answer(outcome: ChangeResult<{ change: ChangeRequest }>, status = 200) {
  if (!outcome.ok) throw refusalOf(outcome);
  return { status, body: outcome.change };
}

/** A change as a list shows it; `GET /v1/changes/:changeId` has the rest. */
function summaryOf(change: ChangeRequest) {
  return {
    id: change.id,
    title: change.title,
    state: change.state,
    authorId: change.authorId,
    contentHash: change.contentHash,
    createdAt: change.createdAt,
    updatedAt: change.updatedAt,
    edits: change.edits.length,
    risk: change.assessment?.risk.level ?? null,
    forced: change.forced.map((force) => force.gate),
    operatorAction: change.operatorAction?.kind ?? null,
  };
}

function editsOf(edits: z.infer<typeof editSchema>[]): ChangeEdit[] {
  return edits.map((edit) =>
    edit.op === "put"
      ? { op: "put", document: edit.document as ConfigDocument }
      : { op: "retire", key: edit.key as DocumentKey },
  );
}

export function changeRoutes({ changes }: Pick<ServerServices, "changes">): RouteSpec[] {
  async function activeDocument(
    kind: DocumentKind,
    id: string,
  ): Promise<ConfigDocument | undefined> {
    return (await changes.activeDocuments()).find(
      (document) => document.kind === kind && document.id === id,
    );
  }

  /** The document an operator acts on; missing, it is the pipeline's refusal, as for a pause. */
  async function actedOn(kind: "campaign" | "program", id: string): Promise<ConfigDocument> {
    const found = await activeDocument(kind, id);
    if (found === undefined)
      throw ApiError.refusal("document_not_found", `${kind}/${id} is not active`);
    return found;
  }

  return [
    route<undefined, z.infer<typeof documentsQuery>, undefined>({
      method: "GET",
      url: "/v1/documents",
      operationId: "listDocuments",
      summary: "The active documents (the latest version of each that is not retired).",
      tag: "documents",
      access: READERS,
      query: documentsQuery,
      rateClass: "control",
      responses: { 200: "{documents: [...]}, optionally of one kind." },
      handle: async ({ query }) => {
        const documents = await changes.activeDocuments();
        return {
          body: {
            documents:
              query.kind === undefined
                ? documents
                : documents.filter((document) => document.kind === query.kind),
          },
        };
      },
    }),
    route<z.infer<typeof documentParams>, undefined, undefined>({
      method: "GET",
      url: "/v1/documents/:kind/:id",
      operationId: "showDocument",
      summary: "One active document.",
      tag: "documents",
      access: READERS,
      params: documentParams,
      rateClass: "control",
      responses: { 200: "The document, as a file would hold it." },
      handle: async ({ params }) => {
        const found = await activeDocument(params.kind, params.id);
        if (found === undefined)
          throw ApiError.of("not_found", `${params.kind}/${params.id} is not active`);
        return { body: found };
      },
    }),
    route<undefined, undefined, z.infer<typeof createBody>>({
      method: "POST",
      url: "/v1/changes",
      operationId: "createChange",
      summary: "Creates a draft change request: documents to put, documents to retire.",
      tag: "changes",
      access: ["author"],
      body: createBody,
      bodyLimitBytes: DOCUMENT_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 201: "The change request, in state draft." },
      handle: async ({ body, caller }) =>
        answer(await changes.create(principalOf(caller), body.title, editsOf(body.edits)), 201),
    }),
    route<undefined, z.infer<typeof changesQuery>, undefined>({
      method: "GET",
      url: "/v1/changes",
      operationId: "listChanges",
      summary: "Change requests, newest first, optionally in one state.",
      tag: "changes",
      access: READERS,
      query: changesQuery,
      rateClass: "control",
      responses: { 200: "{changes: [...]}, each a summary." },
      handle: async ({ query }) => {
        const listed = await changes.list({
          ...(query.state === undefined ? {} : { state: query.state }),
          limit: query.limit ?? CHANGES_LISTED_DEFAULT,
        });
        return { body: { changes: listed.map(summaryOf) } };
      },
    }),
    route<ChangeParams, undefined, undefined>({
      method: "GET",
      url: "/v1/changes/:changeId",
      operationId: "showChange",
      summary:
        "A change request with its edits, assessment (lint findings, money, diff, risk), approvals, forcing and rollout. A draft whose submission was refused at the lint gate carries that submission's assessment, marked assessment.refused {code, message, at}.",
      tag: "changes",
      access: READERS,
      params: changeParams,
      rateClass: "control",
      responses: {
        200: "The change request; assessment.refused present when its assessment is a refused submission's (the change is still a draft).",
      },
      handle: async ({ params }) => {
        const found = await changes.show(params.changeId);
        if (found === undefined)
          throw ApiError.of("not_found", `no change request ${params.changeId}`);
        return { body: found };
      },
    }),
    route<ChangeParams, undefined, z.infer<typeof editBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/edit",
      operationId: "editChange",
      summary:
        "Replaces a change's edits (its author only); approvals, acknowledgements and forcing are void.",
      tag: "changes",
      access: ["author"],
      params: changeParams,
      body: editBody,
      bodyLimitBytes: DOCUMENT_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The change request, back in state draft." },
      handle: async ({ params, body, caller }) =>
        answer(await changes.edit(principalOf(caller), params.changeId, editsOf(body.edits))),
    }),
    route<ChangeParams, undefined, z.infer<typeof submitBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/submit",
      operationId: "submitChange",
      summary:
        "Lints and simulates the change against the active configuration and sends it to review (its author only); every warning needs an acknowledgement. Refused at the lint gate (lint_errors, warnings_unacknowledged, acknowledgement_unknown, reason_required), the change stays a draft and keeps this submission's assessment for every reader (assessment.refused).",
      tag: "changes",
      access: ["author"],
      params: changeParams,
      body: submitBody,
      bodyLimitBytes: SUBMIT_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: {
        200: "The change request, in review, or approved by the policy when it carries no risk.",
      },
      handle: async ({ params, body, caller }) => {
        const principal = principalOf(caller);
        const acknowledgements = (body.acknowledgements ?? []).map((acknowledgement) => ({
          ...acknowledgement,
          byId: principal.id,
        }));
        return answer(await changes.submit(principal, params.changeId, acknowledgements));
      },
    }),
    route<ChangeParams, undefined, z.infer<typeof approveBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/approve",
      operationId: "approveChange",
      summary:
        "Approves the content the reviewer read, named by its hash; never the reviewer's own change.",
      tag: "changes",
      access: ["reviewer"],
      params: changeParams,
      body: approveBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The change request: approved once it has the approvals its risk needs." },
      handle: async ({ params, body, caller }) =>
        answer(await changes.approve(principalOf(caller), params.changeId, body.contentHash)),
    }),
    route<ChangeParams, undefined, z.infer<typeof reasonBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/reject",
      operationId: "rejectChange",
      summary: "Rejects a change in review or approved, with a reason.",
      tag: "changes",
      access: ["reviewer"],
      params: changeParams,
      body: reasonBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The change request, rejected." },
      handle: async ({ params, body, caller }) =>
        answer(await changes.reject(principalOf(caller), params.changeId, body.reason)),
    }),
    route<ChangeParams, undefined, z.infer<typeof forceBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/force",
      operationId: "forceChangeGate",
      summary:
        "One administrator's request to force the lint or approval gate; a second, different administrator's completes it.",
      tag: "changes",
      access: ["admin"],
      params: changeParams,
      body: forceBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: {
        200: "The change request: the request pending (pendingForces), or the gate forced (forced).",
      },
      handle: async ({ params, body, caller }) =>
        answer(await changes.force(principalOf(caller), params.changeId, body.gate, body.reason)),
    }),
    route<ChangeParams, undefined, z.infer<typeof rolloutBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/rollout",
      operationId: "startRollout",
      summary:
        "Writes an approved change's versions and starts its staged rollout; one change rolls out at a time.",
      tag: "changes",
      access: ["operator"],
      params: changeParams,
      body: rolloutBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The change request, rolling out at its first stage." },
      handle: async ({ params, body, caller }) => {
        let plan: RolloutPlan | undefined = body.plan;
        if (body.sharesBps !== undefined) {
          const found = await changes.show(params.changeId);
          if (found === undefined)
            throw ApiError.of("not_found", `no change request ${params.changeId}`);
          plan = rolloutPlanWithShares(
            body.sharesBps,
            found.assessment?.proposedSubsidyPerHourMinor ?? 0,
          );
        }
        return answer(await changes.startRollout(principalOf(caller), params.changeId, plan));
      },
    }),
    route<ChangeParams, undefined, z.infer<typeof reasonBody>>({
      method: "POST",
      url: "/v1/changes/:changeId/rollback",
      operationId: "rollBackChange",
      summary:
        "Rolls a change back: new versions equal to the content before it; other changes stay.",
      tag: "changes",
      access: ["operator"],
      params: changeParams,
      body: reasonBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The change request, rolled back." },
      handle: async ({ params, body, caller }) =>
        answer(await changes.rollBack(principalOf(caller), params.changeId, body.reason)),
    }),
    route<z.infer<typeof campaignParams>, undefined, z.infer<typeof reasonBody>>({
      method: "POST",
      url: "/v1/campaigns/:campaignId/pause",
      operationId: "pauseCampaign",
      summary:
        "Pauses a campaign at once: one operator and a reason. Resuming it is a change request.",
      tag: "changes",
      access: ["operator"],
      params: campaignParams,
      body: reasonBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The operator's action, recorded as a change born active." },
      handle: async ({ params, body, caller }) =>
        answer(await changes.pause(principalOf(caller), params.campaignId, body.reason)),
    }),
    route<z.infer<typeof campaignParams>, undefined, z.infer<typeof campaignLowerBody>>({
      method: "POST",
      url: "/v1/campaigns/:campaignId/lower-limits",
      operationId: "lowerCampaignLimits",
      summary:
        "Lowers a campaign's budgets, caps or ceilings at once: one operator and a reason; nothing else may change.",
      tag: "changes",
      access: ["operator"],
      params: campaignParams,
      body: campaignLowerBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The operator's action, recorded as a change born active." },
      handle: async ({ params, body, caller }) => {
        const active = (await actedOn("campaign", params.campaignId)) as Campaign;
        const lowered: Campaign = { ...active, limits: body.limits };
        return answer(await changes.lowerLimits(principalOf(caller), lowered, body.reason));
      },
    }),
    route<z.infer<typeof programParams>, undefined, z.infer<typeof programLowerBody>>({
      method: "POST",
      url: "/v1/programs/:programId/lower-limits",
      operationId: "lowerProgramLimits",
      summary:
        "Lowers a subsidy program's budget or per-user maximum at once: one operator and a reason.",
      tag: "changes",
      access: ["operator"],
      params: programParams,
      body: programLowerBody,
      bodyLimitBytes: ACTION_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: { 200: "The operator's action, recorded as a change born active." },
      handle: async ({ params, body, caller }) => {
        const active = (await actedOn("program", params.programId)) as Program;
        const { perUserMaxMinor: _before, ...rest } = active;
        const lowered: Program = {
          ...rest,
          budgetMinor: body.budgetMinor,
          ...(body.perUserMaxMinor === undefined ? {} : { perUserMaxMinor: body.perUserMaxMinor }),
        };
        return answer(await changes.lowerLimits(principalOf(caller), lowered, body.reason));
      },
    }),
  ];
}
