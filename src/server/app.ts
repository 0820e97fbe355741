/**
 * The HTTP application: every route of the table registered with the same steps — authenticate,
 * authorise by role, rate-limit, validate path, query and body against strict schemas, handle —
 * and every failure answered as `{"code", "message", "details"}` with a documented code. Nothing
 * here knows a store: the handlers are closures over the services (server-context.ts).
 */
import { randomBytes } from "node:crypto";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { z } from "zod";
import { ApiError } from "./api-errors.ts";
import { type RateLimit, RateLimiter } from "./rate-limiter.ts";
import type { Caller, RateClass, RouteAnswer, RouteSpec } from "./route.ts";
import type { ServerMetrics } from "./server-metrics.ts";

/** pino's level numbers, to skip building a log line nobody will write. */
const LEVEL_RANK: Readonly<Record<string, number | undefined>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
};

/** Bodies above this are refused unless a route allows more (payments are a few hundred bytes). */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;

/** Longest `Authorization` header value read; longer ones are refused without parsing. */
const AUTHORIZATION_LENGTH_MAX = 512;

export interface RateLimits {
  readonly payment: RateLimit;
  readonly control: RateLimit;
  /** Per client address, for requests that fail to authenticate. */
  readonly unauthenticated: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  payment: { perSecond: 20_000, burst: 40_000 },
  control: { perSecond: 50, burst: 200 },
  unauthenticated: { perSecond: 20, burst: 100 },
};

export interface AppOptions {
  readonly routes: readonly RouteSpec[];
  /**
   * The caller a bearer token's text names, or undefined for a malformed, unknown or revoked one;
   * at once when it can tell without a store (a cached token), else as a promise.
   */
  readonly authenticate: (tokenText: string) => Caller | undefined | Promise<Caller | undefined>;
  readonly metrics: ServerMetrics;
  readonly nowMs: () => number;
  readonly rateLimits?: RateLimits;
  /** Structured JSON logs to stderr at this level; false for none (tests). */
  readonly logLevel: "debug" | "info" | "warn" | "error" | false;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const requestPrefix = randomBytes(4).toString("hex");
  let requestCounter = 0;
  const app = Fastify({
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    logger:
      options.logLevel === false
        ? false
        : {
            level: options.logLevel,
            stream: process.stderr,
            // Tokens never reach a log line, whatever logs the request.
            redact: ["req.headers.authorization", "headers.authorization"],
          },
    // One line per request is written below, with the fields this API cares about.
    logController: new LogController({ disableRequestLogging: true }),
    // Every line this app logs names its request id itself, so a request logs through the root
    // logger: a pino child per request (Fastify's default) cost more than the lines it would bind.
    childLoggerFactory: (logger) => logger,
    genReqId: () => {
      requestCounter += 1;
      return `${requestPrefix}-${requestCounter.toString(36)}`;
    },
    // Requests met while closing are refused below, in the API's error shape, not Fastify's.
    return503OnClosing: false,
    // Errors Fastify meets before routing (a path that is not valid percent-encoding, a path
    // parameter past its length) get the API's shape too, not Fastify's own body.
    frameworkErrors: (error, _request, reply) => {
      const problem =
        error.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? "a path segment is longer than any identifier"
          : "the path is not valid percent-encoding";
      void sendError(
        reply,
        ApiError.of("body_invalid", `the path is not a valid URL for this API: ${problem}`, {
          issues: [{ path: "path", message: problem }],
          issuesTotal: 1,
        }),
      );
    },
  });
  // JSON only: a text body is refused (415) rather than handed to a schema as a string.
  app.removeContentTypeParser("text/plain");
  const limiter = new RateLimiter(options.nowMs);
  const rateLimits = options.rateLimits ?? DEFAULT_RATE_LIMITS;

  // Draining: a request that arrives after close began is refused (retry elsewhere), and every
  // answer from then on closes its connection. Without that, a keep-alive connection whose request
  // was in flight when close began stays open after its answer, and the drain waits for the
  // client to drop it (Fastify's keep-alive lasts 72 s).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });

  app.setNotFoundHandler((request, reply) => {
    void sendError(
      reply,
      closing
        ? shuttingDown()
        : ApiError.of("not_found", `no endpoint ${request.method} ${request.url}`),
    );
  });
  app.setErrorHandler((error, request, reply) => {
    void sendError(reply, asApiError(error, request));
  });

