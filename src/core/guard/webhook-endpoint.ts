/**
 * A webhook endpoint as configured (docs/reference/webhooks.md, "Endpoints"), and the checks on
 * one before it is stored: what a refusal says is a code with the field it concerns, never
 * joined text. The URL must be http(s), carry no credentials (they would sit in the store and
 * in every listing; the shared secret signs instead) and be of bounded length.
 */

export const WEBHOOK_ENDPOINT_CODES = {
  invalid_id:
    "The id is not 1-64 characters of a-z, 0-9, `-` and `_`, starting with a letter or digit.",
  invalid_url: "The URL does not parse, or is not http: or https:.",
  url_too_long: "The URL is longer than 2,048 characters.",
  url_has_credentials:
    "The URL names a user or a password; authenticate with the signature instead.",
  url_has_fragment: "The URL has a #fragment, which is never sent and so means nothing here.",
  invalid_secret:
    "The secret is not 24-256 printable ASCII characters without spaces (`bursar webhook add` makes one).",
  invalid_event_types:
    "The event types are empty, more than 32, repeated, or one is neither `*` nor dotted lower-case words (`incident.opened`).",
  endpoint_exists: "An endpoint with this id is configured already; remove it first.",
  endpoint_not_found: "No endpoint with this id is configured.",
  too_many_endpoints: "As many endpoints as allowed (50) are configured already.",
} as const;

export type WebhookEndpointCode = keyof typeof WEBHOOK_ENDPOINT_CODES;

export const WEBHOOK_ENDPOINT_LIMITS = {
  idLengthMax: 64,
  urlLengthMax: 2_048,
  secretLengthMin: 24,
  secretLengthMax: 256,
  eventTypesMax: 32,
  eventTypeLengthMax: 64,
  /** Endpoints configured at once: each notification becomes one delivery per endpoint. */
  endpointsMax: 50,
} as const;

/** An endpoint as configured. The secret never leaves the store except to sign. */
export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly secret: string;
  /** Event types delivered to it; `*` means every type. */
  readonly eventTypes: readonly string[];
  readonly enabled: boolean;
}

/** What listings show: everything but the secret. */
export type WebhookEndpointListing = Omit<WebhookEndpoint, "secret"> & {
  readonly createdAtMs: number;
};

export interface WebhookEndpointProblem {
  readonly code: WebhookEndpointCode;
  readonly field: "id" | "url" | "secret" | "eventTypes";
  readonly message: string;
}

export const WEBHOOK_ENDPOINT_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** `incident.opened`, `incident.severity_raised`: two or more dotted lower-case words. */
export const WEBHOOK_EVENT_TYPE = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;
const SECRET_TEXT = /^[\x21-\x7e]+$/;

/** The first problem of an endpoint, or undefined when it may be stored. */
export function webhookEndpointProblem(
  endpoint: WebhookEndpoint,
): WebhookEndpointProblem | undefined {
  if (typeof endpoint.id !== "string" || !WEBHOOK_ENDPOINT_ID.test(endpoint.id)) {
    return problem("invalid_id", "id", `${JSON.stringify(endpoint.id)} is not a usable id`);
  }
  const urlProblem = webhookUrlProblem(endpoint.url);
  if (urlProblem !== undefined) return urlProblem;
  const secret = endpoint.secret;
  if (
    typeof secret !== "string" ||
    secret.length < WEBHOOK_ENDPOINT_LIMITS.secretLengthMin ||
    secret.length > WEBHOOK_ENDPOINT_LIMITS.secretLengthMax ||
    !SECRET_TEXT.test(secret)
  ) {
    // The message never repeats the secret.
    return problem("invalid_secret", "secret", "the secret is not a usable secret");
  }
  const types = endpoint.eventTypes;
  if (
    !Array.isArray(types) ||
    types.length === 0 ||
    types.length > WEBHOOK_ENDPOINT_LIMITS.eventTypesMax ||
    new Set(types).size !== types.length ||
    !types.every((type) => type === "*" || isWebhookEventType(type))
  ) {
    return problem(
      "invalid_event_types",
      "eventTypes",
      `${JSON.stringify(types)} are not usable event types`,
    );
  }
  return undefined;
}

/** The URL's problem: http(s), parseable, bounded, without credentials or fragment. */
export function webhookUrlProblem(url: string): WebhookEndpointProblem | undefined {
  if (typeof url !== "string") return problem("invalid_url", "url", "the URL is not text");
  if (url.length > WEBHOOK_ENDPOINT_LIMITS.urlLengthMax) {
    return problem("url_too_long", "url", `the URL has ${url.length} characters`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem("invalid_url", "url", "the URL does not parse");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    return problem("invalid_url", "url", `${parsed.protocol} is not http: or https:`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    // Said without the URL itself, which holds the credentials.
    return problem("url_has_credentials", "url", "the URL names a user or password");
  }
  if (url.includes("#")) return problem("url_has_fragment", "url", "the URL has a fragment");
  return undefined;
}

export function isWebhookEventType(type: unknown): type is string {
  return (
    typeof type === "string" &&
    type.length <= WEBHOOK_ENDPOINT_LIMITS.eventTypeLengthMax &&
    WEBHOOK_EVENT_TYPE.test(type)
  );
}

/** Whether an endpoint takes deliveries of `eventType`. */
export function webhookEndpointWants(
  endpoint: Pick<WebhookEndpoint, "eventTypes" | "enabled">,
  eventType: string,
): boolean {
  return endpoint.enabled && endpoint.eventTypes.some((type) => type === "*" || type === eventType);
}

function problem(
  code: WebhookEndpointCode,
  field: WebhookEndpointProblem["field"],
  message: string,
): WebhookEndpointProblem {
  return { code, field, message };
}
