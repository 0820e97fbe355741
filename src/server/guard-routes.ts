/**
 * The guard over HTTP (docs/reference/http-api.md, "Guard and operations"): kills, breakers,
 * incidents, impact reports, webhook endpoints and the audit log. Each handler makes the same
 * service call as its `bursar kill|incident|impact|webhook|audit` command, with the caller's
 * principal as the actor, so a request is audited exactly as the command would be.
 *
 * Who may call what follows DESIGN §2: on-call engineers (operator) act on kills, breakers and
 * incidents; auditors read all of it and change nothing; administrators configure webhooks and may
 * also set and clear kills (turning money off must never wait for a role); the payment service
 * reaches none of it. No answer carries a webhook secret except the one that makes it.
 */
import { z } from "zod";
import { AUDIT_READ_LIMIT_MAX } from "../control/audit-log.ts";
import { parseAuditHead } from "../core/audit/audit-chain-verifier.ts";
import { type AuditEntryInput, checkAuditEntryInput } from "../core/audit/audit-entry.ts";
import { FUNDING_SOURCES } from "../core/funding.ts";
import { nextBreakerState } from "../core/guard/breaker-lifecycle.ts";
import {
  type CampaignVersionRef,
  INCIDENT_LIMITS,
  INCIDENT_TIMELINE_KINDS,
  type Incident,
  type IncidentTimelineKind,
} from "../core/guard/incident.ts";
import { INCIDENT_STATES } from "../core/guard/incident-lifecycle.ts";
import { KILL_LIMITS, type KillScope, killRequestProblem } from "../core/guard/kill.ts";
import { SEVERITIES } from "../core/guard/severity-policy.ts";
import { WEBHOOK_DELIVERY_STATES } from "../core/guard/webhook-delivery.ts";
import { WEBHOOK_ENDPOINT_LIMITS, type WebhookEndpoint } from "../core/guard/webhook-endpoint.ts";
import {
  IMPACT_LIMITS,
  type ImpactQuery,
  impactQueryProblem,
  impactReportCsv,
} from "../core/ledger/impact-report.ts";
import type { ReleaseReservations } from "../guard/incident-service.ts";
import { WEBHOOK_LIST_LIMIT_MAX } from "../guard/webhook-outbox.ts";
import { newWebhookSecret } from "../guard/webhook-signing.ts";
import { ApiError } from "./api-errors.ts";
import { type Access, principalIdOf, type RouteAnswer, type RouteSpec, route } from "./route.ts";
import type { ServerServices } from "./server-services.ts";

/** Who reads the guard's state: on-call, auditors, administrators. */
const GUARD_READERS: Access = ["operator", "auditor", "admin"];
/** Who acts on breakers and incidents: on-call. */
const ON_CALL: Access = ["operator"];
/** Who sets and clears kills: on-call, and administrators. */
const KILLERS: Access = ["operator", "admin"];
const ADMINS: Access = ["admin"];
const AUDIT_READERS: Access = ["auditor", "admin"];

/** Entries a list answers when the query names no limit. */
const INCIDENT_LIST_DEFAULT = 50;
const INCIDENT_LIST_MAX = 1_000;
const DELIVERY_LIST_DEFAULT = 50;
const AUDIT_LIST_DEFAULT = 100;

/** Reservations listed and released per round when remediation releases through this server. */
const RELEASE_PAGE_SIZE = 1_000;
/** A bound on the rounds (1M payments): a ledger that keeps listing cannot hold a request forever. */
const RELEASE_PAGES_MAX = 1_000;

const wholeMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const reasonText = z.string().min(1).max(INCIDENT_LIMITS.reasonLengthMax);
const queryWhole = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** The guard's control plane: kills, breakers, incidents, impact, webhooks, the audit log. */
export function guardRoutes(services: ServerServices): RouteSpec[] {
  return [
    ...killRoutes(services),
    ...breakerRoutes(services),
    ...incidentRoutes(services),
    ...impactRoutes(services),
    ...webhookRoutes(services),
    ...auditRoutes(services),
  ];
}

// ---------------------------------------------------------------------------------------------
// Kills (docs/reference/kill-switch.md)

