/**
 * Findings: every problem validation (and later lint) reports, as data. Codes form a closed
 * catalog; each is documented in docs/reference/finding-codes.md, which a test keeps complete.
 * Codes are never renamed: tools and other teams' CI match on them.
 */

export const FINDING_CODES = {
  "file.unreadable": "The file could not be read.",
  "file.too_large": "The file is larger than the configuration file size limit.",
  "file.unsupported_extension": "Only .yaml, .yml and .json files hold configuration.",
  "file.parse_error": "The file is not well-formed YAML or JSON.",
  "file.not_an_object": "The document is not a mapping of fields.",
  "file.unknown_kind":
    "The document's `kind` is missing or not template, campaign, program or envelope.",
  "directory.too_many_files": "More configuration files than the per-run limit.",
  "schema.missing_field": "A required field is absent.",
  "schema.unknown_field": "A field the schema does not define; misspelt fields are never ignored.",
  "schema.invalid_type": "A field holds the wrong type of value.",
  "schema.invalid_value": "A field holds a value outside its allowed set.",
  "schema.invalid_format": "A text field does not match its required format.",
  "schema.too_short": "A list or text is shorter than its minimum.",
  "schema.too_long": "A list or text is longer than its limit.",
  "schema.unknown_variant": "A tagged field (such as an offer's `kind`) names no known variant.",
  "number.not_integer": "A count or priority is not a whole number.",
  "number.out_of_range": "A count or priority lies outside its allowed range.",
  "money.not_integer": "An amount is not a whole number of minor units (fen, cents).",
  "money.unsafe_integer": "An amount is beyond the largest amount a field may hold.",
  "money.out_of_range": "An amount lies outside its allowed range.",
  "rate.not_integer": "A rate is not a whole number of basis points.",
  "rate.out_of_range": "A rate lies outside its allowed range of basis points.",
  "currency.unknown": "The currency is not a supported ISO 4217 code.",
  "scenario.unknown": "The scenario is not one of the defined payment scenarios.",
  "region.unknown": "The region is not one of the defined ISO 3166-2 regions.",
  "time_zone.unknown": "The time zone is not a known IANA time zone name.",
  "schedule.missing_time_zone": "A schedule or validity period has no explicit IANA time zone.",
  "schedule.invalid_local_time": "A local time is not written as YYYY-MM-DDTHH:mm[:ss].",
  "schedule.offset_in_local_time":
    "A local time carries a UTC offset; the time zone field says where it is.",
  "schedule.end_not_after_start": "A period ends at or before it starts.",
  "schedule.invalid_daily_window": "A daily window does not start before it ends.",
  "offer.cap_missing": "A percent offer has no per-payment cap.",
  "offer.invalid_bounds": "A random offer's bounds are out of order.",
  "offer.invalid_tiers":
    "Threshold tiers are not strictly ascending or give more than they require.",
  "offer.param_not_in_kind":
    "A campaign overrides a parameter its template's offer kind does not have.",
  "band.inverted": "A parameter band's minimum is above its maximum.",
  "band.param_not_in_kind": "A template bands a parameter its offer kind does not have.",
  "band.default_outside": "A template's own offer parameter lies outside its band.",
  "amount_range.inverted": "A scope's minimum amount is above its maximum.",
  "scope.matches_nothing": "An explicitly empty scope list: the campaign can never apply.",
  "funding.program_required": "Government funding without a subsidy program.",
  "funding.program_not_allowed": "A subsidy program named for funding that is not government.",
  "label.funding_mismatch": "The display label claims a funder the funding source is not.",
  "envelope.protected_scenario_missing":
    "The envelope leaves a cash-equivalent scenario unprotected.",
  "envelope.duplicate": "More than one envelope among the validated files.",
  "ref.duplicate_id": "Two documents of the same kind share an id.",
  "ref.unknown_template": "A campaign names a template that is not among the validated files.",
  "ref.unknown_program": "Funding names a subsidy program that is not among the validated files.",
  "ref.currency_mismatch": "A campaign, its template or its program disagree on currency.",
  "ref.scenario_not_allowed": "A campaign scopes a scenario its template does not allow.",
  "payment.invalid_json": "A traffic line is not a JSON object.",
  "payment.line_too_long": "A traffic line is longer than the line length limit.",
} as const;

export type FindingCode = keyof typeof FINDING_CODES;

export type FindingSeverity = "error" | "warning";

export interface Finding {
  /** The file the finding is about, as the user named it; absent for in-memory input. */
  readonly file?: string;
  /** Dotted path to the field inside the document, e.g. `offer.rateBps`; "" for the whole document. */
  readonly path: string;
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  readonly message: string;
  /** 1-based line and column of the field in the file, when the parser knows them. */
  readonly line?: number;
  readonly column?: number;
}

/** Renders a path array the way findings show it: `scope.regions[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else text += text === "" ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

/** One line per finding, for people: `campaigns/coffee.yaml:12:5 offer.rateBps: ... [rate.not_integer]`. */
export function formatFinding(finding: Finding): string {
  let place = finding.file ?? "";
  if (finding.file !== undefined && finding.line !== undefined) {
    place += `:${finding.line}`;
    if (finding.column !== undefined) place += `:${finding.column}`;
  }
  const where = [place, finding.path].filter((part) => part !== "").join(" ");
  const prefix = where === "" ? "" : `${where}: `;
  return `${prefix}${finding.severity}: ${finding.message} [${finding.code}]`;
}

export function countBySeverity(findings: readonly Finding[]): {
  errors: number;
  warnings: number;
} {
  let errors = 0;
  for (const finding of findings) if (finding.severity === "error") errors += 1;
  return { errors, warnings: findings.length - errors };
}