  for (const spec of options.routes) {
    app.route({
      method: spec.method,
      url: spec.url,
      bodyLimit: spec.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      // Synchronous until something must wait (a token not yet cached, a store): a cached quote
      // is answered without a promise of this app's own.
      handler: (request, reply) => {
        if (closing) throw shuttingDown();
        if (spec.access === "public") return answer(spec, request, reply, undefined);
        const caller = authorise(request, spec);
        return caller instanceof Promise
          ? caller.then((known) => answer(spec, request, reply, known))
          : answer(spec, request, reply, caller);
      },
    });
  }
  return app;

  /** Rate-limits, validates and runs the handler; sends its answer (or returns its promise). */
  function answer(
    spec: RouteSpec,
    request: FastifyRequest,
    reply: FastifyReply,
    caller: Caller | undefined,
  ): FastifyReply | Promise<FastifyReply> {
    if (caller !== undefined) takeRate(limiter, caller.tokenId, spec.rateClass, rateLimits);
    const params = parsePart(spec.params, request.params, "path");
    const query = parsePart(spec.query, request.query, "query");
    const body =
      spec.body === undefined
        ? noBody(request.body)
        : spec.bodyChecked === "by_handler"
          ? request.body
          : spec.bodyOptional === true && request.body === undefined
            ? undefined
            : parsePart(spec.body, request.body, "body");
    const handled = spec.handle({ params, query, body, caller, requestId: request.id });
    return handled instanceof Promise
      ? handled.then((answered) => send(reply, answered))
      : send(reply, handled);
  }

  function send(reply: FastifyReply, answer: RouteAnswer): FastifyReply {
    reply.code(answer.status ?? 200);
    if (answer.headers !== undefined) reply.headers(answer.headers);
    if (answer.contentType !== undefined) reply.type(answer.contentType);
    answered(reply);
    return reply.send(answer.body);
  }

  async function sendError(reply: FastifyReply, error: ApiError): Promise<void> {
    reply.code(error.status).headers(error.headers).type("application/json");
    answered(reply);
    await reply.send(error.body());
  }

  /**
   * What every answer gets, whichever path sends it (a route's `send`, `sendError` for every
   * refusal, Fastify's own errors and unknown paths): its request id, `connection: close` while
   * draining, its metrics and its log line. Done here rather than in onRequest, onSend and
   * onResponse hooks: each kind of hook costs Fastify a runner on every request, for work that
   * needs nothing but the reply. The latency recorded therefore ends when the answer is handed to
   * the socket, not when the socket has written it.
   */
  function answered(reply: FastifyReply): void {
    reply.header("x-request-id", reply.request.id);
    if (closing) reply.header("connection", "close");
    logAnswered(reply.request, reply);
  }

  /** The request's metrics, and its log line when the level asks for one. */
  function logAnswered(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.routeOptions.url ?? "unmatched";
    const status = reply.statusCode;
    options.metrics.observeRequest(route, request.method, status, reply.elapsedTime);
    // The payment path logs its failures only: one line per payment would cost more than it says.
    const level =
      status >= 500
        ? "error"
        : status >= 400 || !route.startsWith("/v1/payments/")
          ? "info"
          : "debug";
    const enabledFrom = LEVEL_RANK[request.log.level] ?? Number.POSITIVE_INFINITY;
    if ((LEVEL_RANK[level] ?? 0) < enabledFrom) return;
    const fields = {
      requestId: request.id,
      method: request.method,
      route,
      status,
      ms: Math.round(reply.elapsedTime * 100) / 100,
    };
    request.log[level](fields, status >= 500 ? "request failed" : "request");
  }

  /** The caller, at once for a cached token; throws (or rejects with) the refusal otherwise. */
  function authorise(request: FastifyRequest, spec: RouteSpec): Caller | Promise<Caller> {
    const header = request.headers.authorization;
    const tokenText =
      typeof header === "string" &&
      header.length <= AUTHORIZATION_LENGTH_MAX &&
      header.startsWith("Bearer ")
        ? header.slice("Bearer ".length).trim()
        : undefined;
    if (tokenText === undefined) return permitted(request, spec, undefined, tokenText);
    let found: Caller | undefined | Promise<Caller | undefined>;
    try {
      found = options.authenticate(tokenText);
    } catch (error) {
      throw tokenStoreFailed(request, error);
    }
    return found instanceof Promise
      ? found.then(
          (caller) => permitted(request, spec, caller, tokenText),
          (error: unknown) => {
            throw tokenStoreFailed(request, error);
          },
        )
      : permitted(request, spec, found, tokenText);
  }

