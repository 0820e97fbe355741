/**
 * The HTTP API's own error codes (docs/reference/http-api.md): every error response is
 * `{"code", "message", "details"}` (CONTRACTS.md) with one of these codes, or — for an expected
 * refusal of the domain (a change the pipeline refuses, an incident action out of order) — the
 * domain's own documented code with the status its route declares. Messages say what to fix and
 * never carry stack traces, SQL, file paths or secrets.
 */
export const API_ERROR_CODES = {
  unauthenticated: {
    status: 401,
    description: "No API token, a malformed one, an unknown one, or a revoked one.",
  },
  forbidden: {
    status: 403,
    description: "The token's roles do not allow this endpoint, or this object.",
  },
  not_found: { status: 404, description: "No such endpoint, or no such object." },
  body_malformed: { status: 400, description: "The body is not valid JSON." },
  body_invalid: {
    status: 400,
    description:
      "The body, path or query does not match the endpoint's schema: a missing or unknown field, a wrong type or range (details.issues says where).",
  },
  body_too_large: {
    status: 413,
    description: "The body is larger than the endpoint accepts (details.limitBytes).",
  },
  unsupported_media_type: {
    status: 415,
    description: "A body was sent with a content type other than application/json.",
  },
  rate_limited: {
    status: 429,
    description:
      "The token (or, before authentication, the client address) sent more requests than its rate allows; retry after the Retry-After header's seconds.",
  },
  idempotency_conflict: {
    status: 409,
    description:
      "A payment with this id was applied (or, in guard mode, checked and recorded) before with different content (every field but `at`; for a check, its proposals too); nothing changed.",
  },
  request_in_progress: {
    status: 409,
    description:
      "A request with this payment id is being processed right now; retry once it has answered to get its stored answer.",
  },
  unavailable: {
    status: 503,
    description: "The server is starting, shutting down, or cannot reach its store.",
  },
  internal_error: {
    status: 500,
    description:
      "A fault in the server itself; logged with the request id, which the response carries in details.requestId.",
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** Domain codes that mean the object is missing, though their names do not end in `_not_found`. */
const NOT_FOUND_REFUSALS: ReadonlySet<string> = new Set([
  "incident.not_found",
  "kill_not_active",
  "endpoint_not_found",
]);

/** Domain codes that refuse what the request itself says, whatever the object's state. */
const REQUEST_REFUSALS: ReadonlySet<string> = new Set([
  // the change pipeline
  "reason_required",
  "empty_change",
  "too_many_edits",
  "duplicate_edit",
  "invalid_rollout_plan",
  // incidents
  "incident.reason_required",
  "incident.too_many_blamed",
  "incident.timeline_kind_not_recordable",
  // webhooks
  "invalid_id",
  "invalid_url",
  "url_too_long",
  "url_has_credentials",
  "url_has_fragment",
  "invalid_secret",
  "invalid_event_types",
]);

/** Domain codes that refuse this caller this object: object-level authorisation. */
const OBJECT_REFUSALS: ReadonlySet<string> = new Set([
  "role_missing",
  "not_the_author",
  "author_cannot_approve",
]);

/**
 * An error a handler throws to answer with one of the codes above, or with a domain's refusal code
 * (`ApiError.refusal`).
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static of(
    code: ApiErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ): ApiError {
    return new ApiError(code, API_ERROR_CODES[code].status, message, details, headers);
  }

  /**
   * A domain refusal (a value in the domain's documented catalog), answered with its own code:
   * 404 for `…_not_found` and `NOT_FOUND_REFUSALS`; 400 for `…_invalid` and for a request whose
   * own content the domain refuses (`REQUEST_REFUSALS`); 403 when the caller may not act on this object
   * (`OBJECT_REFUSALS`: a missing role, another author's change, one's own approval); else 409 —
   * the request is well formed, and the object's state refuses it.
   */
  static refusal(code: string, message: string): ApiError {
    const status =
      code.endsWith("_not_found") || NOT_FOUND_REFUSALS.has(code)
        ? 404
        : code.endsWith("_invalid") || REQUEST_REFUSALS.has(code)
          ? 400
          : OBJECT_REFUSALS.has(code)
            ? 403
            : 409;
    return new ApiError(code, status, message);
  }

  body(): ApiErrorBody {
    return { code: this.code, message: this.message, details: this.details };
  }
}
