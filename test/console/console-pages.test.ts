/**
 * The console's other pure parts: money and time formatting (console/src/data/format.ts), the
 * campaign list's statuses, budget shares, sorting and filtering (campaigns.ts), and the hash
 * routes (route.ts).
 */
import { describe, expect, test } from "vitest";
import {
  type CampaignApiRow,
  campaignViews,
  filterCampaigns,
  killedBy,
  sortCampaigns,
} from "../../console/src/data/campaigns.ts";
import {
  formatBps,
  formatDuration,
  formatInstant,
  formatMinor,
  formatNumber,
  shareBps,
} from "../../console/src/data/format.ts";
import { hrefOf, parseRoute } from "../../console/src/data/route.ts";

describe("formatting", () => {
  test("money in major units by the currency's exponent, without float sums", () => {
    expect(formatMinor(123_456)).toBe("1,234.56");
    expect(formatMinor(5)).toBe("0.05");
    expect(formatMinor(-5)).toBe("-0.05");
    expect(formatMinor(0)).toBe("0.00");
    expect(formatMinor(1_000, "JPY")).toBe("1,000");
    expect(formatMinor(1_234, "KWD")).toBe("1.234");
    expect(formatMinor(10_348_236_562)).toBe("103,482,365.62");
    // Rates are fractions of a minor unit: rounded to one.
    expect(formatMinor(212.5)).toBe("2.13");
  });

  test("numbers, shares, instants and durations", () => {
    expect(formatNumber(2_988_825)).toBe("2,988,825");
    expect(formatNumber(12.345, 1)).toBe("12.3");
    expect(formatNumber(Number.NaN)).toBe("—");
    expect(formatBps(6_667)).toBe("66.67 %");
    expect(shareBps(1, 3)).toBe(3_333);
    expect(shareBps(1, 0)).toBe(0);
    expect(formatInstant(Date.parse("2025-01-16T06:40:05.123Z"))).toBe("2025-01-16 06:40:05 UTC");
    expect(formatInstant(null)).toBe("—");
    expect(formatDuration(21)).toBe("0.021 s");
    expect(formatDuration(299_000)).toBe("4 min 59 s");
    expect(formatDuration(3_900_000)).toBe("1 h 5 min");
  });
});

function campaign(id: string, overrides: Partial<CampaignApiRow> = {}): CampaignApiRow {
  return {
    id,
    name: `${id} name`,
    title: `${id} title`,
    template: "instant-discount",
    currency: "CNY",
    phase: "running",
    scenarios: ["merchant_qr"],
    regions: ["CN-SH"],
    totalBudgetMinor: 10_000,
    dailyBudgetMinor: 1_000,
    budget: { reservedMinor: 0, spentMinor: 0 },
    today: { date: "2025-01-16", reservedMinor: 0, spentMinor: 0 },
    ...overrides,
  };
}

describe("campaign rows", () => {
  test("budget used is reserved and spent over the total; a kill overrides the phase", () => {
    const views = campaignViews(
      [
        campaign("a", { budget: { reservedMinor: 500, spentMinor: 2_000 } }),
        campaign("b", { phase: "paused", today: null, dailyBudgetMinor: null }),
        campaign("c", { budget: { reservedMinor: 0, spentMinor: 20_000 } }),
      ],
      [{ kind: "campaigns", campaignIds: ["a"] }],
    );
    expect(views.map((view) => [view.id, view.status, view.usedMinor, view.usedBps])).toEqual([
      ["a", "killed", 2_500, 2_500],
      ["b", "paused", 0, 0],
      // Shown full, never past it.
      ["c", "running", 20_000, 10_000],
    ]);
    expect(views[1]?.todayMinor).toBeNull();
  });

  test("which kills stop a campaign", () => {
    const row = { id: "a", template: "t" };
    expect(killedBy(row, [{ kind: "all" }])).toBe(true);
    expect(killedBy(row, [{ kind: "template", templateId: "t" }])).toBe(true);
    expect(killedBy(row, [{ kind: "template", templateId: "u" }])).toBe(false);
    expect(killedBy(row, [{ kind: "campaigns", campaignIds: ["b"] }])).toBe(false);
    expect(killedBy(row, [])).toBe(false);
  });

  test("sorting and filtering", () => {
    const views = campaignViews(
      [
        campaign("b", { budget: { reservedMinor: 0, spentMinor: 100 }, today: null }),
        campaign("a", {
          budget: { reservedMinor: 0, spentMinor: 50 },
          today: { date: "d", reservedMinor: 10, spentMinor: 40 },
        }),
        campaign("c", { template: "lucky-draw" }),
      ],
      [],
    );
    expect(sortCampaigns(views, "id").map((view) => view.id)).toEqual(["a", "b", "c"]);
    expect(sortCampaigns(views, "used").map((view) => view.id)).toEqual(["b", "a", "c"]);
    expect(sortCampaigns(views, "today").map((view) => view.id)).toEqual(["a", "c", "b"]);
    expect(filterCampaigns(views, " LUCKY ").map((view) => view.id)).toEqual(["c"]);
    expect(filterCampaigns(views, "").length).toBe(3);
  });
});

describe("hash routes", () => {
  test("pages and incidents parse and print back", () => {
    expect(parseRoute("")).toEqual({ page: "campaigns" });
    expect(parseRoute("#/")).toEqual({ page: "campaigns" });
    expect(parseRoute("#/live")).toEqual({ page: "live" });
    expect(parseRoute("#/audit/")).toEqual({ page: "audit" });
    expect(parseRoute("#/incidents/incident-3")).toEqual({
      page: "incident",
      incidentId: "incident-3",
    });
    expect(parseRoute("#/incidents/a%2Fb")).toEqual({ page: "incident", incidentId: "a/b" });
    expect(parseRoute("#/nope")).toEqual({ page: "not_found", path: "/nope" });
    expect(parseRoute("#/incidents/%E0%A4%A")).toMatchObject({ page: "not_found" });
    expect(parseRoute("#/incidents/x/y")).toMatchObject({ page: "not_found" });
    expect(hrefOf({ page: "incident", incidentId: "a/b" })).toBe("#/incidents/a%2Fb");
    expect(parseRoute("#/campaigns/idc-coffee-afternoon-tea")).toEqual({
      page: "campaign",
      campaignId: "idc-coffee-afternoon-tea",
    });
    expect(hrefOf({ page: "campaign", campaignId: "x" })).toBe("#/campaigns/x");
    expect(parseRoute(hrefOf({ page: "incident", incidentId: "a/b" }))).toEqual({
      page: "incident",
      incidentId: "a/b",
    });
  });

  test("templates and a template's editor", () => {
    expect(parseRoute("#/templates")).toEqual({ page: "templates" });
    expect(parseRoute("#/templates/instant-discount/edit")).toEqual({
      page: "template_edit",
      templateId: "instant-discount",
    });
    expect(parseRoute("#/campaigns/x/edit")).toEqual({ page: "campaign_edit", campaignId: "x" });
    // A template has no page of its own: only its editor.
    expect(parseRoute("#/templates/instant-discount")).toMatchObject({ page: "not_found" });
    expect(parseRoute("#/templates/%E0%A4%A/edit")).toMatchObject({ page: "not_found" });
    expect(hrefOf({ page: "template_edit", templateId: "a/b" })).toBe("#/templates/a%2Fb/edit");
    expect(parseRoute(hrefOf({ page: "template_edit", templateId: "a/b" }))).toEqual({
      page: "template_edit",
      templateId: "a/b",
    });
  });
});