  function tokenStoreFailed(request: FastifyRequest, error: unknown): ApiError {
    // The token may well be valid: the store that would say so did not answer.
    request.log.warn({ err: error, requestId: request.id }, "token store failed");
    return ApiError.of("unavailable", "the token store does not answer; retry shortly");
  }

  /** The caller if its token is valid and holds one of the endpoint's roles; else throws. */
  function permitted(
    request: FastifyRequest,
    spec: RouteSpec,
    caller: Caller | undefined,
    tokenText: string | undefined,
  ): Caller {
    if (caller === undefined) {
      // Guessing tokens is slowed per address; a valid token is limited by its own id below.
      const waitS = limiter.take(`address:${request.ip}`, rateLimits.unauthenticated);
      if (waitS > 0) throw rateLimited(waitS);
      throw ApiError.of(
        "unauthenticated",
        tokenText === undefined
          ? "send an API token as `Authorization: Bearer <token>`"
          : "the API token is not valid (malformed, unknown or revoked)",
      );
    }
    const allowed = spec.access as readonly string[];
    if (!caller.roles.some((role) => allowed.includes(role))) {
      throw ApiError.of(
        "forbidden",
        `this endpoint needs one of the roles ${allowed.join(", ")}; the token has ${caller.roles.join(", ")}`,
        { requiredRoles: allowed },
      );
    }
    return caller;
  }
}

function takeRate(
  limiter: RateLimiter,
  tokenId: string,
  rateClass: RateClass,
  limits: RateLimits,
): void {
  if (rateClass === "none") return;
  const waitS = limiter.take(`${rateClass}:${tokenId}`, limits[rateClass]);
  if (waitS > 0) throw rateLimited(waitS);
}

function rateLimited(waitS: number): ApiError {
  return ApiError.of(
    "rate_limited",
    `too many requests; retry in ${waitS} s`,
    { retryAfterSeconds: waitS },
    { "retry-after": String(waitS) },
  );
}

/** At most this many issues are listed in an error; the rest are counted. */
const ISSUES_LISTED_MAX = 20;

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (schema === undefined) return undefined as T;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, ISSUES_LISTED_MAX).map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message,
  }));
  throw ApiError.of("body_invalid", `the ${where} does not match the endpoint's schema`, {
    issues,
    issuesTotal: parsed.error.issues.length,
  });
}

/** Endpoints without a body accept none, or an empty object (what many clients send). */
function noBody(body: unknown): undefined {
  if (
    body === undefined ||
    body === null ||
    (typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0)
  )
    return undefined;
  throw ApiError.of("body_invalid", "this endpoint takes no body", {
    issues: [{ path: "body", message: "expected no body" }],
    issuesTotal: 1,
  });
}

/** Fastify's own errors (parsing, limits) as documented codes; anything else is a fault. */
function asApiError(error: unknown, request: FastifyRequest): ApiError {
  if (error instanceof ApiError) return error;
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  if (statusCode === 413) {
    return ApiError.of("body_too_large", "the body is larger than this endpoint accepts", {
      limitBytes: request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT_BYTES,
    });
  }
  if (statusCode === 415) {
    return ApiError.of("unsupported_media_type", "send bodies as application/json");
  }
  if (statusCode === 400 && typeof code === "string" && code.startsWith("FST_ERR_CTP")) {
    return ApiError.of("body_malformed", "the body is not valid JSON");
  }
  if (statusCode === 400 && error instanceof SyntaxError) {
    return ApiError.of("body_malformed", "the body is not valid JSON");
  }
  if (statusCode === 400 && code === undefined) {
    // The JSON parser's prototype-poisoning refusal (`__proto__`, `constructor.prototype`).
    return ApiError.of("body_invalid", "the body holds a forbidden key", {
      issues: [{ path: "body", message: "forbidden key" }],
      issuesTotal: 1,
    });
  }
  request.log.error({ err: error, requestId: request.id }, "unhandled error");
  return ApiError.of("internal_error", "the server failed to answer; the request id is logged", {
    requestId: request.id,
  });
}

function shuttingDown(): ApiError {
  return ApiError.of("unavailable", "the server is shutting down; retry shortly");
}
