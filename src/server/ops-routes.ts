/**
 * What operations and tooling read: liveness, readiness, Prometheus metrics, the OpenAPI document
 * and its readable page (docs/reference/http-api.md, "Operations"); and the web console at `/`.
 */
import { ApiError } from "./api-errors.ts";
import { consoleRoutes } from "./console-routes.ts";
import { docsPage } from "./docs-page.ts";
import { openApiDocument } from "./openapi.ts";
import { type RouteSpec, route } from "./route.ts";
import type { ServerMetrics } from "./server-metrics.ts";

export interface OpsRouteDependencies {
  readonly metrics: ServerMetrics;
  /** The server's clock (the demo's lives in 2025): payment services stamp `atMs` with it. */
  readonly nowMs: () => number;
  /** Why the server is not ready (empty when it is). */
  readonly unreadyReasons: () => Promise<string[]>;
  readonly version: string;
  /** Every route of the server, this table's included, for the OpenAPI document. */
  readonly allRoutes: () => readonly RouteSpec[];
}

export function opsRoutes(dependencies: OpsRouteDependencies): RouteSpec[] {
  let openApi: { json: string; html: string } | undefined;
  const documents = () => {
    if (openApi === undefined) {
      const document = openApiDocument(dependencies.allRoutes(), dependencies.version);
      openApi = { json: JSON.stringify(document), html: docsPage(document) };
    }
    return openApi;
  };
  return [
    // The console at `/` and its files (console-routes.ts).
    ...consoleRoutes(),
    route({
      method: "GET",
      url: "/healthz",
      operationId: "health",
      summary:
        "The process is alive and answering; with the server's clock, which payments' atMs should follow (reservations expire 15 minutes after it).",
      tag: "operations",
      access: "public",
      rateClass: "none",
      responses: { 200: "Alive: {status, nowMs}." },
      handle: () => ({ body: { status: "ok", nowMs: dependencies.nowMs() } }),
    }),
    route({
      method: "GET",
      url: "/readyz",
      operationId: "readiness",
      summary:
        "The stores answer and the kill state is confirmed current: payments are decided with the configuration in force.",
      tag: "operations",
      access: "public",
      rateClass: "none",
      responses: { 200: "Ready.", 503: "Not ready (details.reasons)." },
      handle: async () => {
        const reasons = await dependencies.unreadyReasons();
        if (reasons.length > 0) {
          throw ApiError.of("unavailable", `not ready: ${reasons.join("; ")}`, { reasons });
        }
        return { body: { status: "ready" } };
      },
    }),
    route({
      method: "GET",
      url: "/metrics",
      operationId: "metrics",
      summary:
        "Prometheus metrics in the text format: latencies, decisions by reason, subsidy by campaign and funder, breakers, the ledger's batches, the snapshot.",
      tag: "operations",
      access: ["operator", "auditor", "admin"],
      rateClass: "control",
      responses: { 200: "Metrics, text/plain; version=0.0.4." },
      handle: async () => ({
        body: await dependencies.metrics.text(),
        contentType: dependencies.metrics.contentType,
      }),
    }),
    route({
      method: "GET",
      url: "/openapi.json",
      operationId: "openApi",
      summary: "This API as an OpenAPI 3.1 document, generated from the schemas that validate it.",
      tag: "operations",
      access: "public",
      rateClass: "none",
      responses: { 200: "The document." },
      handle: () => ({ body: documents().json, contentType: "application/json; charset=utf-8" }),
    }),
    route({
      method: "GET",
      url: "/docs",
      operationId: "docs",
      summary: "This API's reference as one HTML page, with no script or external request.",
      tag: "operations",
      access: "public",
      rateClass: "none",
      responses: { 200: "HTML." },
      handle: () => ({ body: documents().html, contentType: "text/html; charset=utf-8" }),
    }),
  ];
}
