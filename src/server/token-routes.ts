/**
 * API tokens over HTTP (docs/reference/api-tokens.md): administrators issue and revoke them; any
 * caller reads its own. A token's text is in the answer that issues it and nowhere else; no answer
 * carries a secret's hash.
 */
import { z } from "zod";
import type { ApiTokenRecord } from "../control/api-token-store.ts";
import { API_ROLES } from "../core/access/api-roles.ts";
import { ApiError } from "./api-errors.ts";
import { type RouteSpec, route } from "./route.ts";
import type { ServerServices } from "./server-services.ts";

/** A token as the API shows it: everything but the secret's hash. */
export function tokenView(record: ApiTokenRecord) {
  const { secretHash: _hash, ...view } = record;
  return view;
}

const issueBody = z.strictObject({
  name: z.string().min(1).max(100),
  principalId: z.string().min(1).max(100),
  roles: z.array(z.enum(API_ROLES)).min(1).max(API_ROLES.length),
});
const tokenParams = z.strictObject({ tokenId: z.string().min(1).max(64) });
const revokeBody = z.strictObject({ reason: z.string().min(1).max(2_000) });
const listQuery = z.strictObject({
  includeRevoked: z.enum(["true", "false"]).optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
});

export function tokenRoutes({ tokens }: Pick<ServerServices, "tokens">): RouteSpec[] {
  return [
    route<undefined, undefined, z.infer<typeof issueBody>>({
      method: "POST",
      url: "/v1/tokens",
      operationId: "issueToken",
      summary: "Issues an API token with roles; its text is in this answer only.",
      tag: "tokens",
      access: ["admin"],
      body: issueBody,
      rateClass: "control",
      responses: { 201: "The token's text (shown once) and its record." },
      handle: async ({ body, caller }) => {
        const issued = await tokens.issue({ ...body, actor: caller!.principalId });
        if (!issued.ok) throw ApiError.refusal(issued.code, issued.message);
        return { status: 201, body: { token: issued.token, record: tokenView(issued.record) } };
      },
    }),
    route<undefined, z.infer<typeof listQuery>, undefined>({
      method: "GET",
      url: "/v1/tokens",
      operationId: "listTokens",
      summary: "The tokens, newest first, without secrets.",
      tag: "tokens",
      access: ["admin", "auditor"],
      query: listQuery,
      rateClass: "control",
      responses: { 200: "{tokens: [...]}" },
      handle: async ({ query }) => {
        const records = await tokens.list({
          includeRevoked: query.includeRevoked === "true",
          limit: query.limit ?? 100,
        });
        return { body: { tokens: records.map(tokenView) } };
      },
    }),
    route({
      method: "GET",
      url: "/v1/tokens/self",
      operationId: "showOwnToken",
      summary: "The calling token's own record: who it acts for and its roles.",
      tag: "tokens",
      access: [...API_ROLES],
      rateClass: "control",
      responses: { 200: "The record." },
      handle: async ({ caller }) => {
        const own = await tokens.find(caller!.tokenId);
        if (own === undefined) throw ApiError.of("not_found", "the calling token is not stored");
        return { body: tokenView(own) };
      },
    }),
    route<{ tokenId: string }, undefined, z.infer<typeof revokeBody>>({
      method: "POST",
      url: "/v1/tokens/:tokenId/revoke",
      operationId: "revokeToken",
      summary: "Revokes a token for good; this server refuses it at once, others within a second.",
      tag: "tokens",
      access: ["admin"],
      params: tokenParams,
      body: revokeBody,
      rateClass: "control",
      responses: { 200: "The revoked record." },
      handle: async ({ params, body, caller }) => {
        const revoked = await tokens.revoke({
          id: params.tokenId,
          actor: caller!.principalId,
          reason: body.reason,
        });
        if (!revoked.ok) throw ApiError.refusal(revoked.code, revoked.message);
        return { body: tokenView(revoked.record) };
      },
    }),
  ];
}
