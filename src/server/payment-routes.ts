/**
 * The payment endpoints (docs/reference/http-api.md, "Payments"): quote, apply, commit, release,
 * refund. Ledger outcomes are values: each answer carries its ledger code with status 200, except
 * an apply whose id was used with other content (409 `idempotency_conflict`) and an apply whose id
 * is being applied right now by another request (409 `request_in_progress`).
 *
 * A payment belongs to the caller's principal (`principalIdOf`) — not its token, so a service
 * rotating its token keeps its payments (ADR 0021): another principal's apply of its id is
 * 409 `idempotency_conflict`, and its commit, release or refund is answered `reservation_not_found`
 * like an unknown id (object-level authorisation, OWASP API1).
 *
 * A payment body is checked by the evaluator's own hand-written check first (it accepts exactly
 * what the schema accepts), and only a refused one is parsed by the schema, for its issues: the
 * hot path never runs Zod.
 */
import { z } from "zod";
import type { Decision } from "../core/evaluator/decision.ts";
import { CheckedPayment, fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
import { minorUnits } from "../core/model/fields.ts";
import { externalId, paymentSchema } from "../core/model/payment.ts";
import type { LedgerService } from "../ledger/ledger-service.ts";
import { ApiError } from "./api-errors.ts";
import { principalIdOf, type RouteSpec, route } from "./route.ts";
import type { ServerMetrics } from "./server-metrics.ts";

/** A payment is a few hundred bytes; 8 KiB leaves room for long ids and segment lists. */
const PAYMENT_BODY_LIMIT_BYTES = 8 * 1024;

/** Applies in flight at once per process; beyond it, callers are asked to retry. */
export const APPLIES_IN_FLIGHT_MAX = 50_000;

const paymentIdParams = z.strictObject({ paymentId: externalId });

const commitBody = z.strictObject({
  subsidyMinor: minorUnits({
    min: 0,
    description:
      "The final subsidy, at most what was reserved; the remainder returns to the budgets. Omitted: all of it.",
  }).optional(),
});

const refundBody = z.strictObject({
  refundId: externalId,
  amountMinor: minorUnits({ min: 1, description: "Amount of the payment refunded." }),
});

export interface PaymentRouteDependencies {
  readonly ledger: LedgerService;
  readonly metrics: ServerMetrics;
}

export function paymentRoutes({ ledger, metrics }: PaymentRouteDependencies): RouteSpec[] {
  const checked = new CheckedPayment();
  /** Payment ids being applied now: a concurrent duplicate is told so instead of waiting. */
  const applying = new Set<string>();

  /** The payment, or a 400 with the schema's issues. */
  function checkPayment(body: unknown): void {
    if (fastPaymentCheck(body, checked)) return;
    const parsed = paymentSchema.safeParse(body);
    const issues = parsed.success
      ? [{ path: "body", message: "the payment is invalid" }]
      : parsed.error.issues.slice(0, 20).map((issue) => ({
          path: ["body", ...issue.path.map(String)].join("."),
          message: issue.message,
        }));
    throw ApiError.of("body_invalid", "the body is not a valid payment", {
      issues,
      issuesTotal: issues.length,
    });
  }

  return [
    route<undefined, undefined, unknown>({
      method: "POST",
      url: "/v1/payments/quote",
      operationId: "quotePayment",
      summary:
        "What the current configuration grants this payment, before budgets and caps. Reserves nothing: a quote is not a promise.",
      tag: "payments",
      access: ["payment-service", "author", "reviewer", "operator", "admin"],
      body: paymentSchema as z.ZodType<unknown>,
      bodyChecked: "by_handler",
      bodyLimitBytes: PAYMENT_BODY_LIMIT_BYTES,
      rateClass: "payment",
      responses: { 200: "The decision: granted subsidies, or the reason nothing is granted." },
      handle: ({ body }) => {
        checkPayment(body);
        const decision = ledger.quote(body);
        metrics.observeDecision("quote", decision);
        return { body: decisionBody(decision) };
      },
    }),
    route<undefined, undefined, unknown>({
      method: "POST",
      url: "/v1/payments/apply",
      operationId: "applyPayment",
      summary:
        "Quote and reserve in one step, durable before it answers. Idempotent on paymentId: the same content gets the stored answer (header Idempotent-Replayed: true).",
      tag: "payments",
      access: ["payment-service"],
      body: paymentSchema as z.ZodType<unknown>,
      bodyChecked: "by_handler",
      bodyLimitBytes: PAYMENT_BODY_LIMIT_BYTES,
      rateClass: "payment",
      responses: {
        200: "The ledger's answer: reserved (with each subsidy's outcome), no_subsidy, or ledger_unavailable (the payment goes on at full price).",
      },
      handle: async ({ body, caller }) => {
        checkPayment(body);
        const paymentId = (body as { paymentId: string }).paymentId;
        if (applying.has(paymentId)) {
          throw ApiError.of(
            "request_in_progress",
            `payment ${paymentId} is being applied by another request; retry to get its answer`,
          );
        }
        if (applying.size >= APPLIES_IN_FLIGHT_MAX) {
          throw ApiError.of("unavailable", "too many payments in flight; retry shortly");
        }
        applying.add(paymentId);
        try {
          const answer = await ledger.apply(body, principalIdOf(caller));
          metrics.observeDecision("apply", answer.decision);
          metrics.observeLedgerAnswer("apply", answer.code);
          if (answer.code === "idempotency_conflict") {
            throw ApiError.of(
              "idempotency_conflict",
              `payment ${paymentId} was applied before with different content; nothing changed`,
            );
          }
          if (!answer.replayed && answer.reservation !== null) {
            metrics.observeReservation(answer.reservation);
          }
          return {
            body: {
              code: answer.code,
              paymentId: answer.paymentId,
              replayed: answer.replayed,
              reservation: answer.reservation,
              decision: decisionBody(answer.decision),
            },
            ...(answer.replayed ? { headers: { "idempotent-replayed": "true" } } : {}),
          };
        } finally {
          applying.delete(paymentId);
        }
      },
    }),
    route<{ paymentId: string }, undefined, z.infer<typeof commitBody>>({
      method: "POST",
      url: "/v1/payments/:paymentId/commit",
      operationId: "commitPayment",
      summary:
        "Settles a reservation as the payment completes; a lower final subsidy returns the rest. Idempotent.",
      tag: "payments",
      access: ["payment-service"],
      params: paymentIdParams,
      body: commitBody,
      bodyLimitBytes: 1024,
      rateClass: "payment",
      responses: {
        200: "The ledger's answer (committed, reservation_not_found, reservation_expired, already_committed, commit_exceeds_reservation, ledger_unavailable).",
      },
      handle: async ({ params, body, caller }) => {
        const answer = await ledger.commit(
          params.paymentId,
          body.subsidyMinor,
          principalIdOf(caller),
        );
        metrics.observeLedgerAnswer("commit", answer.code);
        return { body: answer };
      },
    }),
    route<{ paymentId: string }, undefined, undefined>({
      method: "POST",
      url: "/v1/payments/:paymentId/release",
      operationId: "releasePayment",
      summary:
        "Returns a reservation's money to its budgets (the payment failed or was cancelled).",
      tag: "payments",
      access: ["payment-service"],
      params: paymentIdParams,
      bodyLimitBytes: 1024,
      rateClass: "payment",
      responses: {
        200: "The ledger's answer (released, reservation_not_found, reservation_expired, already_committed, ledger_unavailable).",
      },
      handle: async ({ params, caller }) => {
        const answer = await ledger.release(params.paymentId, principalIdOf(caller));
        metrics.observeLedgerAnswer("release", answer.code);
        return { body: answer };
      },
    }),
    route<{ paymentId: string }, undefined, z.infer<typeof refundBody>>({
      method: "POST",
      url: "/v1/payments/:paymentId/refunds",
      operationId: "refundPayment",
      summary:
        "Refunds part or all of a committed payment: the subsidy is reversed in proportion; idempotent per refundId.",
      tag: "payments",
      access: ["payment-service"],
      params: paymentIdParams,
      body: refundBody,
      bodyLimitBytes: 1024,
      rateClass: "payment",
      responses: {
        200: "The ledger's answer (refunded, refund_not_committed, refund_exceeds_payment, refund_conflict, reservation_not_found, ledger_unavailable).",
      },
      handle: async ({ params, body, caller }) => {
        const answer = await ledger.refund(
          params.paymentId,
          body.refundId,
          body.amountMinor,
          principalIdOf(caller),
        );
        metrics.observeLedgerAnswer("refund", answer.code);
        return { body: answer };
      },
    }),
  ];
}

/** The decision as the API shows it: without the evaluator's internal index counter. */
function decisionBody(decision: Decision): Omit<Decision, "excludedByIndex"> {
  const { excludedByIndex: _excluded, ...shown } = decision;
  return shown;
}
