/**
 * Templates in the console (console/src/data/template-draft.ts, change-review.ts): the list's rows
 * with the campaigns each template reaches, the editor's fields as paths findings name, and the
 * change review's reach of a template edit — every campaign it changes, through the template or
 * by its own document.
 */
import { describe, expect, test } from "vitest";
import { parsedValue, placeFindings, withValue } from "../../console/src/data/campaign-draft.ts";
import { type ChangeRequestView, templateReach } from "../../console/src/data/change-review.ts";
import {
  offerSummary,
  TEMPLATE_FIELDS,
  templateRows,
} from "../../console/src/data/template-draft.ts";
import { validTemplate } from "../support/documents.ts";

/** The routine instant-discount template, as the documents API answers it. */
const TEMPLATE = validTemplate() as { kind: string; id: string } & Record<string, unknown>;

describe("the templates list", () => {
  test("each template with the campaigns that use it, sorted; other kinds ignored", () => {
    const rows = templateRows([
      { kind: "campaign", id: "b-campaign", template: "instant-discount" },
      TEMPLATE,
      { kind: "campaign", id: "a-campaign", template: "instant-discount" },
      { kind: "campaign", id: "c-campaign", template: "gov" },
      {
        kind: "template",
        id: "gov",
        name: "Government",
        currency: "CNY",
        offer: { kind: "percent", rateBps: 1500, capMinor: 2000 },
        funding: { source: "government", programId: "sh-2025" },
        label: "government_subsidy",
        allowedScenarios: ["merchant_qr"],
      },
      { kind: "template", id: "unused", name: "Unused", offer: { kind: "fixed", amountMinor: 1 } },
      { kind: "envelope", id: "envelope" },
    ]);
    expect(rows.map((row) => [row.id, row.campaignIds])).toEqual([
      ["gov", ["c-campaign"]],
      ["instant-discount", ["a-campaign", "b-campaign"]],
      ["unused", []],
    ]);
    expect(rows[0]).toMatchObject({
      offer: "percent rateBps 1500 capMinor 2000",
      funding: "government (sh-2025)",
      label: "government_subsidy",
    });
    expect(rows[1]).toMatchObject({ offer: "fixed amountMinor 50", funding: "platform" });
    expect(rows[2]).toMatchObject({ funding: "—", allowedScenarios: [] });
  });

  test("an offer read shortly, whatever its kind", () => {
    expect(offerSummary({ kind: "fixed", amountMinor: 50 })).toBe("fixed amountMinor 50");
    expect(offerSummary({ kind: "threshold", tiers: [{ atLeastMinor: 1 }] })).toBe("threshold");
    expect(offerSummary(undefined)).toBe("—");
  });
});

describe("the template editor", () => {
  test("its fields are paths into the template, edited as the campaign editor's are", () => {
    const amount = TEMPLATE_FIELDS.find((field) => field.path === "offer.amountMinor")!;
    const scenarios = TEMPLATE_FIELDS.find((field) => field.path === "allowedScenarios")!;
    const bandMax = TEMPLATE_FIELDS.find((field) => field.path === "bands.amountMinor.max")!;
    let draft: Record<string, unknown> = TEMPLATE;
    draft = withValue(draft, amount.path, parsedValue(amount, "80"));
    draft = withValue(draft, scenarios.path, parsedValue(scenarios, "merchant_qr, rent"));
    draft = withValue(draft, bandMax.path, parsedValue(bandMax, "3 yuan"));
    expect(draft.offer).toEqual({ kind: "fixed", amountMinor: 80 });
    expect(draft.allowedScenarios).toEqual(["merchant_qr", "rent"]);
    // Typed words go as typed, for validation to name the field.
    expect(draft.bands).toEqual({ amountMinor: { min: 10, max: "3 yuan" } });
    expect(TEMPLATE.offer).toEqual({ kind: "fixed", amountMinor: 50 });
  });

  test("a finding on the offer is placed beside each offer field; one on the funding beside its fields", () => {
    const finding = (path: string, source = "template/instant-discount") => ({
      key: `code|${source}|${path}`,
      code: "lint.template_edit_changes_amount",
      severity: "warning" as const,
      message: "changes the offer amounts for 8 active campaigns",
      source,
      path,
    });
    const placed = placeFindings(
      [finding("offer"), finding("funding.programId"), finding("offer", "campaign/x")],
      "template/instant-discount",
      TEMPLATE_FIELDS,
    );
    expect([...placed.byField.keys()].sort()).toEqual([
      "funding.programId",
      "offer.amountMinor",
      "offer.capMinor",
      "offer.kind",
      "offer.rateBps",
    ]);
    expect(placed.others.map((other) => other.source)).toEqual(["campaign/x"]);
  });
});

type Diff = NonNullable<ChangeRequestView["assessment"]>["diff"];

function campaignEffect(campaignId: string, inherited: boolean) {
  return {
    campaignId,
    operation: "change",
    fields: [
      { field: "offer", before: { amountMinor: 50 }, after: { amountMinor: 80 }, inherited },
    ],
  };
}

describe("a template edit's reach in the review", () => {
  test("every campaign it changes, through the template or by its own document", () => {
    const diff: Diff = {
      documents: [
        { key: "template/instant-discount", operation: "update", fields: [] },
        { key: "campaign/own", operation: "update", fields: [] },
      ],
      campaigns: [
        campaignEffect("zeta", true),
        campaignEffect("own", false),
        campaignEffect("alpha", true),
      ],
    };
    expect(templateReach(diff)).toEqual({
      templateIds: ["instant-discount"],
      throughTemplates: ["alpha", "zeta"],
      direct: ["own"],
    });
  });

  test("a change that edits no template has no reach to show", () => {
    const diff: Diff = {
      documents: [{ key: "campaign/own", operation: "update", fields: [] }],
      campaigns: [campaignEffect("own", false)],
    };
    expect(templateReach(diff)).toBeUndefined();
  });

  test("a template edit that changes no campaign says so (empty lists, not undefined)", () => {
    const diff: Diff = {
      documents: [{ key: "template/unused", operation: "update", fields: [] }],
      campaigns: [],
    };
    expect(templateReach(diff)).toEqual({
      templateIds: ["unused"],
      throughTemplates: [],
      direct: [],
    });
  });
});
