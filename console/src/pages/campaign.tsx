/**
 * One campaign: where it applies, when, its limits and display text as its active version says,
 * its budget as the ledger counts it, its spend per second live (GET /v1/documents/campaign/
 * {id}, its template, GET /v1/campaigns, GET /metrics every 5 s), its versions
 * (campaign-versions.tsx), and for operators pausing it or lowering its limits at once
 * (campaign-actions.tsx).
 */
import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiClient, ApiFailure, type TokenRecord } from "../api.ts";
import { LineChart } from "../components/charts.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { type CampaignApiRow, campaignViews } from "../data/campaigns.ts";
import { shownValue } from "../data/change-review.ts";
import { formatBps, formatClock, formatMinor } from "../data/format.ts";
import { campaignSpendSeries, type LiveSample, liveSampleFromText } from "../data/live.ts";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";
import { CampaignActions } from "./campaign-actions.tsx";
import { CampaignVersions } from "./campaign-versions.tsx";

const POLL_MS = 5_000;
const SAMPLES_MAX = 61;

type CampaignDocument = Record<string, unknown> & {
  readonly id: string;
  readonly template: string;
  readonly currency: string;
  readonly scope: Record<string, unknown>;
  readonly schedule: Record<string, unknown>;
  readonly limits: Record<string, unknown>;
  readonly stacking: Record<string, unknown>;
  readonly display: { readonly title: string; readonly description?: string };
  readonly paused?: boolean;
};

async function readCampaign(api: ApiClient, campaignId: string) {
  const id = encodeURIComponent(campaignId);
  const document = await api.json<CampaignDocument>(`/v1/documents/campaign/${id}`);
  const [template, list] = await Promise.all([
    api
      .json<Record<string, unknown>>(
        `/v1/documents/template/${encodeURIComponent(document.template)}`,
      )
      .catch(() => undefined),
    api.json<{ campaigns: CampaignApiRow[] }>("/v1/campaigns"),
  ]);
  const row = list.campaigns.find((campaign) => campaign.id === campaignId);
  return { document, template, row };
}

export function CampaignPage({
  api,
  campaignId,
  who,
}: {
  api: ApiClient;
  campaignId: string;
  who: TokenRecord;
}) {
  const { loaded, lastError, reload } = useApi(
    api,
    (client) => readCampaign(client, campaignId),
    [campaignId],
    30_000,
  );
  return (
    <section aria-labelledby="campaign-title">
      <p>
        <a href="#/campaigns">← Campaigns</a>
      </p>
      {loaded.state === "loading" ? <Loading what={`campaign ${campaignId}`} /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 404 ? (
          <Empty>No active campaign {campaignId}: it may be retired, or never existed.</Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        <CampaignView api={api} who={who} reload={reload} {...loaded.data} />
      ) : null}
    </section>
  );
}

