/**
 * One incident: severity and why, blame, the timeline, and its impact report as charts and
 * tables with CSV and JSON downloads (GET /v1/incidents/{id}, GET /v1/incidents/{id}/impact).
 */
import { useState } from "preact/hooks";
import { type ApiClient, ApiFailure, describeFailure } from "../api.ts";
import { BarChart, LineChart } from "../components/charts.tsx";
import { saveFile } from "../components/download.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import {
  formatBps,
  formatClock,
  formatDuration,
  formatInstant,
  formatMinor,
  formatNumber,
} from "../data/format.ts";
import {
  type ImpactReport,
  type ImpactSplit,
  minuteSeries,
  SPLIT_TITLES,
  splitBars,
  splitTable,
} from "../data/impact.ts";
import { useApi } from "../use-api.ts";

interface TimelineEntry {
  readonly kind: string;
  readonly atMs: number;
  readonly byId?: string;
  readonly summary?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

interface Incident {
  readonly id: string;
  readonly title: string;
  readonly state: string;
  readonly severity: string;
  readonly openedAtMs: number;
  readonly updatedAtMs: number;
  readonly windowStartMs: number;
  readonly resolution?: { readonly atMs: number };
  readonly because: readonly { measure: string; severity: string }[];
  readonly impact: {
    readonly atRiskPerMinuteMinor: number;
    readonly cumulativeMinor: number;
    readonly paymentShareBps: number;
    readonly scenarios: number;
    readonly regions: number;
    readonly coreFlows: boolean;
  };
  readonly blame: {
    readonly changeIds: readonly string[];
    readonly campaignVersions: readonly { campaignId: string; version: number }[];
    readonly templateIds: readonly string[];
    readonly funders: readonly string[];
  };
  readonly timeline: readonly TimelineEntry[];
}

type ImpactState = { kind: "report"; report: ImpactReport } | { kind: "none"; why: string };

async function readIncident(api: ApiClient, incidentId: string) {
  const path = `/v1/incidents/${encodeURIComponent(incidentId)}`;
  const incident = await api.json<Incident>(path);
  let impact: ImpactState;
  try {
    impact = { kind: "report", report: await api.json<ImpactReport>(`${path}/impact?format=json`) };
  } catch (error) {
    if (!(error instanceof ApiFailure && error.status === 404)) throw error;
    impact = { kind: "none", why: error.message };
  }
  return { incident, impact };
}

export function IncidentPage({ api, incidentId }: { api: ApiClient; incidentId: string }) {
  const { loaded, lastError, reload } = useApi(
    api,
    (client) => readIncident(client, incidentId),
    [incidentId],
    10_000,
  );
  return (
    <section aria-labelledby="incident-title">
      <p>
        <a href="#/incidents">← Incidents</a>
      </p>
      {loaded.state === "loading" ? <Loading what={`incident ${incidentId}`} /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 404 ? (
          <Empty>There is no incident {incidentId}.</Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        <IncidentView api={api} incident={loaded.data.incident} impact={loaded.data.impact} />
      ) : null}
    </section>
  );
}

function IncidentView({
  api,
  incident,
  impact,
}: {
  api: ApiClient;
  incident: Incident;
  impact: ImpactState;
}) {
  return (
    <>
      <div class="page-head">
        <h1 id="incident-title">
          <span class={`badge severity-${incident.severity}`}>{incident.severity}</span>{" "}
          {incident.title}
        </h1>
        <p class="meta">
          {incident.id} · {incident.state} · opened {formatInstant(incident.openedAtMs)} · updated{" "}
          {formatInstant(incident.updatedAtMs)}
        </p>
      </div>
      <dl class="facts">
        <dt>Severity because</dt>
        <dd>
          {incident.because.map((reason) => `${reason.measure} → ${reason.severity}`).join("; ") ||
            "—"}
        </dd>
        <dt>At risk per minute</dt>
        <dd>{formatMinor(incident.impact.atRiskPerMinuteMinor)} CNY</dd>
        <dt>Cumulative</dt>
        <dd>{formatMinor(incident.impact.cumulativeMinor)} CNY</dd>
        <dt>Share of payments</dt>
        <dd>{formatBps(incident.impact.paymentShareBps)}</dd>
        <dt>Blamed</dt>
        <dd data-testid="blame">
          {[
            ...incident.blame.campaignVersions.map((ref) => `${ref.campaignId}@${ref.version}`),
            ...incident.blame.changeIds,
            ...incident.blame.templateIds.map((id) => `template ${id}`),
            ...incident.blame.funders.map((funder) => `funder ${funder}`),
          ].join(", ") || "nothing yet"}
        </dd>
      </dl>
      <h2>Timeline</h2>
      <ol class="timeline" data-testid="timeline">
        {incident.timeline.map((entry, index) => (
          <li key={`${entry.atMs}-${index}`}>
            <time>{formatInstant(entry.atMs)}</time> <strong>{entry.kind}</strong>
            {entry.byId === undefined ? "" : ` by ${entry.byId}`}
            {entry.summary === undefined ? "" : ` — ${entry.summary}`}
          </li>
        ))}
      </ol>
      <h2>Impact report</h2>
      {impact.kind === "none" ? (
        <Empty>No impact report: {impact.why}.</Empty>
      ) : (
        <>
          <p class="meta" data-testid="impact-window-asked">
            The blamed versions' payments in the ledger from {formatInstant(incident.windowStartMs)}{" "}
            (when the anomaly began, as far as is known) to{" "}
            {incident.resolution === undefined
              ? "now"
              : `the resolution at ${formatInstant(incident.resolution.atMs)}`}
            .
          </p>
          <ImpactView api={api} incidentId={incident.id} report={impact.report} />
        </>
      )}
    </>
  );
}

function ImpactView({
  api,
  incidentId,
  report,
}: {
  api: ApiClient;
  incidentId: string;
  report: ImpactReport;
}) {
  const [downloadProblem, setDownloadProblem] = useState<string | undefined>(undefined);
  const download = async (format: "csv" | "json") => {
    setDownloadProblem(undefined);
    try {
      const path = `/v1/incidents/${encodeURIComponent(incidentId)}/impact?format=${format}`;
      const text = await api.text(path);
      saveFile(
        `${incidentId}-impact.${format}`,
        format === "csv" ? "text/csv" : "application/json",
        text,
      );
    } catch (error) {
      setDownloadProblem(describeFailure(error));
    }
  };
  const totals = report.totals;
  const window = report.window;
  const minutes = minuteSeries(report);
  const splits: Exclude<ImpactSplit, "minute">[] = [
    "scenario",
    "region",
    "funder",
    "campaign_version",
  ];
  return (
    <div data-testid="impact">
      <div class="toolbar">
        <button type="button" onClick={() => void download("csv")}>
          Download CSV
        </button>
        <button type="button" onClick={() => void download("json")}>
          Download JSON
        </button>
        {downloadProblem === undefined ? null : <span role="alert">{downloadProblem}</span>}
      </div>
      <div class="tiles">
        <div class="tile">
          <span class="tile-label">Window</span>
          <span class="tile-value small">
            {window.firstAtMs === null || window.lastAtMs === null
              ? "no payment"
              : `${formatInstant(window.firstAtMs)} + ${formatDuration(window.lastAtMs - window.firstAtMs)}`}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Payments</span>
          <span class="tile-value" data-testid="impact-payments">
            {formatNumber(totals.payments)}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Users</span>
          <span class="tile-value">{formatNumber(totals.users)}</span>
        </div>
        <div class="tile">
          <span class="tile-label">Net subsidy (CNY)</span>
          <span class="tile-value" data-testid="impact-net">
            {formatMinor(totals.netMinor)}
          </span>
        </div>
      </div>
      <table class="money">
        <caption>Where the money is (CNY)</caption>
        <thead>
          <tr>
            <th scope="col" class="number">
              reserved
            </th>
            <th scope="col" class="number">
              held
            </th>
            <th scope="col" class="number">
              committed
            </th>
            <th scope="col" class="number">
              returned
            </th>
            <th scope="col" class="number">
              refunded
            </th>
            <th scope="col" class="number">
              net
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td class="number">{formatMinor(totals.reservedMinor)}</td>
            <td class="number">{formatMinor(totals.heldMinor)}</td>
            <td class="number">{formatMinor(totals.committedMinor)}</td>
            <td class="number">{formatMinor(totals.returnedMinor)}</td>
            <td class="number">{formatMinor(totals.refundedMinor)}</td>
            <td class="number">{formatMinor(totals.netMinor)}</td>
          </tr>
        </tbody>
      </table>
      {minutes.length === 0 ? null : (
        <LineChart
          title="Net subsidy per minute (CNY)"
          testId="impact-minutes"
          points={minutes.map((point) => ({ x: point.atMs, y: point.netMinor }))}
          formatX={formatClock}
          formatY={(value) => formatMinor(value)}
        />
      )}
      <div class="columns">
        {splits.map((split) => (
          <div key={split}>
            <h3>{SPLIT_TITLES[split]}</h3>
            {report.splits[split].rows.length === 0 ? (
              <Empty>Nothing.</Empty>
            ) : (
              <>
                <BarChart
                  title={`Net subsidy ${SPLIT_TITLES[split].toLowerCase()} (CNY)`}
                  bars={splitBars(report, split)}
                  formatValue={(value) => formatMinor(value)}
                />
                <SplitTable report={report} split={split} />
              </>
            )}
          </div>
        ))}
      </div>
      <details>
        <summary>
          {SPLIT_TITLES.minute} ({report.splits.minute.rows.length} minutes)
        </summary>
        <SplitTable report={report} split="minute" />
      </details>
    </div>
  );
}

function SplitTable({ report, split }: { report: ImpactReport; split: ImpactSplit }) {
  const rows = splitTable(report, split);
  const omitted = report.splits[split].omitted;
  return (
    <div class="table-wrap">
      <table data-testid={`split-${split}`}>
        <thead>
          <tr>
            <th scope="col">{split.replace("_", " ")}</th>
            <th scope="col" class="number">
              Payments
            </th>
            <th scope="col" class="number">
              Users
            </th>
            <th scope="col" class="number">
              Net (CNY)
            </th>
            <th scope="col" class="number">
              Share
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.label}</th>
              <td class="number">{formatNumber(row.payments)}</td>
              <td class="number">{formatNumber(row.users)}</td>
              <td class="number">{formatMinor(row.netMinor)}</td>
              <td class="number">{formatBps(row.netShareBps)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {omitted > 0 ? <p class="meta">{omitted} more rows are in the downloads.</p> : null}
    </div>
  );
}
