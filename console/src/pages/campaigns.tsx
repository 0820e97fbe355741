/** Campaigns: status, budget used, spend today (GET /v1/campaigns, GET /v1/kills). */
import { useState } from "preact/hooks";
import { type ApiClient, ApiFailure } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import {
  type CampaignApiRow,
  type CampaignSort,
  campaignViews,
  filterCampaigns,
  type KillScope,
  sortCampaigns,
} from "../data/campaigns.ts";
import { formatBps, formatInstant, formatMinor } from "../data/format.ts";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";

/** The campaigns with the kills in force; kills are left out (not "killed") for callers who may not read them. */
export async function readCampaigns(api: ApiClient) {
  const list = await api.json<{ nowMs: number; campaigns: CampaignApiRow[] }>("/v1/campaigns");
  let kills: KillScope[] = [];
  let killsReadable = true;
  try {
    const answer = await api.json<{ active: { scope: KillScope }[] }>("/v1/kills");
    kills = answer.active.map((kill) => kill.scope);
  } catch (error) {
    // Authors and reviewers may not read kills: the list still shows, without the killed status.
    if (!(error instanceof ApiFailure && error.status === 403)) throw error;
    killsReadable = false;
  }
  return { ...list, kills, killsReadable };
}

const STATUS_TEXT: Readonly<Record<string, string>> = {
  killed: "killed",
  paused: "paused",
  scheduled: "scheduled",
  running: "running",
  ended: "ended",
};

export function CampaignsPage({ api }: { api: ApiClient }) {
  const { loaded, lastError, reload } = useApi(api, readCampaigns, [], 10_000);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<CampaignSort>("id");
  return (
    <section aria-labelledby="campaigns-title">
      <div class="page-head">
        <h1 id="campaigns-title">Campaigns</h1>
        {loaded.state === "ready" ? (
          <p class="meta">Server clock {formatInstant(loaded.data.nowMs)}; refreshed every 10 s.</p>
        ) : null}
      </div>
      {loaded.state === "loading" ? <Loading what="campaigns" /> : null}
      {loaded.state === "error" ? <Failed error={loaded.error} retry={reload} /> : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        loaded.data.campaigns.length === 0 ? (
          <Empty>
            No active campaigns. Campaigns arrive through change requests
            (docs/reference/changes.md).
          </Empty>
        ) : (
          <>
            <div class="toolbar">
              <label>
                Filter{" "}
                <input
                  type="search"
                  value={filter}
                  onInput={(event) => setFilter((event.target as HTMLInputElement).value)}
                  placeholder="id, name, template"
                />
              </label>
              <label>
                Sort by{" "}
                <select
                  value={sort}
                  onChange={(event) =>
                    setSort((event.target as HTMLSelectElement).value as CampaignSort)
                  }
                >
                  <option value="id">id</option>
                  <option value="used">budget used</option>
                  <option value="today">spend today</option>
                </select>
              </label>
              {loaded.data.killsReadable ? null : (
                <span class="meta">Kills are not shown: your token may not read them.</span>
              )}
            </div>
            <CampaignTable
              rows={sortCampaigns(
                filterCampaigns(campaignViews(loaded.data.campaigns, loaded.data.kills), filter),
                sort,
              )}
            />
          </>
        )
      ) : null}
    </section>
  );
}

function CampaignTable({ rows }: { rows: ReturnType<typeof campaignViews> }) {
  if (rows.length === 0) return <Empty>No campaign matches the filter.</Empty>;
  return (
    <div class="table-wrap">
      <table data-testid="campaign-table">
        <caption class="visually-hidden">Active campaigns with their budgets</caption>
        <thead>
          <tr>
            <th scope="col">Campaign</th>
            <th scope="col">Status</th>
            <th scope="col">Template</th>
            <th scope="col" class="number">
              Budget used
            </th>
            <th scope="col" class="number">
              Spend today
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-campaign={row.id}>
              <th scope="row">
                <a class="id" href={hrefOf({ page: "campaign", campaignId: row.id })}>
                  {row.id}
                </a>
                <span class="sub">{row.title}</span>
              </th>
              <td>
                <span class={`badge status-${row.status}`}>
                  {STATUS_TEXT[row.status] ?? row.status}
                </span>
              </td>
              <td>{row.template}</td>
              <td class="number">
                <span>
                  {formatMinor(row.usedMinor, row.currency)} /{" "}
                  {formatMinor(row.totalBudgetMinor, row.currency)} {row.currency}
                </span>
                <meter
                  min={0}
                  max={10_000}
                  value={row.usedBps}
                  aria-label={`${formatBps(row.usedBps)} of the budget used`}
                />
                <span class="sub">{formatBps(row.usedBps)}</span>
              </td>
              <td class="number">
                {row.todayMinor === null || row.dailyBudgetMinor === null ? (
                  <span
                    class="sub"
                    title="The ledger counts a campaign's days only when it has a daily budget."
                  >
                    no daily budget
                  </span>
                ) : (
                  <>
                    {formatMinor(row.todayMinor, row.currency)} /{" "}
                    {formatMinor(row.dailyBudgetMinor, row.currency)} {row.currency}
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
