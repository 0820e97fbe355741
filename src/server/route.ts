/**
 * One endpoint as data: method, path, who may call it, its schemas and its handler. The server
 * registers routes from this table, the OpenAPI document is generated from it, and the security
 * matrix test walks it — so an endpoint cannot exist without saying who may call it.
 */
import type { z } from "zod";
import type { ApiRole } from "../core/access/api-roles.ts";

/** Who may call an endpoint: anyone, or a token holding one of these roles. */
export type Access = "public" | readonly ApiRole[];

/** The caller a token authenticates as. */
export interface Caller {
  readonly tokenId: string;
  readonly principalId: string;
  readonly roles: readonly ApiRole[];
}

/**
 * The principal id of the caller of an endpoint that names roles in its access: the app has
 * authenticated one before the handler runs, so its absence is a bug, not a request to answer.
 */
export function principalIdOf(caller: Caller | undefined): string {
  if (caller === undefined) throw new Error("an endpoint with roles ran without a caller");
  return caller.principalId;
}

export interface RouteInput<Params, Query, Body> {
  readonly params: Params;
  readonly query: Query;
  readonly body: Body;
  /** Undefined only on public endpoints. */
  readonly caller: Caller | undefined;
  readonly requestId: string;
}

export interface RouteAnswer {
  readonly status?: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default application/json; text bodies (metrics, docs) name theirs. */
  readonly contentType?: string;
}

/** Requests per second a token may send to an endpoint, by class. */
export type RateClass = "payment" | "control" | "none";

export interface RouteSpec<Params = unknown, Query = unknown, Body = unknown> {
  readonly method: "GET" | "POST" | "DELETE";
  /** Fastify's path syntax: `/v1/payments/:paymentId/commit`. */
  readonly url: string;
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly params?: z.ZodType<Params>;
  readonly query?: z.ZodType<Query>;
  /** Strict schemas: unknown fields are refused (mass assignment). */
  readonly body?: z.ZodType<Body>;
  /**
   * "schema" (default): the body is parsed by `body` before the handler runs. "by_handler": the
   * handler checks it with an equivalent faster check (payments); `body` then only documents it.
   */
  readonly bodyChecked?: "schema" | "by_handler";
  /** The body may be left out (the handler then gets undefined); when sent, `body` parses it. */
  readonly bodyOptional?: boolean;
  /** Below the server's default (64 KiB) for small bodies, above it for documents. */
  readonly bodyLimitBytes?: number;
  readonly rateClass: RateClass;
  /** The success statuses and what each means; errors are documented once for every route. */
  readonly responses: Readonly<Record<number, string>>;
  readonly handle: (input: RouteInput<Params, Query, Body>) => Promise<RouteAnswer> | RouteAnswer;
}

/** Keeps each route's schema and handler types tied together inside a heterogeneous table. */
export function route<Params = undefined, Query = undefined, Body = undefined>(
  spec: RouteSpec<Params, Query, Body>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}
