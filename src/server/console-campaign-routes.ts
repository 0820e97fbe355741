/**
 * `GET /v1/campaigns`: the active campaigns with what the ledger has counted against their
 * budgets — the read the console's campaign list needs and no other endpoint gives
 * (docs/reference/http-api.md, "Campaigns"). Read-only: it reads the change pipeline's active
 * documents and the ledger's balances, as `bursar ledger` would, and writes nothing.
 *
 * Its own table rather than a row in change-routes.ts: it is the one route that joins the
 * control plane with the ledger, and it exists for the console.
 */
import { z } from "zod";
import type { ChangeService } from "../control/change-service.ts";
import type { ApiRole } from "../core/access/api-roles.ts";
import { localDate } from "../core/ledger/plan-reservation.ts";
import type { Campaign } from "../core/model/campaign.ts";
import { periodInstants } from "../core/model/schedule.ts";
import type { LedgerStore } from "../ledger/ledger-store.ts";
import { type RouteSpec, route } from "./route.ts";

/** Who reads the configuration reads its budgets: the change pipeline's readers. */
const READERS: readonly ApiRole[] = ["author", "reviewer", "operator", "auditor", "admin"];

/** Campaigns listed in one answer; the configuration's own limit is lower. */
export const CAMPAIGN_LIST_MAX = 1_000;

export interface CampaignBudgetDependencies {
  readonly changes: Pick<ChangeService, "activeDocuments">;
  readonly ledger: Pick<LedgerStore, "balance">;
  /** The server's clock: "today" is its day in each campaign's time zone. */
  readonly nowMs: () => number;
}

/** Where a campaign stands on the server's clock, by its document alone (kills are /v1/kills). */
export type CampaignSchedulePhase = "paused" | "scheduled" | "running" | "ended";

export interface CampaignMoney {
  readonly reservedMinor: number;
  readonly spentMinor: number;
}

export interface CampaignRow {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly template: string;
  readonly currency: string;
  readonly phase: CampaignSchedulePhase;
  readonly scenarios: readonly string[];
  readonly regions: readonly string[];
  readonly totalBudgetMinor: number;
  readonly dailyBudgetMinor: number | null;
  /** The total budget's account: reserved and spent so far, all versions together. */
  readonly budget: CampaignMoney;
  /** Today (its schedule's time zone); null without a daily budget (the ledger counts none). */
  readonly today: (CampaignMoney & { readonly date: string }) | null;
}

const listQuery = z.strictObject({});

function phaseOf(campaign: Campaign, nowMs: number): CampaignSchedulePhase {
  if (campaign.paused === true) return "paused";
  const { startMs, endMs } = periodInstants(campaign.schedule);
  if (nowMs < startMs) return "scheduled";
  return nowMs >= endMs ? "ended" : "running";
}

async function rowOf(
  campaign: Campaign,
  dependencies: CampaignBudgetDependencies,
  nowMs: number,
): Promise<CampaignRow> {
  const budget = await dependencies.ledger.balance(`campaign/${campaign.id}`);
  const dailyBudgetMinor = campaign.limits.dailyBudgetMinor ?? null;
  let today: CampaignRow["today"] = null;
  if (dailyBudgetMinor !== null) {
    const date = localDate(nowMs, campaign.schedule.timeZone);
    const day = await dependencies.ledger.balance(`campaign-day/${campaign.id}/${date}`);
    today = { date, reservedMinor: day?.reservedMinor ?? 0, spentMinor: day?.spentMinor ?? 0 };
  }
  return {
    id: campaign.id,
    name: campaign.name,
    title: campaign.display.title,
    template: campaign.template,
    currency: campaign.currency,
    phase: phaseOf(campaign, nowMs),
    scenarios: campaign.scope.scenarios ?? [],
    regions: campaign.scope.regions ?? [],
    totalBudgetMinor: campaign.limits.totalBudgetMinor,
    dailyBudgetMinor,
    budget: { reservedMinor: budget?.reservedMinor ?? 0, spentMinor: budget?.spentMinor ?? 0 },
    today,
  };
}

export function consoleCampaignRoutes(dependencies: CampaignBudgetDependencies): RouteSpec[] {
  return [
    route<undefined, z.infer<typeof listQuery>, undefined>({
      method: "GET",
      url: "/v1/campaigns",
      operationId: "listCampaigns",
      summary:
        "The active campaigns, each with its schedule phase, limits, and what the ledger has reserved and spent of its total budget and of today's daily budget.",
      tag: "documents",
      access: READERS,
      query: listQuery,
      rateClass: "control",
      responses: { 200: "{nowMs, campaigns: [...]}, by id." },
      handle: async () => {
        const nowMs = dependencies.nowMs();
        const campaigns = (await dependencies.changes.activeDocuments())
          .filter((document): document is Campaign => document.kind === "campaign")
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .slice(0, CAMPAIGN_LIST_MAX);
        const rows: CampaignRow[] = [];
        for (const campaign of campaigns) rows.push(await rowOf(campaign, dependencies, nowMs));
        return { body: { nowMs, campaigns: rows } };
      },
    }),
  ];
}
