/**
 * `POST /v1/lint`: what the change pipeline would find in some edits, without creating a change —
 * the console's editor shows validation issues and lint findings beside the fields they concern as
 * the author types (docs/reference/console.md). Read-only: it reads the active documents and
 * writes nothing, not even an audit entry.
 *
 * A document here is not refused by the request's schema: a half-typed one is the normal case, so
 * its problems come back as findings with their paths (`validateDocument`, as a file gets), and
 * lint runs once every document validates — with the same rules as a submission
 * (`lintAndSimulate`, over no payments: the money is the submission's, not the keystroke's).
 */
import { z } from "zod";
import { lintAndSimulate } from "../control/assess-proposal.ts";
import { applyEdits, type ChangeService } from "../control/change-service.ts";
import type { ApiRole } from "../core/access/api-roles.ts";
import { type ChangeEdit, VERSION_LIMITS } from "../core/change/document-versions.ts";
import { DOCUMENT_KINDS, validateDocument } from "../core/model/document.ts";
import { typicalAmountsFromTrafficModel } from "../traffic/typical-amounts.ts";
import { type RouteSpec, route } from "./route.ts";

/** Who may read the configuration may ask what a draft of it would raise. */
const READERS: readonly ApiRole[] = ["author", "reviewer", "operator", "auditor", "admin"];

/** A draft of many documents is still well under a change's own body limit. */
const LINT_BODY_LIMIT_BYTES = 1024 * 1024;

const documentKey = z
  .string()
  .max(80)
  .regex(new RegExp(`^(${DOCUMENT_KINDS.join("|")})/[a-z0-9][a-z0-9-]*$`), "expected kind/id");

const lintBody = z.strictObject({
  edits: z
    .array(
      z.discriminatedUnion("op", [
        z.strictObject({
          op: z.literal("put"),
          document: z
            .record(z.string(), z.unknown())
            .meta({ description: "A document as a file holds it, complete or not." }),
        }),
        z.strictObject({ op: z.literal("retire"), key: documentKey }),
      ]),
    )
    .min(1)
    .max(VERSION_LIMITS.editsPerChangeMax),
});

export interface LintFindingAnswer {
  readonly key: string;
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  /** `kind/id` of the document, or `edits.N` when it names none. */
  readonly source: string;
  /** The field's path inside the document, dotted (`limits.totalBudgetMinor`); "" for the whole. */
  readonly path: string;
}

export interface LintRouteDependencies {
  readonly changes: Pick<ChangeService, "activeDocuments">;
  readonly nowMs: () => number;
}

function sourceOf(document: Record<string, unknown>, index: number): string {
  const { kind, id } = document;
  return typeof kind === "string" && typeof id === "string" && id !== ""
    ? `${kind}/${id}`
    : `edits.${index}`;
}

/** `code|source|path`, as the pipeline keys findings (acknowledgements name them so). */
function splitKey(key: string): { source: string; path: string } {
  const [, source = "", ...path] = key.split("|");
  return { source, path: path.join("|") };
}

export function consoleLintRoutes(dependencies: LintRouteDependencies): RouteSpec[] {
  // Lint only: the simulation runs over no payments, and its own findings are left out.
  const assess = lintAndSimulate({
    payments: () => [],
    sample: "none: lint only",
    currency: "CNY",
    typicalAmountsMinor: typicalAmountsFromTrafficModel(),
    randomSeed: 0,
    nowMs: dependencies.nowMs,
  });
  return [
    route<undefined, undefined, z.infer<typeof lintBody>>({
      method: "POST",
      url: "/v1/lint",
      operationId: "lintEdits",
      summary:
        "What validation and lint would find in these edits against the active configuration, without creating a change request or writing anything.",
      tag: "changes",
      access: READERS,
      body: lintBody,
      bodyLimitBytes: LINT_BODY_LIMIT_BYTES,
      rateClass: "control",
      responses: {
        200: "{linted, findings: [{key, code, severity, message, source, path}]}; linted is false when a document did not validate (its issues are the findings).",
      },
      handle: async ({ body }) => {
        const findings: LintFindingAnswer[] = [];
        const edits: ChangeEdit[] = [];
        body.edits.forEach((edit, index) => {
          if (edit.op === "retire") {
            edits.push(edit as ChangeEdit);
            return;
          }
          const validated = validateDocument(edit.document);
          const source = sourceOf(edit.document, index);
          for (const issue of validated.issues) {
            const path = issue.path.join(".");
            findings.push({
              key: `${issue.code}|${source}|${path}`,
              code: issue.code,
              severity: issue.severity,
              message: issue.message,
              source,
              path,
            });
          }
          if (validated.ok) edits.push({ op: "put", document: validated.document });
        });
        if (findings.some((finding) => finding.severity === "error")) {
          return { body: { linted: false, findings } };
        }
        const current = await dependencies.changes.activeDocuments();
        const assessed = await assess({ current, proposed: applyEdits(current, edits) });
        const known = new Set(findings.map((finding) => finding.key));
        for (const finding of assessed.findings) {
          if (finding.code.startsWith("simulation.") || known.has(finding.key)) continue;
          findings.push({ ...finding, ...splitKey(finding.key) });
        }
        return { body: { linted: true, findings } };
      },
    }),
  ];
}
