/**
 * The OpenAPI 3.1 document, generated from the route table and the same Zod schemas that validate
 * requests (and campaign files), so the document cannot drift from what the server accepts.
 */
import { z } from "zod";
import { API_ERROR_CODES } from "./api-errors.ts";
import type { RouteSpec } from "./route.ts";

const ERROR_STATUSES = [
  ...new Set(Object.values(API_ERROR_CODES).map((entry) => entry.status)),
].sort((left, right) => left - right);

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}

/** Path and query parameters from an object schema's properties. */
function parametersOf(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (schema === undefined) return [];
  const json = jsonSchemaOf(schema) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: property,
  }));
}

export function openApiDocument(
  routes: readonly RouteSpec[],
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const path = spec.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const errors = Object.fromEntries(
      ERROR_STATUSES.filter(
        (status) => spec.access !== "public" || (status !== 401 && status !== 403),
      ).map((status) => [
        String(status),
        {
          description: Object.entries(API_ERROR_CODES)
            .filter(([, entry]) => entry.status === status)
            .map(([code]) => code)
            .join(", "),
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      ]),
    );
    paths[path] ??= {};
    paths[path][spec.method.toLowerCase()] = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: [spec.tag],
      security: spec.access === "public" ? [] : [{ bearerToken: [] }],
      "x-bursar-roles": spec.access === "public" ? [] : spec.access,
      parameters: [...parametersOf(spec.params, "path"), ...parametersOf(spec.query, "query")],
      ...(spec.body === undefined
        ? {}
        : {
            requestBody: {
              required: spec.bodyOptional !== true,
              content: { "application/json": { schema: jsonSchemaOf(spec.body) } },
            },
          }),
      responses: {
        ...Object.fromEntries(
          Object.entries(spec.responses).map(([status, description]) => [status, { description }]),
        ),
        ...errors,
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Bursar API",
      version,
      description:
        "Payment-time promotions that cannot be misconfigured into a P0: the payment path (quote, apply, commit, release, refund) and the control plane. Every error is {code, message, details}; the codes are in docs/reference/http-api.md.",
    },
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          description: "An API token `bsr_<id>_<secret>` issued by an administrator.",
        },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message", "details"],
          additionalProperties: false,
          properties: {
            code: { type: "string" },
            message: { type: "string" },
            details: { type: "object" },
          },
        },
      },
    },
    paths,
  };
}