const campaignOrTemplateId = z.string().min(1).max(KILL_LIMITS.idLengthMax);
const killScope = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("all") }),
  z.strictObject({
    kind: z.literal("campaigns"),
    campaignIds: z.array(campaignOrTemplateId).min(1).max(KILL_LIMITS.campaignIdsMax),
  }),
  z.strictObject({ kind: z.literal("template"), templateId: campaignOrTemplateId }),
  z.strictObject({ kind: z.literal("funding"), funding: z.enum(FUNDING_SOURCES) }),
]);
const setKillBody = z.strictObject({
  scope: killScope,
  reason: z.string().min(1).max(KILL_LIMITS.reasonLengthMax),
});
const clearKillBody = z.strictObject({
  reason: z.string().min(1).max(KILL_LIMITS.reasonLengthMax),
});
const killParams = z.strictObject({
  killSequence: queryWhole(1, Number.MAX_SAFE_INTEGER),
});

function killRoutes({ kills, nowMs }: ServerServices): RouteSpec[] {
  return [
    route({
      method: "GET",
      url: "/v1/kills",
      operationId: "listKills",
      summary:
        "The active kills, oldest first, and the kill store's sequence (at most 1,000 are active).",
      tag: "kills",
      access: GUARD_READERS,
      rateClass: "control",
      responses: { 200: "{sequence, active: [{sequence, scope, reason, actor, atMs}]}" },
      handle: async () => ({ body: await kills.readState() }),
    }),
    route<undefined, undefined, z.infer<typeof setKillBody>>({
      method: "POST",
      url: "/v1/kills",
      operationId: "setKill",
      summary:
        "Withdraws subsidies at once: every evaluator obeys the kill within its allowed staleness (1 s by default). Audited as kill.set.",
      tag: "kills",
      access: KILLERS,
      body: setKillBody,
      bodyLimitBytes: 16 * 1024,
      rateClass: "control",
      responses: { 201: "{kill, sequence}: the kill set and the store's sequence after it." },
      handle: async ({ body, caller }) => {
        const atMs = nowMs();
        const scope = body.scope as KillScope;
        // The kill core's own check, the one every store applies before its atomic step.
        const problem = killRequestProblem(scope, body.reason, atMs);
        if (problem !== undefined) throw ApiError.refusal("kill_invalid", problem);
        const written = await kills.publishKill({
          scope,
          reason: body.reason,
          actor: principalIdOf(caller),
          atMs,
        });
        if (!written.ok) throw ApiError.refusal(written.code, written.message);
        return { status: 201, body: { kill: written.kill, sequence: written.sequence } };
      },
    }),
    route<z.infer<typeof killParams>, undefined, z.infer<typeof clearKillBody>>({
      method: "POST",
      url: "/v1/kills/:killSequence/clear",
      operationId: "clearKill",
      summary:
        "Clears an active kill by its sequence: what it withdrew may be granted again. Audited as kill.cleared.",
      tag: "kills",
      access: KILLERS,
      params: killParams,
      body: clearKillBody,
      bodyLimitBytes: 8 * 1024,
      rateClass: "control",
      responses: { 200: "{kill, sequence}: the kill cleared and the store's sequence after it." },
      handle: async ({ params, body, caller }) => {
        const written = await kills.clearKill({
          killSequence: params.killSequence,
          reason: body.reason,
          actor: principalIdOf(caller),
          atMs: nowMs(),
        });
        if (!written.ok) throw ApiError.refusal(written.code, written.message);
        return { body: { kill: written.kill, sequence: written.sequence } };
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Breakers (docs/reference/guard.md): they live in this process's runtime guard.

const breakerParams = z.strictObject({ breakerId: z.string().min(1).max(200) });
/** Why on-call moves the breaker, for the audit log; the body itself may be left out. */
const breakerMoveBody = z.strictObject({ reason: reasonText.optional() });

function breakerRoutes({ serving, audit, nowMs }: ServerServices): RouteSpec[] {
  /**
   * Each breaker's last move in flight: a move waits for the one before it, so two on-call
   * engineers acknowledging at once get one move and one refusal ("acknowledged already"),
   * never two audit entries for one move. Entries are removed once their move has answered.
   */
  const moving = new Map<string, Promise<unknown>>();
  const inTurn = <T>(breakerId: string, work: () => Promise<T>): Promise<T> => {
    const previous = moving.get(breakerId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    moving.set(breakerId, settled);
    void settled.then(() => {
      if (moving.get(breakerId) === settled) moving.delete(breakerId);
    });
    return next;
  };
  const move = (action: "acknowledge" | "reset", summary: string) =>
    route<z.infer<typeof breakerParams>, undefined, z.infer<typeof breakerMoveBody> | undefined>({
      method: "POST",
      url: `/v1/breakers/:breakerId/${action}`,
      operationId: `${action}Breaker`,
      summary,
      tag: "breakers",
      access: ON_CALL,
      params: breakerParams,
      body: breakerMoveBody,
      bodyOptional: true,
      // A reason of 2,000 characters, each up to 3 bytes in UTF-8.
      bodyLimitBytes: 8192,
      rateClass: "control",
      responses: { 200: "{breakerId, state}: the breaker's new state." },
      handle: ({ params, body, caller }) =>
        inTurn(params.breakerId, async () => {
          const { breakerId } = params;
          // Checked, then audited, then made: a move the log cannot record is not made. (A breaker
          // never tripped is armed and not listed.) A trip while the entry is written can still
          // refuse the move after it: the log then names a move the answer says was not made.
          const from =
            serving.breakerStates().find((breaker) => breaker.breakerId === breakerId)?.state ??
            "armed";
          const legal = nextBreakerState(from, action);
          if (!legal.ok) throw ApiError.refusal(legal.code, legal.message);
          const entry: AuditEntryInput = {
            at: new Date(nowMs()).toISOString(),
            actor: principalIdOf(caller),
            action: action === "acknowledge" ? "breaker.acknowledged" : "breaker.reset",
            subject: `breaker/${breakerId}`,
            contentHash: null,
            reason: body?.reason ?? null,
            details: { from, to: legal.state },
          };
          // The log counts a reason in UTF-8 bytes and refuses what no store keeps as written:
          // the caller's text, refused as such, not as the log being unavailable.
          const refused = checkAuditEntryInput(entry);
          if (refused?.code === "reason_too_long" || refused?.code === "reason_invalid") {
            throw ApiError.of("body_invalid", "the reason cannot be audited", {
              issues: [{ path: "body.reason", message: refused.message }],
              issuesTotal: 1,
            });
          }
          const appended = await audit.append(entry);
          if (!appended.ok) {
            throw ApiError.of(
              "unavailable",
              `the audit log did not record the move: ${appended.message}`,
            );
          }
          const moved = serving.moveBreaker(breakerId, action);
          if (!moved.ok) throw ApiError.refusal(moved.code, moved.message);
          return { body: { breakerId, state: moved.state } };
        }),
    });
  return [
    route({
      method: "GET",
      url: "/v1/breakers",
      operationId: "listBreakers",
      summary:
        "The breakers that have tripped since this server started, with their state (armed again after a reset) and trip; one never tripped is armed and not listed.",
      tag: "breakers",
      access: GUARD_READERS,
      rateClass: "control",
      responses: { 200: "{breakers: [{breakerId, state, trip?}]}" },
      handle: () => ({ body: { breakers: serving.breakerStates() } }),
    }),
    move(
      "acknowledge",
      "Says on-call has a tripped breaker (tripped → acknowledged). Audited as breaker.acknowledged.",
    ),
    move(
      "reset",
      "Re-arms an acknowledged breaker (acknowledged → armed); never straight from tripped. Audited as breaker.reset.",
    ),
  ];
}

// ---------------------------------------------------------------------------------------------
// Incidents (docs/reference/incidents.md)

const blamedId = z.string().min(1).max(INCIDENT_LIMITS.idLengthMax);
const campaignVersionRef = z.strictObject({
  campaignId: blamedId,
  version: z.number().int().min(1).max(2_147_483_647),
});
const incidentImpact = z.strictObject({
  atRiskPerMinuteMinor: minor,
  cumulativeMinor: minor,
  paymentShareBps: z.number().int().min(0).max(10_000),
  scenarios: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  regions: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  coreFlows: z.boolean(),
});
const incidentBlame = z.strictObject({
  changeIds: z.array(blamedId).max(INCIDENT_LIMITS.blamedChangesMax).default([]),
  campaignVersions: z
    .array(campaignVersionRef)
    .max(INCIDENT_LIMITS.blamedCampaignVersionsMax)
    .default([]),
  templateIds: z.array(blamedId).max(INCIDENT_LIMITS.blamedTemplatesMax).default([]),
  funders: z.array(blamedId).max(INCIDENT_LIMITS.blamedFundersMax).default([]),
});
const openIncidentBody = z.strictObject({
  title: z.string().min(1).max(INCIDENT_LIMITS.titleLengthMax),
  reason: reasonText,
  severity: z.enum(SEVERITIES).optional(),
  windowStartMs: wholeMs.optional(),
  impact: incidentImpact.optional(),
  blame: incidentBlame.optional(),
});
const incidentParams = z.strictObject({ incidentId: z.string().min(1).max(64) });
const incidentListQuery = z.strictObject({
  state: z.enum(INCIDENT_STATES).optional(),
  limit: queryWhole(1, INCIDENT_LIST_MAX).optional(),
});
const noteBody = z.strictObject({
  text: z.string().min(1).max(INCIDENT_LIMITS.summaryLengthMax),
  kind: z
    .enum(Object.keys(INCIDENT_TIMELINE_KINDS) as [IncidentTimelineKind, ...IncidentTimelineKind[]])
    .optional(),
  atMs: wholeMs.optional(),
  details: z
    .record(
      z.string().min(1).max(INCIDENT_LIMITS.detailKeyLengthMax),
      z.union([
        z.string().max(INCIDENT_LIMITS.detailStringLengthMax),
        z.number(),
        z.boolean(),
        z.null(),
      ]),
    )
    .optional(),
});
const raiseBody = z.strictObject({ severity: z.enum(SEVERITIES), reason: reasonText });
const reasonBody = z.strictObject({ reason: reasonText });
const remediateBody = z.strictObject({
  reason: reasonText,
  costAbsorbedMinor: minor,
  reservationsReleased: z.strictObject({ count: minor, amountMinor: minor }).optional(),
});

/** An incident in a list: enough to choose one, without its timeline. */
function incidentSummary(incident: Incident) {
  return {
    id: incident.id,
    state: incident.state,
    severity: incident.severity,
    title: incident.title,
    openedAtMs: incident.openedAtMs,
    acknowledged: incident.acknowledged !== undefined,
    cumulativeMinor: incident.impact.cumulativeMinor,
  };
}

type IncidentOutcome =
  | { readonly ok: true; readonly incident: Incident }
  | { readonly ok: false; readonly code: string; readonly message: string };

function incidentAnswer(outcome: IncidentOutcome, status = 200): RouteAnswer {
  if (!outcome.ok) throw ApiError.refusal(outcome.code, outcome.message);
  return { status, body: outcome.incident };
}

function incidentRoutes(services: ServerServices): RouteSpec[] {
  const { incidents, nowMs } = services;
  const release = releaseThroughServedLedger(services);
  /** One action on one incident: `POST /v1/incidents/:incidentId/<verb>`. */
  const action = <Body>(
    verb: string,
    operationId: string,
    summary: string,
    body: z.ZodType<Body> | undefined,
    act: (actor: string, incidentId: string, body: Body) => Promise<IncidentOutcome>,
  ) =>
    route<z.infer<typeof incidentParams>, undefined, Body>({
      method: "POST",
      url: `/v1/incidents/:incidentId/${verb}`,
      operationId,
      summary,
      tag: "incidents",
      access: ON_CALL,
      params: incidentParams,
      ...(body === undefined ? {} : { body }),
      bodyLimitBytes: 16 * 1024,
      rateClass: "control",
      responses: { 200: "The incident after the action." },
      handle: async ({ params, body: parsed, caller }) =>
        incidentAnswer(await act(principalIdOf(caller), params.incidentId, parsed)),
    });
  return [
    route<undefined, z.infer<typeof incidentListQuery>, undefined>({
      method: "GET",
      url: "/v1/incidents",
      operationId: "listIncidents",
      summary:
        "Incidents, newest opened first, without their timelines (limit 1 to 1,000; 50 by default).",
      tag: "incidents",
      access: GUARD_READERS,
      query: incidentListQuery,
      rateClass: "control",
      responses: {
        200: "{incidents: [{id, state, severity, title, openedAtMs, acknowledged, cumulativeMinor}]}",
      },
      handle: async ({ query }) => {
        const listed = await incidents.list({
          ...(query.state === undefined ? {} : { state: query.state }),
          limit: query.limit ?? INCIDENT_LIST_DEFAULT,
        });
        return { body: { incidents: listed.map(incidentSummary) } };
      },
    }),
    route<undefined, undefined, z.infer<typeof openIncidentBody>>({
      method: "POST",
      url: "/v1/incidents",
      operationId: "openIncident",
      summary:
        "Opens an incident by hand with a reason and what is known of its impact and blame (breakers open theirs themselves).",
      tag: "incidents",
      access: ON_CALL,
      body: openIncidentBody,
      rateClass: "control",
      responses: { 201: "The incident opened, with its severity judged by the policy." },
      handle: async ({ body, caller }) => {
        const { severity, windowStartMs, impact, blame } = body;
        const opened = await incidents.openByHand(principalIdOf(caller), {
          title: body.title,
          reason: body.reason,
          ...(severity === undefined ? {} : { severity }),
          ...(windowStartMs === undefined ? {} : { windowStartMs }),
          ...(impact === undefined ? {} : { impact }),
          ...(blame === undefined ? {} : { blame }),
        });
        return incidentAnswer(opened, 201);
      },
    }),
    route<z.infer<typeof incidentParams>, undefined, undefined>({
      method: "GET",
      url: "/v1/incidents/:incidentId",
      operationId: "showIncident",
      summary:
        "An incident: severity and why, impact, blame, remediation and its whole timeline (at most 209 entries).",
      tag: "incidents",
      access: GUARD_READERS,
      params: incidentParams,
      rateClass: "control",
      responses: { 200: "The incident." },
      handle: async ({ params }) => {
        const found = await incidents.get(params.incidentId);
        if (found === undefined) {
          throw ApiError.refusal("incident.not_found", `no incident ${params.incidentId}`);
        }
        return { body: found };
      },
    }),
    action(
      "acknowledge",
      "acknowledgeIncident",
      "Says you have it (once per incident).",
      undefined,
      (actor, id) => incidents.acknowledge(actor, id),
    ),
    action(
      "notes",
      "addIncidentNote",
      "Adds a timeline entry: a note by default, or a recordable kind with the detail keys it requires.",
      noteBody,
      (actor, id, body) =>
        incidents.addTimeline(id, {
          kind: body.kind ?? "note",
          atMs: body.atMs ?? nowMs(),
          byId: actor,
          summary: body.text,
          details: body.details ?? {},
        }),
    ),
    action(
      "raise",
      "raiseIncidentSeverity",
      "Raises the severity (it never goes down), with a reason.",
      raiseBody,
      (actor, id, body) => incidents.raiseSeverity(actor, id, body.severity, body.reason),
    ),
    action(
      "mitigate",
      "mitigateIncident",
      "The money stopped flowing (rolled back, killed and confirmed), with how.",
      reasonBody,
      (actor, id, body) => incidents.mitigate(actor, id, body.reason),
    ),
    action(
      "remediate",
      "remediateIncident",
      "Records the remediation decision: absorb what was committed; the blamed versions' uncommitted reservations are released from this server's ledger unless reservationsReleased says what was released elsewhere.",
      remediateBody,
      (actor, id, body) =>
        incidents.recordRemediation(
          actor,
          id,
          {
            reason: body.reason,
            costAbsorbedMinor: body.costAbsorbedMinor,
            ...(body.reservationsReleased === undefined
              ? {}
              : { reservationsReleased: body.reservationsReleased }),
          },
          release,
        ),
    ),
    action(
      "resolve",
      "resolveIncident",
      "Closes a mitigated incident whose remediation is recorded, with a reason.",
      reasonBody,
      (actor, id, body) => incidents.resolve(actor, id, body.reason),
    ),
  ];
}

/**
 * Remediation's release through the ledger this server holds: the blamed versions' reservations
 * still uncommitted, page by page, each released as `POST /v1/payments/:id/release` would. The
 * count and amount are those this call released (the blamed versions' part of each payment).
 */
function releaseThroughServedLedger({ impact, ledger }: ServerServices): ReleaseReservations {
  return async (versions) => {
    let count = 0;
    let amountMinor = 0;
    let after = "";
    for (let page = 0; page < RELEASE_PAGES_MAX; page += 1) {
      const listed = await impact.uncommittedOf({ versions }, after, RELEASE_PAGE_SIZE);
      if (listed.length === 0) break;
      // Released together: the ledger's group commit makes one batch of them.
      const answers = await Promise.all(listed.map(({ paymentId }) => ledger.release(paymentId)));
      answers.forEach((answer, index) => {
        if (answer.code !== "released") return;
        count += 1;
        amountMinor += listed[index]!.affectedMinor;
      });
      after = listed[listed.length - 1]!.paymentId;
      if (listed.length < RELEASE_PAGE_SIZE) break;
    }
    return { count, amountMinor };
  };
}

// ---------------------------------------------------------------------------------------------
// Impact reports (docs/reference/impact-report.md)

const impactFormatQuery = z.strictObject({ format: z.enum(["json", "csv"]).optional() });
const impactBody = z.strictObject({
  versions: z
    .array(
      z.strictObject({
        campaignId: z.string().min(1).max(IMPACT_LIMITS.campaignIdLengthMax),
        version: z.number().int().min(1).max(2_147_483_647),
      }),
    )
    .min(1)
    .max(IMPACT_LIMITS.versionsMax),
  fromMs: wholeMs.optional(),
  toMs: wholeMs.optional(),
});

function impactRoutes(services: ServerServices): RouteSpec[] {
  const { impact, incidents, nowMs } = services;
  const report = async (query: ImpactQuery, format: "json" | "csv" | undefined) => {
    // The report core's own check (a window that ends before it starts): the body's range.
    const problem = impactQueryProblem(query);
    if (problem !== undefined) {
      throw ApiError.of("body_invalid", `the impact query is not usable: ${problem}`, {
        issues: [{ path: "body", message: problem }],
        issuesTotal: 1,
      });
    }
    const computed = await impact.impactReport(query);
    return format === "csv"
      ? { body: impactReportCsv(computed), contentType: "text/csv; charset=utf-8" }
      : { body: computed };
  };
  return [
    route<undefined, z.infer<typeof impactFormatQuery>, z.infer<typeof impactBody>>({
      method: "POST",
      url: "/v1/impact",
      operationId: "impactReport",
      summary:
        "The impact report of campaign versions from this server's ledger: payments, users, subsidy reserved, held, committed, returned and refunded, split by scenario, region, funder, version and minute.",
      tag: "incidents",
      access: GUARD_READERS,
      query: impactFormatQuery,
      body: impactBody,
      bodyLimitBytes: 128 * 1024,
      rateClass: "control",
      responses: { 200: "The report as JSON, or with ?format=csv as text/csv (RFC 4180)." },
      handle: ({ body, query }) => {
        const { versions, fromMs, toMs } = body;
        return report(
          {
            versions,
            ...(fromMs === undefined ? {} : { fromMs }),
            ...(toMs === undefined ? {} : { toMs }),
          },
          query.format,
        );
      },
    }),
    route<z.infer<typeof incidentParams>, z.infer<typeof impactFormatQuery>, undefined>({
      method: "GET",
      url: "/v1/incidents/:incidentId/impact",
      operationId: "incidentImpactReport",
      summary:
        "The impact report of an incident's blamed campaign versions, from its window start to its resolution (or now), as `bursar impact INCIDENT` makes it.",
      tag: "incidents",
      access: GUARD_READERS,
      params: incidentParams,
      query: impactFormatQuery,
      rateClass: "control",
      responses: { 200: "The report as JSON, or with ?format=csv as text/csv (RFC 4180)." },
      handle: async ({ params, query }) => {
        const incident = await incidents.get(params.incidentId);
        if (incident === undefined) {
          throw ApiError.refusal("incident.not_found", `no incident ${params.incidentId}`);
        }
        const versions: readonly CampaignVersionRef[] = incident.blame.campaignVersions;
        if (versions.length === 0) {
          // Nothing to report on: the report needs versions, and the incident names none yet.
          throw ApiError.of(
            "not_found",
            `${incident.id} blames no campaign versions, so it has no impact report; POST /v1/impact with the versions`,
          );
        }
        // The report's upper bound is exclusive: one past the end keeps a payment at that instant.
        const endMs = incident.resolution?.atMs ?? nowMs();
        return report({ versions, fromMs: incident.windowStartMs, toMs: endMs + 1 }, query.format);
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Webhooks (docs/reference/webhooks.md)

const endpointParams = z.strictObject({
  endpointId: z.string().min(1).max(WEBHOOK_ENDPOINT_LIMITS.idLengthMax),
});
const addEndpointBody = z.strictObject({
  id: z.string().min(1).max(WEBHOOK_ENDPOINT_LIMITS.idLengthMax),
  url: z.string().min(1).max(WEBHOOK_ENDPOINT_LIMITS.urlLengthMax),
  eventTypes: z
    .array(z.string().min(1).max(WEBHOOK_ENDPOINT_LIMITS.eventTypeLengthMax))
    .min(1)
    .max(WEBHOOK_ENDPOINT_LIMITS.eventTypesMax),
  enabled: z.boolean().optional(),
});
const deliveryQuery = z.strictObject({
  state: z
    .enum(Object.keys(WEBHOOK_DELIVERY_STATES) as ["pending", "delivered", "dead"])
    .optional(),
  limit: queryWhole(1, WEBHOOK_LIST_LIMIT_MAX).optional(),
});
const deliveryParams = z.strictObject({ deliveryId: z.string().min(1).max(200) });

/**
 * The URL's scheme, host and port only: paths of hosted webhook URLs often hold a token, so the
 * audit log keeps the origin (as `bursar webhook` does).
 */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(not a URL)";
  }
}

function webhookAudit(
  actor: string,
  action: AuditEntryInput["action"],
  endpointId: string,
  atMs: number,
  details: AuditEntryInput["details"],
): AuditEntryInput {
  return {
    at: new Date(atMs).toISOString(),
    actor,
    action,
    subject: `webhook/${endpointId}`,
    contentHash: null,
    reason: null,
    details,
  };
}

function webhookRoutes({ webhooks, nowMs }: ServerServices): RouteSpec[] {
  const setEnabled = (enabled: boolean) =>
    route<z.infer<typeof endpointParams>, undefined, undefined>({
      method: "POST",
      url: `/v1/webhooks/:endpointId/${enabled ? "enable" : "disable"}`,
      operationId: enabled ? "enableWebhook" : "disableWebhook",
      summary: enabled
        ? "Enables an endpoint: its waiting deliveries are attempted again."
        : "Disables an endpoint: no new deliveries; pending ones wait.",
      tag: "webhooks",
      access: ADMINS,
      params: endpointParams,
      bodyLimitBytes: 1024,
      rateClass: "control",
      responses: { 200: "{id, enabled}" },
      handle: async ({ params, caller }) => {
        const action = enabled ? "webhook.endpoint_enabled" : "webhook.endpoint_disabled";
        const audit = webhookAudit(principalIdOf(caller), action, params.endpointId, nowMs(), {});
        const written = await webhooks.setEndpointEnabled(params.endpointId, enabled, audit);
        if (!written.ok) throw ApiError.refusal(written.code, written.message);
        return { body: { id: params.endpointId, enabled } };
      },
    });
  return [
    route({
      method: "GET",
      url: "/v1/webhooks",
      operationId: "listWebhooks",
      summary: "The configured endpoints (at most 50), by id, without their secrets.",
      tag: "webhooks",
      access: ADMINS,
      rateClass: "control",
      responses: { 200: "{endpoints: [{id, url, eventTypes, enabled, createdAtMs}]}" },
      handle: async () => ({ body: { endpoints: await webhooks.listEndpoints() } }),
    }),
    route<undefined, undefined, z.infer<typeof addEndpointBody>>({
      method: "POST",
      url: "/v1/webhooks",
      operationId: "addWebhook",
      summary:
        "Configures an endpoint for incident notifications; its signing secret is made here and is in this answer only.",
      tag: "webhooks",
      access: ADMINS,
      body: addEndpointBody,
      bodyLimitBytes: 8 * 1024,
      rateClass: "control",
      responses: {
        201: "{endpoint, secret}: the secret is shown once; configure it at the receiver.",
      },
      handle: async ({ body, caller }) => {
        const endpoint: WebhookEndpoint = {
          id: body.id,
          url: body.url,
          secret: newWebhookSecret(),
          eventTypes: body.eventTypes,
          enabled: body.enabled ?? true,
        };
        const atMs = nowMs();
        const audit = webhookAudit(principalIdOf(caller), "webhook.endpoint_added", body.id, atMs, {
          origin: originOf(body.url),
          eventTypes: [...body.eventTypes],
          enabled: endpoint.enabled,
        });
        const written = await webhooks.addEndpoint(endpoint, atMs, audit);
        if (!written.ok) throw ApiError.refusal(written.code, written.message);
        const { secret, ...shown } = endpoint;
        return { status: 201, body: { endpoint: shown, secret } };
      },
    }),
    route<z.infer<typeof endpointParams>, undefined, undefined>({
      method: "DELETE",
      url: "/v1/webhooks/:endpointId",
      operationId: "removeWebhook",
      summary: "Removes an endpoint; its pending deliveries become dead (endpoint_removed).",
      tag: "webhooks",
      access: ADMINS,
      params: endpointParams,
      bodyLimitBytes: 1024,
      rateClass: "control",
      responses: { 200: "{id, removed: true}" },
      handle: async ({ params, caller }) => {
        const url = (await webhooks.listEndpoints()).find(
          (each) => each.id === params.endpointId,
        )?.url;
        const atMs = nowMs();
        const audit = webhookAudit(
          principalIdOf(caller),
          "webhook.endpoint_removed",
          params.endpointId,
          atMs,
          {
            origin: url === undefined ? null : originOf(url),
          },
        );
        const written = await webhooks.removeEndpoint(params.endpointId, atMs, audit);
        if (!written.ok) throw ApiError.refusal(written.code, written.message);
        return { body: { id: params.endpointId, removed: true } };
      },
    }),
    setEnabled(true),
    setEnabled(false),
    route<z.infer<typeof endpointParams>, z.infer<typeof deliveryQuery>, undefined>({
      method: "GET",
      url: "/v1/webhooks/:endpointId/deliveries",
      operationId: "listWebhookDeliveries",
      summary:
        "An endpoint's deliveries, newest first (limit 1 to 1,000; 50 by default); a removed endpoint's dead ones too.",
      tag: "webhooks",
      access: ADMINS,
      params: endpointParams,
      query: deliveryQuery,
      rateClass: "control",
      responses: {
        200: "{deliveries: [...]}: states, attempts and last outcomes; never a body or secret.",
      },
      handle: async ({ params, query }) => {
        const deliveries = await webhooks.listDeliveries({
          endpointId: params.endpointId,
          ...(query.state === undefined ? {} : { state: query.state }),
          limit: query.limit ?? DELIVERY_LIST_DEFAULT,
        });
        if (deliveries.length === 0) {
          const configured = (await webhooks.listEndpoints()).some(
            (each) => each.id === params.endpointId,
          );
          if (!configured) {
            throw ApiError.refusal(
              "endpoint_not_found",
              `no endpoint ${params.endpointId} and no deliveries to it`,
            );
          }
        }
        return { body: { deliveries } };
      },
    }),
    route<z.infer<typeof deliveryParams>, undefined, undefined>({
      method: "GET",
      url: "/v1/webhooks/deliveries/:deliveryId/attempts",
      operationId: "listWebhookAttempts",
      summary:
        "One delivery's attempts in order (bounded by the dispatcher's attempts, at most 20): when each started and how it ended.",
      tag: "webhooks",
      access: ADMINS,
      params: deliveryParams,
      rateClass: "control",
      responses: {
        200: "{deliveryId, attempts: [{attempt, startedAtMs, finishedAtMs, code, status}]}",
      },
      handle: async ({ params }) => ({
        body: {
          deliveryId: params.deliveryId,
          attempts: await webhooks.attemptsOf(params.deliveryId),
        },
      }),
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// The audit log (docs/reference/audit-log.md)

const auditListQuery = z.strictObject({
  afterSequence: queryWhole(0, Number.MAX_SAFE_INTEGER - 1).optional(),
  limit: queryWhole(1, AUDIT_READ_LIMIT_MAX).optional(),
});
const auditVerifyQuery = z.strictObject({
  expectHead: z.string().min(1).max(100).optional(),
});

function auditRoutes({ audit }: ServerServices): RouteSpec[] {
  return [
    route<undefined, z.infer<typeof auditListQuery>, undefined>({
      method: "GET",
      url: "/v1/audit",
      operationId: "listAuditEntries",
      summary: `Audit entries in sequence order after afterSequence (0 by default); limit 1 to ${AUDIT_READ_LIMIT_MAX.toLocaleString("en")}, 100 by default.`,
      tag: "audit",
      access: AUDIT_READERS,
      query: auditListQuery,
      rateClass: "control",
      responses: {
        200: "{entries: [...], nextAfterSequence}: pass nextAfterSequence for the next page; null when this page was the last.",
      },
      handle: async ({ query }) => {
        const limit = query.limit ?? AUDIT_LIST_DEFAULT;
        const entries = await audit.read((query.afterSequence ?? 0) + 1, limit);
        // The next page starts after the last entry shown, whatever gaps tampering left.
        const nextAfterSequence =
          entries.length === limit ? entries[entries.length - 1]!.sequence : null;
        return { body: { entries, nextAfterSequence } };
      },
    }),
    route<undefined, z.infer<typeof auditVerifyQuery>, undefined>({
      method: "GET",
      url: "/v1/audit/verify",
      operationId: "verifyAuditLog",
      summary:
        "Verifies the whole chain in one snapshot: every hash and link, the recorded head and, with expectHead=SEQ:HASH, a head kept earlier.",
      tag: "audit",
      access: AUDIT_READERS,
      query: auditVerifyQuery,
      rateClass: "control",
      responses: {
        200: "{ok, entries, head, violations, violationsOmitted}: ok false lists what was edited, deleted, inserted or reordered.",
      },
      handle: async ({ query }) => {
        const anchor =
          query.expectHead === undefined ? undefined : parseAuditHead(query.expectHead);
        if (query.expectHead !== undefined && anchor === undefined) {
          throw ApiError.of("body_invalid", "expectHead is not SEQ:HASH", {
            issues: [
              { path: "query.expectHead", message: "expected a sequence and 64 hex digits" },
            ],
            issuesTotal: 1,
          });
        }
        return { body: await audit.verify(anchor === undefined ? {} : { anchor }) };
      },
    }),
  ];
}
