/**
 * The campaign editor's draft (console/src/data/campaign-draft.ts): typed text into the document
 * (numbers when they read as one, the text otherwise so validation names it, nothing when empty),
 * and each finding of POST /v1/lint placed beside its field.
 */
import { describe, expect, test } from "vitest";
import {
  CAMPAIGN_FIELDS,
  type DraftField,
  fieldText,
  type PlacedFinding,
  parsedValue,
  placeFindings,
  valueAt,
  withValue,
} from "../../console/src/data/campaign-draft.ts";
import { parseRoute } from "../../console/src/data/route.ts";

const field = (path: string): DraftField => {
  const found = CAMPAIGN_FIELDS.find((candidate) => candidate.path === path);
  if (found === undefined) throw new Error(path);
  return found;
};

describe("typed text into the draft", () => {
  test("numbers when they read as whole numbers, the text otherwise, nothing when emptied", () => {
    const budget = field("limits.totalBudgetMinor");
    expect(parsedValue(budget, " 3000000 ")).toBe(3_000_000);
    expect(parsedValue(budget, "30,000.00")).toBe("30,000.00");
    expect(parsedValue(budget, "")).toBeUndefined();
    expect(parsedValue(field("scope.regions"), "CN-SH, CN-BJ  CN-TJ")).toEqual([
      "CN-SH",
      "CN-BJ",
      "CN-TJ",
    ]);
    expect(parsedValue(field("display.title"), " 立减 ")).toBe(" 立减 ");
  });

  test("values set and removed by path, leaving the original untouched and no empty parents", () => {
    const original = { id: "c", limits: { totalBudgetMinor: 10 }, display: { title: "t" } };
    const raised = withValue(original, "limits.totalBudgetMinor", 20);
    expect(raised).toEqual({ id: "c", limits: { totalBudgetMinor: 20 }, display: { title: "t" } });
    expect(original.limits.totalBudgetMinor).toBe(10);
    expect(withValue(original, "offer.amountMinor", 50)).toMatchObject({
      offer: { amountMinor: 50 },
    });
    expect(
      withValue({ id: "c", offer: { amountMinor: 50 } }, "offer.amountMinor", undefined),
    ).toEqual({
      id: "c",
    });
    expect(valueAt(raised, "limits.totalBudgetMinor")).toBe(20);
    expect(valueAt(raised, "limits.missing.deeper")).toBeUndefined();
    expect(fieldText({ scope: { regions: ["CN-SH", "CN-BJ"] } }, field("scope.regions"))).toBe(
      "CN-SH, CN-BJ",
    );
    expect(fieldText({}, field("limits.dailyBudgetMinor"))).toBe("");
  });
});

function finding(source: string, path: string, code = "x.code"): PlacedFinding {
  return { key: `${code}|${source}|${path}`, code, severity: "error", message: "m", source, path };
}

test("findings sit beside their field, a parent's beside each child, the rest apart", () => {
  const source = "campaign/c";
  const { byField, others } = placeFindings(
    [
      finding(source, "limits.totalBudgetMinor"),
      finding(source, "scope.regions.3"),
      finding(source, "schedule"),
      finding(source, "stacking.priority"),
      finding("template/t", "offer"),
      finding(source, ""),
    ],
    source,
    CAMPAIGN_FIELDS,
  );
  expect(byField.get("limits.totalBudgetMinor")?.map((found) => found.path)).toEqual([
    "limits.totalBudgetMinor",
  ]);
  expect(byField.get("scope.regions")?.length).toBe(1);
  expect(byField.get("schedule.start")?.[0]?.path).toBe("schedule");
  expect(byField.get("schedule.end")?.[0]?.path).toBe("schedule");
  expect(byField.has("scope.scenarios")).toBe(false);
  expect(others.map((found) => `${found.source}:${found.path}`)).toEqual([
    "campaign/c:stacking.priority",
    "template/t:offer",
    "campaign/c:",
  ]);
});

test("the editor's route", () => {
  expect(parseRoute("#/campaigns/idc-x/edit")).toEqual({
    page: "campaign_edit",
    campaignId: "idc-x",
  });
  expect(parseRoute("#/campaigns/idc-x/other")).toMatchObject({ page: "not_found" });
});
