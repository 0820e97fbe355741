/**
 * One incident: severity and why, blame, the timeline, and its impact report as charts and
 * tables with CSV and JSON downloads (GET /v1/incidents/{id}, GET /v1/incidents/{id}/impact).
 */
import { useState } from "preact/hooks";
import { type ApiClient, ApiFailure, describeFailure, type TokenRecord } from "../api.ts";
import { AnswerLine } from "../components/answer-line.tsx";
import { BarChart, LineChart } from "../components/charts.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { saveFile } from "../components/download.ts";
import { ReasonField } from "../components/reason-field.tsx";
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
  incidentMoneyUnit,
  type MoneyUnit,
  minuteSeries,
  SPLIT_TITLES,
  splitBars,
  splitTable,
} from "../data/impact.ts";
import {
  higherSeverities,
  type IncidentActionName,
  incidentActionStance,
  incidentReasonProblem,
  parseCostMinor,
} from "../data/incident-actions.ts";
import { useAction } from "../use-action.ts";
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
  readonly acknowledged?: { readonly byId: string; readonly atMs: number };
  readonly remediation?: {
    readonly decidedById: string;
    readonly costAbsorbedMinor: number;
    readonly reservationsReleased: { readonly count: number; readonly amountMinor: number };
  };
}

type ImpactState = { kind: "report"; report: ImpactReport } | { kind: "none"; why: string };

/** The campaigns' currencies; undefined when this token may not read them. */
async function readCurrencies(api: ApiClient) {
  try {
    return (await api.json<{ campaigns: { id: string; currency: string }[] }>("/v1/campaigns"))
      .campaigns;
  } catch (error) {
    if (error instanceof ApiFailure && error.status === 403) return undefined;
    throw error;
  }
}

/** Money as the page writes it: major units of the currency, or the API's minor units. */
interface MoneyWriter {
  readonly unit: string;
  format(amountMinor: number): string;
}

function moneyWriter(unit: MoneyUnit): MoneyWriter {
  return unit.kind === "currency"
    ? { unit: unit.currency, format: (amount) => formatMinor(amount, unit.currency) }
    : { unit: "minor units", format: (amount) => formatNumber(amount) };
}

async function readIncident(api: ApiClient, incidentId: string) {
  const path = `/v1/incidents/${encodeURIComponent(incidentId)}`;
  const [incident, campaigns] = await Promise.all([api.json<Incident>(path), readCurrencies(api)]);
  const unit = incidentMoneyUnit(
    incident.blame.campaignVersions.map((ref) => ref.campaignId),
    campaigns,
  );
  let impact: ImpactState;
  try {
    impact = { kind: "report", report: await api.json<ImpactReport>(`${path}/impact?format=json`) };
  } catch (error) {
    if (!(error instanceof ApiFailure && error.status === 404)) throw error;
    impact = { kind: "none", why: error.message };
  }
  return { incident, impact, unit };
}

export function IncidentPage({
  api,
  incidentId,
  who,
}: {
  api: ApiClient;
  incidentId: string;
  who: TokenRecord;
}) {
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
        <IncidentView
          api={api}
          incident={loaded.data.incident}
          impact={loaded.data.impact}
          unit={loaded.data.unit}
          who={who}
          reload={reload}
        />
      ) : null}
    </section>
  );
}

function IncidentView({
  api,
  incident,
  impact,
  unit,
  who,
  reload,
}: {
  api: ApiClient;
  incident: Incident;
  impact: ImpactState;
  unit: MoneyUnit;
  who: TokenRecord;
  reload: () => void;
}) {
  const money = moneyWriter(unit);
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
        <dd>
          {money.format(incident.impact.atRiskPerMinuteMinor)} {money.unit}
        </dd>
        <dt>Cumulative</dt>
        <dd data-testid="incident-cumulative">
          {money.format(incident.impact.cumulativeMinor)} {money.unit}
        </dd>
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
      {who.roles.includes("operator") ? (
        <IncidentActions
          api={api}
          incident={incident}
          roles={who.roles}
          money={money}
          reload={reload}
        />
      ) : null}
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
          {unit.kind === "minor" ? (
            <p class="meta" data-testid="money-unit-why">
              Money is shown in minor units: {unit.why}.
            </p>
          ) : null}
          <ImpactView api={api} incidentId={incident.id} report={impact.report} money={money} />
        </>
      )}
    </>
  );
}