function CampaignView({
  api,
  who,
  reload,
  document,
  template,
  row,
}: {
  api: ApiClient;
  who: TokenRecord;
  reload: () => void;
  document: CampaignDocument;
  template: Record<string, unknown> | undefined;
  row: CampaignApiRow | undefined;
}) {
  const view = row === undefined ? undefined : campaignViews([row], [])[0];
  // Each operator action writes a version: the versions below are read again at once.
  const [actions, setActions] = useState(0);
  const currency = document.currency;
  const offer = document.offer ?? template?.offer;
  const funding = document.funding ?? template?.funding;
  const facts: [string, unknown][] = [
    ["Template", document.template],
    ["Offer", offer],
    ["Funding", funding],
    ["Scope", document.scope],
    ["Schedule", document.schedule],
    ["Limits", document.limits],
    ["Stacking", document.stacking],
  ];
  return (
    <>
      <div class="page-head">
        <h1 id="campaign-title">{document.id}</h1>
        <p class="meta">
          {String(document.name ?? "")} ·{" "}
          {view === undefined ? (
            ""
          ) : (
            <span class={`badge status-${view.status}`} data-testid="campaign-status">
              {view.status}
            </span>
          )}
        </p>
      </div>
      <div class="display-text" data-testid="display-text">
        <span class="tile-label">What payers see</span>
        <strong lang="zh">{document.display.title}</strong>
        {document.display.description === undefined ? null : (
          <span>{document.display.description}</span>
        )}
      </div>
      {document.paused === true ? (
        <p class="notice" role="note" data-testid="campaign-paused">
          Paused by an operator: it grants nothing. Resuming it is a change request; its versions
          below name the pause's change.
        </p>
      ) : null}
      {view === undefined ? null : (
        <div class="tiles">
          <div class="tile">
            <span class="tile-label">Budget used ({currency})</span>
            <span class="tile-value small" data-testid="budget-used">
              {formatMinor(view.usedMinor, currency)} /{" "}
              {formatMinor(view.totalBudgetMinor, currency)} ({formatBps(view.usedBps)})
            </span>
          </div>
          <div class="tile">
            <span class="tile-label">Spend today ({currency})</span>
            <span class="tile-value small">
              {view.todayMinor === null || view.dailyBudgetMinor === null
                ? "no daily budget"
                : `${formatMinor(view.todayMinor, currency)} / ${formatMinor(view.dailyBudgetMinor, currency)}`}
            </span>
          </div>
        </div>
      )}
      <CampaignActions
        api={api}
        campaignId={document.id}
        currency={currency}
        limits={document.limits}
        phase={row?.phase}
        who={who}
        reload={() => {
          setActions((count) => count + 1);
          reload();
        }}
      />
      <LiveSpend api={api} campaignId={document.id} currency={currency} />
      <h2>Configuration (active version)</h2>
      <dl class="facts" data-testid="campaign-facts">
        {facts.map(([label, value]) => (
          <Fragment key={label}>
            <dt>{label}</dt>
            <dd>
              <code>{shownValue(value, 400)}</code>
            </dd>
          </Fragment>
        ))}
      </dl>
      <p class="meta">
        <a href={hrefOf({ page: "campaign_edit", campaignId: document.id })}>Edit this campaign</a>:
        the edit becomes a change request, reviewed like any other.
      </p>
      <CampaignVersions key={`${document.id}/${actions}`} api={api} campaignId={document.id} />
    </>
  );
}

function LiveSpend({
  api,
  campaignId,
  currency,
}: {
  api: ApiClient;
  campaignId: string;
  currency: string;
}) {
  const [samples, setSamples] = useState<readonly LiveSample[]>([]);
  const [error, setError] = useState<unknown>(undefined);
  const kept = useRef<readonly LiveSample[]>([]);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    kept.current = [];
    const poll = async () => {
      try {
        const text = await api.text("/metrics");
        if (stopped) return;
        kept.current = [...kept.current, liveSampleFromText(text, Date.now())].slice(-SAMPLES_MAX);
        setSamples(kept.current);
        setError(undefined);
      } catch (failure) {
        if (!stopped) setError(failure);
      }
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [api, campaignId]);
  const series = campaignSpendSeries(samples, campaignId);
  const total = samples[samples.length - 1]?.subsidyByCampaign.get(campaignId) ?? 0;
  return (
    <div data-testid="campaign-live">
      <h2>Spend, live</h2>
      {error instanceof ApiFailure && error.status === 403 ? (
        <Empty>The live spend needs an operator, auditor or admin token (it reads /metrics).</Empty>
      ) : error === undefined ? null : (
        <Failed error={error} />
      )}
      {samples.length === 0 && error === undefined ? <Loading what="the live spend" /> : null}
      {samples.length > 0 ? (
        <>
          <p class="meta">
            {formatMinor(total, currency)} {currency} reserved by this server since it started; per
            second every {POLL_MS / 1000} s below.
          </p>
          {series.length === 0 ? (
            <Empty>Waiting for a second reading…</Empty>
          ) : (
            <LineChart
              title={`Subsidy per second (${currency})`}
              testId="campaign-spend-chart"
              points={series.map((point) => ({ x: point.atMs, y: point.minorPerS }))}
              formatX={formatClock}
              formatY={(value) => formatMinor(value, currency)}
            />
          )}
        </>
      ) : null}
    </div>
  );
}
