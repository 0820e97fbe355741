/**
 * Guard mode over HTTP (docs/reference/guard-mode.md): `POST /v1/guard/check`, an external
 * promotion engine's proposals for one payment answered per proposal — allowed, clamped or
 * refused with a code. Every answer the check gives is status 200, unhealthy ones included (the
 * body's `unhealthy` says so), except a body the schema refuses: 400 `body_invalid` with the
 * schema's issues, as the payment endpoints answer. The body is checked by the core's hand-written
 * check (equal to the schema, proven by a differential test): the hot path never runs Zod.
 *
 * With the ledger of checked subsidies (docs/reference/guard-mode-ledger.md), what is allowed is
 * recorded before the answer: a retry with the same payment id and content gets the stored answer
 * with the header `Idempotent-Replayed: true` (as `/v1/payments/apply`), and the same id with
 * other content — other proposals, or a payment applied natively — or recorded for another
 * principal is 409 `idempotency_conflict`. The recorded payment belongs to the caller's principal,
 * as an applied one does: only it may refund it.
 */
import type { z } from "zod";
import type { ProposalCheck } from "../core/guard/proposal-check.ts";
import { guardCheckRequestSchema } from "../core/guard/proposal-input.ts";
import type { RecordedCheck } from "../core/ledger/checked-subsidies.ts";
import type { GuardCheckService } from "../guard/guard-check.ts";
import { ApiError } from "./api-errors.ts";
import { principalIdOf, type RouteAnswer, type RouteSpec, route } from "./route.ts";
import type { ServerMetrics } from "./server-metrics.ts";

/** 32 proposals of about 200 bytes each and a payment fit in well under this. */
const GUARD_CHECK_BODY_LIMIT_BYTES = 16 * 1024;
const ISSUES_MAX = 20;

export interface GuardModeRouteDependencies {
  readonly guardCheck: GuardCheckService;
  readonly metrics: Pick<ServerMetrics, "observeGuardCheck">;
}

export function guardModeRoutes({ guardCheck, metrics }: GuardModeRouteDependencies): RouteSpec[] {
  const answered = (body: unknown, check: ProposalCheck | RecordedCheck): RouteAnswer => {
    metrics.observeGuardCheck(check);
    return answerOf(body, check);
  };
  return [
    route<undefined, undefined, unknown>({
      method: "POST",
      url: "/v1/guard/check",
      operationId: "checkProposals",
      summary:
        "Guard mode: check the subsidies an external promotion engine proposes for one payment against the envelope, the kills and the external campaigns' registrations. Each is allowed, clamped (with the bound) or refused (with a code).",
      tag: "guard",
      access: ["payment-service"],
      body: guardCheckRequestSchema as z.ZodType<unknown>,
      bodyChecked: "by_handler",
      bodyLimitBytes: GUARD_CHECK_BODY_LIMIT_BYTES,
      rateClass: "payment",
      responses: {
        200: "One answer per proposal, in the request's order, with the total allowed; `reason` when the payment as a whole gets nothing, `unhealthy` when Bursar answered by the caller's whenUnhealthy default; `ledger` what the ledger of checked subsidies did, `replayed` for a stored answer (header Idempotent-Replayed: true).",
      },
      // Without a ledger the check stays synchronous: no promise on the hot path.
      handle: ({ body, caller }) =>
        guardCheck.recordsChecks
          ? guardCheck
              .checkAndRecord(body, principalIdOf(caller))
              .then((check) => answered(body, check))
          : answered(body, guardCheck.check(body)),
    }),
  ];
}

function answerOf(body: unknown, check: ProposalCheck | RecordedCheck): RouteAnswer {
  if (
    check.reason === "request.invalid" ||
    check.reason === "proposals.invalid" ||
    check.reason === "payment.invalid"
  ) {
    throw invalidBody(body, check.reason);
  }
  if ("ledger" in check && check.ledger === "ledger.idempotency_conflict") {
    throw ApiError.of(
      "idempotency_conflict",
      `payment ${check.paymentId} was recorded before with different content; nothing changed`,
    );
  }
  return "replayed" in check && check.replayed
    ? { body: check, headers: { "idempotent-replayed": "true" } }
    : { body: check };
}

/** The slow path, for a refused body only: the schema's own issues say where. */
function invalidBody(body: unknown, reason: string): ApiError {
  const parsed = guardCheckRequestSchema.safeParse(body);
  const issues = parsed.success
    ? [{ path: "body", message: `the request is invalid (${reason})` }]
    : parsed.error.issues.slice(0, ISSUES_MAX).map((issue) => ({
        path: ["body", ...issue.path.map(String)].join("."),
        message: issue.message,
      }));
  return ApiError.of("body_invalid", `the body is not a valid guard check (${reason})`, {
    reason,
    issues,
    issuesTotal: issues.length,
  });
}