function ImpactView({
  api,
  incidentId,
  report,
  money,
}: {
  api: ApiClient;
  incidentId: string;
  report: ImpactReport;
  money: MoneyWriter;
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
          <span class="tile-label">Net subsidy ({money.unit})</span>
          <span class="tile-value" data-testid="impact-net">
            {money.format(totals.netMinor)}
          </span>
        </div>
      </div>
      <table class="money">
        <caption>Where the money is ({money.unit})</caption>
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
            <td class="number">{money.format(totals.reservedMinor)}</td>
            <td class="number">{money.format(totals.heldMinor)}</td>
            <td class="number">{money.format(totals.committedMinor)}</td>
            <td class="number">{money.format(totals.returnedMinor)}</td>
            <td class="number">{money.format(totals.refundedMinor)}</td>
            <td class="number">{money.format(totals.netMinor)}</td>
          </tr>
        </tbody>
      </table>
      {minutes.length === 0 ? null : (
        <LineChart
          title={`Net subsidy per minute (${money.unit})`}
          testId="impact-minutes"
          points={minutes.map((point) => ({ x: point.atMs, y: point.netMinor }))}
          formatX={formatClock}
          formatY={(value) => money.format(value)}
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
                  title={`Net subsidy ${SPLIT_TITLES[split].toLowerCase()} (${money.unit})`}
                  bars={splitBars(report, split)}
                  formatValue={(value) => money.format(value)}
                />
                <SplitTable report={report} split={split} money={money} />
              </>
            )}
          </div>
        ))}
      </div>
      <details>
        <summary>
          {SPLIT_TITLES.minute} ({report.splits.minute.rows.length} minutes)
        </summary>
        <SplitTable report={report} split="minute" money={money} />
      </details>
    </div>
  );
}

function SplitTable({
  report,
  split,
  money,
}: {
  report: ImpactReport;
  split: ImpactSplit;
  money: MoneyWriter;
}) {
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
              Net ({money.unit})
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
              <td class="number">{money.format(row.netMinor)}</td>
              <td class="number">{formatBps(row.netShareBps)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {omitted > 0 ? <p class="meta">{omitted} more rows are in the downloads.</p> : null}
    </div>
  );
}

/**
 * On-call's actions on the incident (POST /v1/incidents/{id}/…): each offered only when the
 * incident's state allows it, with the reason why not beside it; the state-moving ones (mitigate,
 * remediate, resolve) one click and one confirmation.
 */
