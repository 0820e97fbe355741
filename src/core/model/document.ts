/**
 * Validation of one configuration document (a template, campaign, program, envelope or external
 * campaign registration) into
 * findings. Every problem is reported at once, each with its path and code; nothing throws.
 */
import type { z } from "zod";
import type { FindingCode, FindingSeverity } from "../findings.ts";
import { offerKindOf } from "../offers/registry.ts";
import { CASH_EQUIVALENT_SCENARIOS } from "../scenario.ts";
import { type Campaign, campaignSchema } from "./campaign.ts";
import { type Envelope, envelopeSchema } from "./envelope.ts";
import {
  type ExternalCampaignDocument,
  externalCampaignDocumentSchema,
} from "./external-campaign.ts";
import { findingOf } from "./fields.ts";
import { checkFunding } from "./funding.ts";
import { type Program, programSchema } from "./program.ts";
import { checkSchedule } from "./schedule.ts";
import { SCOPE_LIST_FIELDS } from "./scope.ts";
import { type Template, templateSchema } from "./template.ts";

export const DOCUMENT_SCHEMAS = {
  template: templateSchema,
  campaign: campaignSchema,
  program: programSchema,
  envelope: envelopeSchema,
  "external-campaign": externalCampaignDocumentSchema,
} as const;

export type DocumentKind = keyof typeof DOCUMENT_SCHEMAS;
export const DOCUMENT_KINDS = Object.keys(DOCUMENT_SCHEMAS) as DocumentKind[];

export type ConfigDocument = Template | Campaign | Program | Envelope | ExternalCampaignDocument;

/** A finding before it is tied to a file: path segments instead of a rendered path. */
export interface DocumentIssue {
  readonly path: readonly (string | number)[];
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
}

export type DocumentResult =
  | {
      readonly ok: true;
      readonly document: ConfigDocument;
      readonly issues: readonly DocumentIssue[];
    }
  | { readonly ok: false; readonly issues: readonly DocumentIssue[] };

/** A field whose absence deserves a code of its own, because it is a known way to lose money. */
const MISSING_FIELD_CODES: Readonly<Record<string, FindingCode>> = {
  capMinor: "offer.cap_missing",
  timeZone: "schedule.missing_time_zone",
};

function isDocumentKind(value: unknown): value is DocumentKind {
  return typeof value === "string" && Object.hasOwn(DOCUMENT_SCHEMAS, value);
}

export function validateDocument(raw: unknown): DocumentResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return failed([
      {
        path: [],
        code: "file.not_an_object",
        severity: "error",
        message: `expected a mapping of fields, got ${describe(raw)}`,
      },
    ]);
  }
  const kind = (raw as { kind?: unknown }).kind;
  if (!isDocumentKind(kind)) {
    return failed([
      {
        path: ["kind"],
        code: "file.unknown_kind",
        severity: "error",
        message: `expected kind to be one of ${DOCUMENT_KINDS.join(", ")}, got ${describe(kind)}`,
      },
    ]);
  }
  const parsed = DOCUMENT_SCHEMAS[kind].safeParse(raw, { reportInput: true });
  if (!parsed.success) return failed(parsed.error.issues.flatMap(issueToDocumentIssues));
  const document = parsed.data as ConfigDocument;
  const issues = checkDocument(document);
  return issues.some((issue) => issue.severity === "error")
    ? failed(issues)
    : { ok: true, document, issues };
}

function failed(issues: DocumentIssue[]): DocumentResult {
  return { ok: false, issues };
}

const error = (
  path: readonly (string | number)[],
  code: FindingCode,
  message: string,
): DocumentIssue => ({
  path,
  code,
  severity: "error",
  message,
});

/** Checks that span fields, run once the schema has accepted the document. */
function checkDocument(document: ConfigDocument): DocumentIssue[] {
  switch (document.kind) {
    case "template":
      return checkTemplate(document);
    case "campaign":
      return checkCampaign(document);
    case "program":
      return checkSchedule(document.validity).map((problem) =>
        error(["validity", ...problem.path], problem.code, problem.message),
      );
    case "envelope":
      return checkEnvelope(document);
    case "external-campaign":
      // Guard mode's registration checks its own fields; the protected scenarios are lint's.
      return [];
  }
}

function checkTemplate(template: Template): DocumentIssue[] {
  const kind = offerKindOf(template.offer);
  const issues: DocumentIssue[] = kind
    .check(template.offer)
    .map((problem) => error(["offer", ...problem.path], problem.code, problem.message));
  for (const [param, band] of Object.entries(template.bands ?? {})) {
    if (!(kind.bandableParams as readonly string[]).includes(param)) {
      const allowed = kind.bandableParams.length > 0 ? kind.bandableParams.join(", ") : "none";
      issues.push(
        error(
          ["bands", param],
          "band.param_not_in_kind",
          `a ${template.offer.kind} offer has no bandable parameter "${param}"; bandable: ${allowed}`,
        ),
      );
      continue;
    }
    if (band.min > band.max) {
      issues.push(
        error(["bands", param], "band.inverted", `band min ${band.min} is above max ${band.max}`),
      );
      continue;
    }
    const value = (template.offer as Record<string, unknown>)[param];
    if (typeof value === "number" && (value < band.min || value > band.max)) {
      issues.push(
        error(
          ["offer", param],
          "band.default_outside",
          `${param} ${value} lies outside its band ${band.min}..${band.max}`,
        ),
      );
    }
  }
  issues.push(
    ...checkFunding(template.funding, template.label).map((problem) =>
      error(["funding", ...problem.path], problem.code, problem.message),
    ),
  );
  if (template.allowedScenarios.length === 0) {
    issues.push(matchesNothing(["allowedScenarios"]));
  }
  return issues;
}

