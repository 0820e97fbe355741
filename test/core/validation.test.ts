/**
 * One case per finding code at least: each starts from a valid document, breaks one thing and
 * expects that code at that path. The last test proves the table covers the whole catalog.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { FINDING_CODES, type FindingCode } from "../../src/core/findings.ts";
import { resolveConfig, type SourcedDocument } from "../../src/core/model/config-set.ts";
import { type ConfigDocument, validateDocument } from "../../src/core/model/document.ts";
import {
  validCampaign,
  validEnvelope,
  validExternalCampaign,
  validPercentTemplate,
  validProgram,
  validTemplate,
  withField,
} from "../support/documents.ts";

const exercised = new Set<FindingCode>();

interface DocumentCase {
  readonly code: FindingCode;
  readonly path: string;
  readonly input: unknown;
}

const governmentTemplate = {
  ...validTemplate(),
  id: "gov",
  label: "government_subsidy",
  funding: { source: "government", programId: "sh-consumption-2025" },
};

const DOCUMENT_CASES: DocumentCase[] = [
  { code: "file.not_an_object", path: "", input: [1, 2] },
  { code: "file.unknown_kind", path: "kind", input: withField(validCampaign(), "kind", "coupon") },
  {
    code: "schema.missing_field",
    path: "name",
    input: withField(validCampaign(), "name", undefined),
  },
  {
    code: "schema.unknown_field",
    path: "colour",
    input: withField(validCampaign(), "colour", "red"),
  },
  {
    code: "schema.unknown_field",
    path: "limits.totalBudget",
    input: withField(validCampaign(), "limits.totalBudget", 5),
  },
  { code: "schema.invalid_type", path: "name", input: withField(validCampaign(), "name", 5) },
  {
    code: "schema.invalid_type",
    path: "limits.totalBudgetMinor",
    input: withField(validCampaign(), "limits.totalBudgetMinor", "1000"),
  },
  {
    code: "schema.invalid_value",
    path: "scope.channels[0]",
    input: withField(validCampaign(), "scope.channels", ["tv"]),
  },
  { code: "schema.invalid_format", path: "id", input: withField(validCampaign(), "id", "Bad_ID") },
  {
    code: "schema.too_short",
    path: "display.title",
    input: withField(validCampaign(), "display.title", ""),
  },
  {
    code: "schema.too_long",
    path: "display.title",
    input: withField(validCampaign(), "display.title", "x".repeat(41)),
  },
  {
    code: "schema.unknown_variant",
    path: "offer.kind",
    input: withField(validTemplate(), "offer", { kind: "bogo", amountMinor: 1 }),
  },
  {
    code: "number.not_integer",
    path: "stacking.priority",
    input: withField(validCampaign(), "stacking.priority", 1.5),
  },
  {
    code: "number.out_of_range",
    path: "stacking.priority",
    input: withField(validCampaign(), "stacking.priority", -1),
  },
  {
    code: "money.not_integer",
    path: "limits.totalBudgetMinor",
    input: withField(validCampaign(), "limits.totalBudgetMinor", 0.5),
  },
  {
    code: "money.unsafe_integer",
    path: "limits.totalBudgetMinor",
    input: withField(validCampaign(), "limits.totalBudgetMinor", 1e20),
  },
  {
    code: "money.out_of_range",
    path: "limits.totalBudgetMinor",
    input: withField(validCampaign(), "limits.totalBudgetMinor", 0),
  },
  {
    code: "money.out_of_range",
    path: "limits.dailyBudgetMinor",
    input: withField(validCampaign(), "limits.dailyBudgetMinor", -100),
  },
  {
    code: "rate.not_integer",
    path: "offer.rateBps",
    input: withField(validPercentTemplate(), "offer.rateBps", 20.5),
  },
  {
    code: "rate.out_of_range",
    path: "offer.rateBps",
    input: withField(validPercentTemplate(), "offer.rateBps", 20_000),
  },
  {
    code: "currency.unknown",
    path: "currency",
    input: withField(validCampaign(), "currency", "RMB"),
  },
  {
    code: "scenario.unknown",
    path: "scope.scenarios[0]",
    input: withField(validCampaign(), "scope.scenarios", ["p2p"]),
  },
  {
    code: "region.unknown",
    path: "scope.regions[1]",
    input: withField(validCampaign(), "scope.regions", ["CN-SH", "CN-XX"]),
  },
  {
    code: "time_zone.unknown",
    path: "schedule.timeZone",
    input: withField(validCampaign(), "schedule.timeZone", "Asia/Beijing"),
  },
  {
    code: "schedule.missing_time_zone",
    path: "schedule.timeZone",
    input: withField(validCampaign(), "schedule.timeZone", undefined),
  },
  {
    code: "schedule.missing_time_zone",
    path: "validity.timeZone",
    input: withField(validProgram(), "validity.timeZone", undefined),
  },
  {
    code: "schedule.invalid_local_time",
    path: "schedule.start",
    input: withField(validCampaign(), "schedule.start", "2025-02-30T00:00"),
  },
  {
    code: "schedule.offset_in_local_time",
    path: "schedule.start",
    input: withField(validCampaign(), "schedule.start", "2025-01-01T00:00+08:00"),
  },
  {
    code: "schedule.end_not_after_start",
    path: "schedule.end",
    input: withField(validCampaign(), "schedule.end", "2025-01-01T00:00"),
  },
  {
    code: "schedule.end_not_after_start",
    path: "validity.end",
    input: withField(validProgram(), "validity.end", "2024-06-01T00:00"),
  },
  {
    code: "schedule.invalid_daily_window",
    path: "schedule.daily[0]",
    input: withField(validCampaign(), "schedule.daily", [{ from: "22:00", to: "02:00" }]),
  },
  {
    code: "offer.cap_missing",
    path: "offer.capMinor",
    input: withField(validPercentTemplate(), "offer", { kind: "percent", rateBps: 2000 }),
  },
  {
    code: "offer.invalid_bounds",
    path: "offer.minMinor",
    input: withField(validTemplate(), "offer", { kind: "random", minMinor: 500, maxMinor: 100 }),
  },
  {
    code: "offer.invalid_tiers",
    path: "offer.tiers[0].offMinor",
    input: {
      ...validTemplate(),
      bands: undefined,
      offer: { kind: "threshold", tiers: [{ minSpendMinor: 100, offMinor: 100 }] },
    },
  },
  {
    code: "offer.invalid_tiers",
    path: "offer.tiers[1].minSpendMinor",
    input: {
      ...validTemplate(),
      bands: undefined,
      offer: {
        kind: "threshold",
        tiers: [
          { minSpendMinor: 10_000, offMinor: 1000 },
          { minSpendMinor: 5000, offMinor: 2000 },
        ],
      },
    },
  },
  {
    code: "band.inverted",
    path: "bands.amountMinor",
    input: withField(validTemplate(), "bands", { amountMinor: { min: 200, max: 10 } }),
  },
  {
    code: "band.param_not_in_kind",
    path: "bands.rateBps",
    input: withField(validTemplate(), "bands", { rateBps: { min: 1, max: 10 } }),
  },
  {
    code: "band.default_outside",
    path: "offer.amountMinor",
    input: withField(validTemplate(), "offer.amountMinor", 500),
  },
  {
    code: "amount_range.inverted",
    path: "scope.amountRange",
    input: withField(validCampaign(), "scope.amountRange", { minMinor: 500, maxMinor: 100 }),
  },
  {
    code: "scope.matches_nothing",
    path: "scope.regions",
    input: withField(validCampaign(), "scope.regions", []),
  },
  {
    code: "scope.matches_nothing",
    path: "allowedScenarios",
    input: withField(validTemplate(), "allowedScenarios", []),
  },
  {
    code: "funding.program_required",
    path: "funding.programId",
    input: withField(governmentTemplate, "funding", { source: "government" }),
  },
  {
    code: "funding.program_not_allowed",
    path: "funding.programId",
    input: withField(validTemplate(), "funding", { source: "platform", programId: "x" }),
  },
  {
    code: "label.funding_mismatch",
    path: "funding.source",
    input: withField(validTemplate(), "label", "government_subsidy"),
  },
  {
    code: "envelope.protected_scenario_missing",
    path: "protectedScenarios",
    input: withField(validEnvelope(), "protectedScenarios", [
      "credit_card_repayment",
      "red_packet",
      "balance_topup",
      "wealth_purchase",
    ]),
  },
  {
    code: "ref.duplicate_id",
    path: "currencies[1].currency",
    input: withField(validEnvelope(), "currencies", [
      (validEnvelope().currencies as unknown[])[0],
      (validEnvelope().currencies as unknown[])[0],
    ]),
  },
];

function renderPath(path: readonly (string | number)[]): string {
  return path
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join("");
}

describe("validateDocument reports each problem with its code and path", () => {
  for (const { code, path, input } of DOCUMENT_CASES) {
    test(`${code} at ${path || "(document)"}`, () => {
      const result = validateDocument(input);
      const found = result.issues.map((issue) => `${issue.code} @ ${renderPath(issue.path)}`);
      expect(found).toContain(`${code} @ ${path}`);
      const severity = FINDING_SEVERITY_WARNING.has(code) ? "warning" : "error";
      expect(result.issues.find((issue) => issue.code === code)?.severity).toBe(severity);
      if (severity === "error") expect(result.ok).toBe(false);
      exercised.add(code);
    });
  }

  test("valid documents of every kind pass without findings", () => {
    for (const document of [
      validTemplate(),
      validPercentTemplate(),
      validCampaign(),
      validProgram(),
      validEnvelope(),
      validExternalCampaign(),
      governmentTemplate,
    ]) {
      const result = validateDocument(document);
      expect(result.issues).toEqual([]);
      expect(result.ok).toBe(true);
    }
  });

  test("reports every problem at once, not just the first", () => {
    let broken = withField(validCampaign(), "currency", "RMB");
    broken = withField(broken, "limits.totalBudgetMinor", 0.5);
    broken = withField(broken, "scope.regions", ["CN-XX"]);
    broken = withField(broken, "surprise", true);
    const codes = validateDocument(broken)
      .issues.map((issue) => issue.code)
      .sort();
    expect(codes).toEqual([
      "currency.unknown",
      "money.not_integer",
      "region.unknown",
      "schema.unknown_field",
    ]);
  });

  test("names the allowed range and the offending value, as the operator needs", () => {
    const result = validateDocument(withField(validPercentTemplate(), "offer.rateBps", 20.5));
    expect(result.issues[0]?.message).toBe(
      "expected an integer 1..10000 (basis points: 2000 = 20 %), got 20.5",
    );
  });

  test.prop([
    fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }),
  ])("never throws, whatever it is given", (input) => {
    const result = validateDocument(input);
    expect(result.ok).toBe(false);
    expect(result.issues.length).toBeGreaterThan(0);
  });

  test.prop([
    fc.constantFrom(validCampaign, validTemplate, validProgram, validEnvelope),
    fc.constantFrom(
      "name",
      "currency",
      "scope",
      "limits",
      "offer",
      "schedule",
      "funding",
      "regions",
      "currencies",
      "stacking",
    ),
    fc.anything(),
  ])("never throws when any top-level field holds anything", (make, field, value) => {
    const result = validateDocument({ ...make(), [field]: value });
    for (const issue of result.issues) expect(Object.hasOwn(FINDING_CODES, issue.code)).toBe(true);
  });
});

const FINDING_SEVERITY_WARNING = new Set<FindingCode>(["scope.matches_nothing"]);

function sourced(...documents: Record<string, unknown>[]): SourcedDocument[] {
  return documents.map((raw, index) => {
    const result = validateDocument(raw);
    if (!result.ok)
      throw new Error(`fixture ${index} is invalid: ${JSON.stringify(result.issues)}`);
    return { source: `doc-${index}`, document: result.document as ConfigDocument };
  });
}

interface SetCase {
  readonly code: FindingCode;
  readonly source: string;
  readonly path: string;
  readonly documents: () => SourcedDocument[];
}

const SET_CASES: SetCase[] = [
  {
    code: "envelope.duplicate",
    source: "doc-1",
    path: "",
    documents: () => sourced(validEnvelope(), validEnvelope()),
  },
  {
    code: "ref.duplicate_id",
    source: "doc-2",
    path: "id",
    documents: () => sourced(validTemplate(), validCampaign(), validCampaign()),
  },
  {
    code: "ref.unknown_template",
    source: "doc-0",
    path: "template",
    documents: () => sourced(validCampaign()),
  },
  {
    code: "ref.unknown_program",
    source: "doc-0",
    path: "funding.programId",
    documents: () => sourced(governmentTemplate),
  },
  {
    code: "ref.duplicate_id",
    source: "doc-1",
    path: "id",
    documents: () =>
      sourced(validExternalCampaign(), withField(validExternalCampaign(), "campaignRef", "other")),
  },
  {
    // The check and the kills know an external campaign by its id in the external engine alone.
    code: "ref.duplicate_id",
    source: "doc-1",
    path: "campaignRef",
    documents: () =>
      sourced(validExternalCampaign(), withField(validExternalCampaign(), "id", "partner-other")),
  },
  {
    code: "ref.currency_mismatch",
    source: "doc-1",
    path: "currency",
    documents: () => sourced(validTemplate(), withField(validCampaign(), "currency", "HKD")),
  },
  {
    code: "ref.scenario_not_allowed",
    source: "doc-1",
    path: "scope.scenarios[1]",
    documents: () =>
      sourced(
        validTemplate(),
        withField(validCampaign(), "scope.scenarios", ["merchant_qr", "p2p_transfer"]),
      ),
  },
  {
    code: "offer.param_not_in_kind",
    source: "doc-1",
    path: "offer.rateBps",
    documents: () =>
      sourced(validTemplate(), withField(validCampaign(), "offer", { rateBps: 2000 })),
  },
  {
    // Each side is valid alone; the override breaks the template's own bounds.
    code: "offer.invalid_bounds",
    source: "doc-1",
    path: "offer.minMinor",
    documents: () =>
      sourced(
        {
          ...validTemplate(),
          id: "lucky",
          bands: undefined,
          offer: { kind: "random", minMinor: 10, maxMinor: 500 },
        },
        { ...validCampaign(), template: "lucky", offer: { minMinor: 600 } },
      ),
  },
  {
    code: "label.funding_mismatch",
    source: "doc-1",
    path: "funding.source",
    documents: () =>
      sourced(
        validTemplate(),
        withField(validCampaign(), "funding", {
          source: "government",
          programId: "sh-consumption-2025",
        }),
      ),
  },
];

describe("resolveConfig checks documents against each other", () => {
  for (const { code, source, path, documents } of SET_CASES) {
    test(`${code} at ${source} ${path || "(document)"}`, () => {
      const { issues } = resolveConfig(documents());
      const found = issues.map(
        ({ source: from, issue }) => `${issue.code} @ ${from} ${renderPath(issue.path)}`,
      );
      expect(found).toContain(`${code} @ ${source} ${path}`);
      exercised.add(code);
    });
  }

  test("serves external campaign registrations by campaignRef, their sources by id", () => {
    const { config, issues } = resolveConfig(sourced(validExternalCampaign()));
    expect(issues).toEqual([]);
    expect(config.externalCampaigns?.get("lunch-2025")).toMatchObject({
      id: "partner-lunch",
      scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
    });
    expect(config.sources?.externalCampaigns?.get("partner-lunch")).toBe("doc-0");
  });

  test("joins a campaign with its template: overrides win, the rest is inherited", () => {
    const { config, issues } = resolveConfig(
      sourced(validTemplate(), validCampaign(), validProgram(), validEnvelope()),
    );
    expect(issues).toEqual([]);
    const [effective] = config.campaigns;
    expect(effective?.offer).toEqual({ kind: "fixed", amountMinor: 80 });
    expect(effective?.funding).toEqual({ source: "platform" });
    expect(effective?.label).toBe("instant_discount");
    expect(effective?.scenarios).toEqual(["merchant_qr", "online_checkout"]);
    expect(config.envelope?.id).toBe("platform");
  });

  test("a government template resolves its program for the campaign", () => {
    const { config, issues } = resolveConfig(
      sourced(governmentTemplate, validProgram(), {
        ...validCampaign(),
        template: "gov",
        scope: { regions: ["CN-SH"] },
      }),
    );
    expect(issues).toEqual([]);
    expect(config.campaigns[0]?.program?.id).toBe("sh-consumption-2025");
  });
});

// Codes that other suites exercise, each named with the suite that does.
const EXERCISED_ELSEWHERE: Partial<Record<FindingCode, string>> = {
  "file.unreadable": "test/config/load-config.test.ts",
  "file.too_large": "test/config/load-config.test.ts",
  "file.unsupported_extension": "test/config/load-config.test.ts",
  "file.parse_error": "test/config/load-config.test.ts",
  "directory.too_many_files": "test/config/load-config.test.ts",
  "payment.invalid_json": "test/traffic (the NDJSON reader)",
  "payment.line_too_long": "test/traffic (the NDJSON reader)",
};

// Tests in a file run in order, so this one sees every case above.
test("every code in the catalog is produced by some test", () => {
  const missing = Object.keys(FINDING_CODES).filter(
    (code) => !exercised.has(code as FindingCode) && !(code in EXERCISED_ELSEWHERE),
  );
  expect(missing).toEqual([]);
});