function IncidentActions({
  api,
  incident,
  roles,
  money,
  reload,
}: {
  api: ApiClient;
  incident: Incident;
  roles: readonly string[];
  money: MoneyWriter;
  reload: () => void;
}) {
  const [reason, setReason] = useState("");
  const higher = higherSeverities(incident.severity);
  const [severity, setSeverity] = useState(higher[0] ?? "");
  const [cost, setCost] = useState("0");
  const { busy, answer, run: send } = useAction(api);
  const reasonCheck = incidentReasonProblem(reason);
  const costCheck = parseCostMinor(cost);
  const stance = (action: IncidentActionName) => incidentActionStance(incident, action, roles);
  const base = `/v1/incidents/${encodeURIComponent(incident.id)}`;
  /** Sends one action; whether the API took it. */
  const run = async (what: string, verb: string, body?: unknown): Promise<boolean> => {
    const sent = await send(what, `${base}/${verb}`, body);
    if (sent.ok) reload();
    return sent.ok;
  };
  const why = (action: IncidentActionName) => {
    const found = stance(action);
    return found.allowed ? null : <span class="sub">{found.why}</span>;
  };
  const needsReason = busy || reasonCheck !== undefined;
  return (
    <div class="operations" data-testid="incident-actions">
      <h2>Actions</h2>
      <div class="toolbar">
        <button
          type="button"
          disabled={busy || !stance("acknowledge").allowed}
          onClick={() => void run("Acknowledge", "acknowledge")}
        >
          Acknowledge
        </button>
        {why("acknowledge")}
      </div>
      <ReasonField
        id="incident-reason"
        label="Reason or note"
        value={reason}
        onInput={setReason}
        problem={reasonCheck}
        disabled={busy}
      />
      <div class="toolbar">
        <button
          type="button"
          disabled={needsReason || !stance("note").allowed}
          onClick={() =>
            void run("Add note", "notes", { text: reason.trim() }).then((took) => {
              if (took) setReason("");
            })
          }
        >
          Add note
        </button>
        <label>
          Severity{" "}
          <select
            value={severity}
            disabled={busy || !stance("raise").allowed}
            onChange={(event) => setSeverity((event.target as HTMLSelectElement).value)}
          >
            {higher.map((option) => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          disabled={needsReason || !stance("raise").allowed || severity === ""}
          onClick={() => void run("Raise", "raise", { severity, reason: reason.trim() })}
        >
          Raise severity
        </button>
        {why("raise")}
      </div>
      <div class="toolbar">
        <ConfirmButton
          label="Mitigate"
          disabled={needsReason || !stance("mitigate").allowed}
          confirmText={`The money stopped flowing for ${incident.id}?`}
          onConfirm={() => void run("Mitigate", "mitigate", { reason: reason.trim() })}
        />
        {why("mitigate")}
      </div>
      <div class="toolbar">
        <label>
          Cost absorbed (
          {money.unit === "minor units" ? "minor units" : `minor units of ${money.unit}`}){" "}
          <input
            value={cost}
            inputMode="numeric"
            disabled={busy || !stance("remediate").allowed}
            onInput={(event) => setCost((event.target as HTMLInputElement).value)}
            aria-invalid={"problem" in costCheck ? true : undefined}
          />
        </label>
        <ConfirmButton
          label="Record remediation"
          danger
          disabled={needsReason || "problem" in costCheck || !stance("remediate").allowed}
          confirmText={`Absorb ${"costMinor" in costCheck ? money.format(costCheck.costMinor) : "?"} ${money.unit} and release the blamed versions' uncommitted reservations?`}
          onConfirm={() =>
            "costMinor" in costCheck
              ? void run("Record remediation", "remediate", {
                  reason: reason.trim(),
                  costAbsorbedMinor: costCheck.costMinor,
                })
              : undefined
          }
        />
        {"problem" in costCheck ? <span class="field-problem">{costCheck.problem}</span> : null}
        {why("remediate")}
      </div>
      {incident.remediation === undefined ? null : (
        <p class="meta" data-testid="remediation">
          Remediation by {incident.remediation.decidedById}: absorbed{" "}
          {money.format(incident.remediation.costAbsorbedMinor)} {money.unit}; released{" "}
          {formatNumber(incident.remediation.reservationsReleased.count)} reservation(s),{" "}
          {money.format(incident.remediation.reservationsReleased.amountMinor)} {money.unit}.
        </p>
      )}
      <div class="toolbar">
        <ConfirmButton
          label="Resolve"
          disabled={needsReason || !stance("resolve").allowed}
          confirmText={`Close ${incident.id}?`}
          onConfirm={() => void run("Resolve", "resolve", { reason: reason.trim() })}
        />
        {why("resolve")}
      </div>
      <AnswerLine answer={answer} testId="incident-action-answer" />
    </div>
  );
}