function checkCampaign(campaign: Campaign): DocumentIssue[] {
  const issues: DocumentIssue[] = checkSchedule(campaign.schedule).map((problem) =>
    error(["schedule", ...problem.path], problem.code, problem.message),
  );
  if (campaign.funding !== undefined) {
    issues.push(
      ...checkFunding(campaign.funding).map((problem) =>
        error(["funding", ...problem.path], problem.code, problem.message),
      ),
    );
  }
  for (const field of SCOPE_LIST_FIELDS) {
    if (campaign.scope[field]?.length === 0) issues.push(matchesNothing(["scope", field]));
  }
  const range = campaign.scope.amountRange;
  if (
    range?.minMinor !== undefined &&
    range.maxMinor !== undefined &&
    range.minMinor > range.maxMinor
  ) {
    issues.push(
      error(
        ["scope", "amountRange"],
        "amount_range.inverted",
        `minMinor ${range.minMinor} is above maxMinor ${range.maxMinor}`,
      ),
    );
  }
  return issues;
}

function checkEnvelope(envelope: Envelope): DocumentIssue[] {
  const issues: DocumentIssue[] = [];
  for (const scenario of CASH_EQUIVALENT_SCENARIOS) {
    if (!envelope.protectedScenarios.includes(scenario)) {
      issues.push(
        error(
          ["protectedScenarios"],
          "envelope.protected_scenario_missing",
          `${scenario} is cash-equivalent and must stay protected`,
        ),
      );
    }
  }
  const seen = new Set<string>();
  envelope.currencies.forEach((bounds, index) => {
    if (seen.has(bounds.currency)) {
      issues.push(
        error(
          ["currencies", index, "currency"],
          "ref.duplicate_id",
          `currency ${bounds.currency} has bounds twice`,
        ),
      );
    }
    seen.add(bounds.currency);
  });
  return issues;
}

function matchesNothing(path: readonly (string | number)[]): DocumentIssue {
  return {
    path,
    code: "scope.matches_nothing",
    severity: "warning",
    message:
      "an empty list matches nothing: the campaign can never apply here (remove the field to not narrow by it)",
  };
}

/** Maps one Zod issue onto the finding catalog. */
export function issueToDocumentIssues(issue: z.core.$ZodIssue): DocumentIssue[] {
  const path = issue.path.map((segment) =>
    typeof segment === "symbol" ? String(segment) : segment,
  );
  const own = findingOf(issue);
  if (own !== undefined) return [error(path, own, issue.message)];
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "invalid_type": {
      if (input === undefined) return [missingField(path)];
      if (issue.expected === "int" && typeof input === "number") {
        return [error(path, "number.not_integer", `expected a whole number, got ${input}`)];
      }
      return [
        error(path, "schema.invalid_type", `expected ${issue.expected}, got ${describe(input)}`),
      ];
    }
    case "unrecognized_keys":
      return issue.keys.map((key) =>
        error(
          [...path, key],
          "schema.unknown_field",
          `unknown field "${key}"; check its spelling against the schema`,
        ),
      );
    case "invalid_value":
      if (input === undefined) return [missingField(path)];
      return [
        error(
          path,
          "schema.invalid_value",
          `expected one of ${issue.values.map((value) => JSON.stringify(value)).join(", ")}, got ${describe(input)}`,
        ),
      ];
    case "invalid_union":
      if ("discriminator" in issue && issue.discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        return [
          error(
            path,
            "schema.unknown_variant",
            `expected ${issue.discriminator} to be one of ${options.join(", ")}`,
          ),
        ];
      }
      return [error(path, "schema.invalid_value", issue.message)];
    case "invalid_format":
      return [error(path, "schema.invalid_format", `${issue.message}, got ${describe(input)}`)];
    case "too_small":
      return [
        tooSmallOrBig(path, issue.origin, "schema.too_short", `at least ${issue.minimum}`, input),
      ];
    case "too_big":
      return [
        tooSmallOrBig(path, issue.origin, "schema.too_long", `at most ${issue.maximum}`, input),
      ];
    default:
      return [error(path, "schema.invalid_value", issue.message)];
  }
}

function missingField(path: readonly (string | number)[]): DocumentIssue {
  const field = String(path.at(-1) ?? "");
  const code = MISSING_FIELD_CODES[field] ?? "schema.missing_field";
  return error(path, code, `required field "${field}" is missing`);
}

function tooSmallOrBig(
  path: readonly (string | number)[],
  origin: string,
  code: FindingCode,
  bound: string,
  input: unknown,
): DocumentIssue {
  if (origin === "number" || origin === "int" || origin === "bigint") {
    return error(path, "number.out_of_range", `expected ${bound}, got ${describe(input)}`);
  }
  const unit = origin === "string" ? "characters" : "items";
  const size = Array.isArray(input)
    ? input.length
    : typeof input === "string"
      ? input.length
      : undefined;
  return error(path, code, `expected ${bound} ${unit}${size === undefined ? "" : `, got ${size}`}`);
}

/** A short, safe rendering of a value for messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  const text = typeof value === "string" ? JSON.stringify(value) : String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
