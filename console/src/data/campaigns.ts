/**
 * The campaign list's rows (GET /v1/campaigns, joined with GET /v1/kills when the token may read
 * kills): status, share of the budget used, today's spend. Pure.
 */

export interface CampaignMoney {
  readonly reservedMinor: number;
  readonly spentMinor: number;
}

export interface CampaignApiRow {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly template: string;
  readonly currency: string;
  readonly phase: "paused" | "scheduled" | "running" | "ended";
  readonly scenarios: readonly string[];
  readonly regions: readonly string[];
  readonly totalBudgetMinor: number;
  readonly dailyBudgetMinor: number | null;
  readonly budget: CampaignMoney;
  readonly today: (CampaignMoney & { readonly date: string }) | null;
}

export interface KillScope {
  readonly kind: string;
  readonly campaignIds?: readonly string[];
  readonly templateId?: string;
  readonly funding?: string;
}

export type CampaignStatus = "killed" | CampaignApiRow["phase"];

export interface CampaignView extends CampaignApiRow {
  readonly status: CampaignStatus;
  /** Reserved and spent together: what the budget can no longer give. */
  readonly usedMinor: number;
  readonly usedBps: number;
  /** Today's reserved and spent, when the ledger counts the campaign's days. */
  readonly todayMinor: number | null;
}

/** Whether an active kill stops the campaign (its funding is unknown here: funding kills show on the live page). */
export function killedBy(
  row: Pick<CampaignApiRow, "id" | "template">,
  kills: readonly KillScope[],
): boolean {
  return kills.some(
    (kill) =>
      kill.kind === "all" ||
      (kill.kind === "campaigns" && (kill.campaignIds ?? []).includes(row.id)) ||
      (kill.kind === "template" && kill.templateId === row.template),
  );
}

export function campaignViews(
  rows: readonly CampaignApiRow[],
  kills: readonly KillScope[],
): CampaignView[] {
  return rows.map((row) => {
    const usedMinor = row.budget.reservedMinor + row.budget.spentMinor;
    return {
      ...row,
      status: killedBy(row, kills) ? "killed" : row.phase,
      usedMinor,
      usedBps:
        row.totalBudgetMinor > 0
          ? Math.min(10_000, Math.round((usedMinor / row.totalBudgetMinor) * 10_000))
          : 0,
      todayMinor: row.today === null ? null : row.today.reservedMinor + row.today.spentMinor,
    };
  });
}

export type CampaignSort = "id" | "used" | "today";

export function sortCampaigns(views: readonly CampaignView[], by: CampaignSort): CampaignView[] {
  const sorted = [...views];
  const byId = (a: CampaignView, b: CampaignView) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  if (by === "used") sorted.sort((a, b) => b.usedBps - a.usedBps || byId(a, b));
  else if (by === "today")
    sorted.sort((a, b) => (b.todayMinor ?? -1) - (a.todayMinor ?? -1) || byId(a, b));
  else sorted.sort(byId);
  return sorted;
}

/** Rows whose id, name, title or template contains the text, case-insensitively. */
export function filterCampaigns(views: readonly CampaignView[], text: string): CampaignView[] {
  const needle = text.trim().toLowerCase();
  if (needle === "") return [...views];
  return views.filter((view) =>
    [view.id, view.name, view.title, view.template].some((field) =>
      field.toLowerCase().includes(needle),
    ),
  );
}
