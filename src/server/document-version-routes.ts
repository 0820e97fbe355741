/**
 * A document's versions over HTTP (docs/reference/http-api.md, "Document versions"): the list,
 * newest first and paged, each with the change that wrote it, when, and where it stands now; and
 * one version with its content. Read-only, for the change pipeline's readers, as the documents
 * are. `GET /v1/documents` answers the latest versions only; the console's campaign page lists
 * a campaign's history from here.
 */
import { z } from "zod";
import {
  type DocumentHistory,
  VERSION_PAGE_DEFAULT,
  VERSION_PAGE_MAX,
} from "../control/document-history.ts";
import type { ApiRole } from "../core/access/api-roles.ts";
import type { DocumentKey } from "../core/change/document-versions.ts";
import { DOCUMENT_KINDS, type DocumentKind } from "../core/model/document.ts";
import { identifier } from "../core/model/fields.ts";
import { ApiError } from "./api-errors.ts";
import { type RouteSpec, route } from "./route.ts";

/** Who reads the documents reads their history: the change pipeline's readers. */
const READERS: readonly ApiRole[] = ["author", "reviewer", "operator", "auditor", "admin"];

const versionNumber = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

const documentParams = z.strictObject({
  kind: z.enum(DOCUMENT_KINDS as [DocumentKind, ...DocumentKind[]]),
  id: identifier,
});
const versionParams = documentParams.extend({
  version: versionNumber.meta({ description: "The version's number, 1 for the first." }),
});
const historyQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(VERSION_PAGE_MAX)
    .optional()
    .meta({
      description: `Versions in the page, 1–${VERSION_PAGE_MAX} (${VERSION_PAGE_DEFAULT}).`,
    }),
  beforeVersion: versionNumber.optional().meta({
    description: "Only versions below this one: the previous page's nextBeforeVersion.",
  }),
});

export interface DocumentVersionDependencies {
  readonly history: Pick<DocumentHistory, "page" | "version">;
}

export function documentVersionRoutes({ history }: DocumentVersionDependencies): RouteSpec[] {
  return [
    route<z.infer<typeof documentParams>, z.infer<typeof historyQuery>, undefined>({
      method: "GET",
      url: "/v1/documents/:kind/:id/versions",
      operationId: "listDocumentVersions",
      summary:
        "A document's versions, newest first: each with its state (active, rolling_out, retired, rolled_back, superseded), when it was written and reached every payer, and the change that wrote it.",
      tag: "documents",
      access: READERS,
      params: documentParams,
      query: historyQuery,
      rateClass: "control",
      responses: {
        200: "{key, latestVersion, versions: [...], nextBeforeVersion}; a retired document's too.",
      },
      handle: async ({ params, query }) => {
        const key: DocumentKey = `${params.kind}/${params.id}`;
        const page = await history.page(key, {
          limit: query.limit ?? VERSION_PAGE_DEFAULT,
          ...(query.beforeVersion === undefined ? {} : { beforeVersion: query.beforeVersion }),
        });
        if (page === undefined) throw ApiError.of("not_found", `${key} was never written`);
        return { body: page };
      },
    }),
    route<z.infer<typeof versionParams>, undefined, undefined>({
      method: "GET",
      url: "/v1/documents/:kind/:id/versions/:version",
      operationId: "showDocumentVersion",
      summary: "One version of a document: its entry in the history and its content.",
      tag: "documents",
      access: READERS,
      params: versionParams,
      rateClass: "control",
      responses: {
        200: "The version's entry with `document`, as a file held it (null when it retires the document).",
      },
      handle: async ({ params }) => {
        const key: DocumentKey = `${params.kind}/${params.id}`;
        const found = await history.version(key, params.version);
        if (found === undefined)
          throw ApiError.of("not_found", `${key} has no version ${params.version}`);
        return { body: found };
      },
    }),
  ];
}
