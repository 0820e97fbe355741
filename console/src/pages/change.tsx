/**
 * One change request, for its reviewer: the money first (simulated subsidy per hour and share of
 * payments subsidised, current against proposed, by scenario, region and funder), then risk and
 * lint findings, then the semantic diff; approve or reject under the four-eyes rules, the author
 * told why they cannot (GET /v1/changes/{id}, POST …/approve, POST …/reject).
 */
import { useState } from "preact/hooks";
import { type ApiClient, ApiFailure, describeFailure, type TokenRecord } from "../api.ts";
import { PairedBarChart } from "../components/charts.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import {
  approvalStance,
  type ChangeRequestView,
  changeMarks,
  moneyHeadline,
  moneyRows,
  reasonProblem,
  type Simulation,
  shownValue,
} from "../data/change-review.ts";
import { formatBps, formatMinor, formatNumber } from "../data/format.ts";
import { useApi } from "../use-api.ts";

/** Rows of a split shown as bars; the table below has them all. */
const BARS_MAX = 8;

export function ChangePage({
  api,
  changeId,
  who,
}: {
  api: ApiClient;
  changeId: string;
  who: TokenRecord;
}) {
  const { loaded, lastError, reload } = useApi(
    api,
    (client) => client.json<ChangeRequestView>(`/v1/changes/${encodeURIComponent(changeId)}`),
    [changeId],
  );
  return (
    <section aria-labelledby="change-title">
      <p>
        <a href="#/changes">← Changes</a>
      </p>
      {loaded.state === "loading" ? <Loading what={`change ${changeId}`} /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 404 ? (
          <Empty>There is no change {changeId}.</Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        <ChangeView api={api} change={loaded.data} who={who} reload={reload} />
      ) : null}
    </section>
  );
}

function ChangeView({
  api,
  change,
  who,
  reload,
}: {
  api: ApiClient;
  change: ChangeRequestView;
  who: TokenRecord;
  reload: () => void;
}) {
  const assessment = change.assessment ?? null;
  const marks = changeMarks(change);
  return (
    <>
      <div class="page-head">
        <h1 id="change-title">{change.title}</h1>
        <p class="meta">
          {change.id} · <span data-testid="change-state">{change.state.replace("_", " ")}</span> ·
          by {change.authorId}
        </p>
      </div>
      {marks.length === 0 ? null : (
        <ul class="marks" data-testid="change-marks">
          {marks.map((mark) => (
            <li key={mark}>{mark}</li>
          ))}
        </ul>
      )}
      <h2>Money</h2>
      {assessment?.simulation == null ? (
        <Empty>Not simulated yet: a change is simulated when its author submits it.</Empty>
      ) : (
        <MoneyView simulation={assessment.simulation} />
      )}
      <Decision api={api} change={change} who={who} reload={reload} />
      {assessment == null ? null : (
        <>
          <h2>Risk</h2>
          <p data-testid="risk">
            <span class={`badge risk-${assessment.risk.level}`}>{assessment.risk.level}</span> —
            needs {assessment.risk.approvalsRequired} approval
            {assessment.risk.approvalsRequired === 1 ? "" : "s"}
            {assessment.risk.autoApprovable ? "; the policy may approve it alone" : ""}.
          </p>
          {assessment.risk.reasons.length === 0 ? null : (
            <details open={assessment.risk.reasons.length <= 8}>
              <summary>{assessment.risk.reasons.length} reason(s)</summary>
              <ul>
                {assessment.risk.reasons.map((reason, index) => (
                  <li key={index}>
                    <code>{reason.code}</code> {reason.message}
                  </li>
                ))}
              </ul>
            </details>
          )}
          <h2>Lint findings</h2>
          {assessment.findings.length === 0 ? (
            <Empty>No findings.</Empty>
          ) : (
            <div class="table-wrap">
              <table data-testid="findings">
                <thead>
                  <tr>
                    <th scope="col">Severity</th>
                    <th scope="col">Code</th>
                    <th scope="col">Where</th>
                    <th scope="col">Finding</th>
                    <th scope="col">Acknowledged</th>
                  </tr>
                </thead>
                <tbody>
                  {assessment.findings.map((finding) => {
                    const acknowledged = change.acknowledgements.find(
                      (entry) => entry.findingKey === finding.key,
                    );
                    return (
                      <tr key={finding.key}>
                        <td>
                          <span class={`badge finding-${finding.severity}`}>
                            {finding.severity}
                          </span>
                        </td>
                        <td>
                          <code>{finding.code}</code>
                        </td>
                        <td>{finding.key.split("|").slice(1).join(" ")}</td>
                        <td>{finding.message}</td>
                        <td>
                          {acknowledged === undefined
                            ? "—"
                            : `${acknowledged.byId}: ${acknowledged.reason}`}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
          <h2>What changes</h2>
          <DiffView diff={assessment.diff} />
        </>
      )}
      <h2>Approvals</h2>
      {change.approvals.length === 0 ? (
        <Empty>No approval yet.</Empty>
      ) : (
        <ul data-testid="approvals">
          {change.approvals.map((approval) => (
            <li key={`${approval.reviewerId}-${approval.at}`}>
              {approval.byPolicy ? "the policy" : approval.reviewerId} at{" "}
              {approval.at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function MoneyView({ simulation }: { simulation: Simulation }) {
  const currency = simulation.currency;
  const headline = moneyHeadline(simulation);
  const money = (value: number) => formatMinor(value, currency);
  const splits = [
    { title: "By scenario", rows: moneyRows(simulation.byScenario), testId: "money-scenario" },
    { title: "By region", rows: moneyRows(simulation.byRegion), testId: "money-region" },
    { title: "By funder", rows: moneyRows(simulation.byFunding), testId: "money-funder" },
  ];
  return (
    <div data-testid="money">
      <p class="meta">
        Simulated on {formatNumber(simulation.payments)} payments over{" "}
        {formatNumber(simulation.windowMs / 60_000)} minutes, through the configuration in force and
        through it with this change; per hour, in {currency}.
      </p>
      <div class="tiles">
        <div class="tile">
          <span class="tile-label">Subsidy per hour, now</span>
          <span class="tile-value" data-testid="money-current">
            {money(headline.currentPerHourMinor)}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">With this change</span>
          <span class="tile-value" data-testid="money-proposed">
            {money(headline.proposedPerHourMinor)}
          </span>
        </div>
        <div class={`tile ${headline.deltaPerHourMinor > 0 ? "tile-up" : ""}`}>
          <span class="tile-label">Moves</span>
          <span class="tile-value" data-testid="money-delta">
            {headline.deltaPerHourMinor > 0 ? "+" : ""}
            {money(headline.deltaPerHourMinor)}
            {headline.deltaBps === undefined
              ? ""
              : ` (${headline.deltaBps > 0 ? "+" : ""}${formatBps(headline.deltaBps)})`}
          </span>
        </div>
        <div class="tile">
          <span class="tile-label">Payments subsidised</span>
          <span class="tile-value small">
            {formatBps(headline.currentShareBps)} → {formatBps(headline.proposedShareBps)}
          </span>
        </div>
      </div>
      {simulation.flags.length === 0 ? null : (
        <ul class="flags" data-testid="simulation-flags">
          {simulation.flags.slice(0, 10).map((flag, index) => (
            <li key={index}>
              <code>{flag.code}</code> {flag.message}
            </li>
          ))}
          {simulation.flags.length > 10 ? <li>and {simulation.flags.length - 10} more</li> : null}
        </ul>
      )}
      <div class="columns">
        {splits.map((split) => (
          <div key={split.title}>
            <h3>{split.title}</h3>
            {split.rows.length === 0 ? (
              <Empty>No subsidy either way.</Empty>
            ) : (
              <>
                <PairedBarChart
                  title={`Subsidy per hour ${split.title.toLowerCase()} (${currency})`}
                  rows={split.rows.slice(0, BARS_MAX).map((row) => ({
                    label: row.key,
                    current: row.currentPerHourMinor,
                    proposed: row.proposedPerHourMinor,
                  }))}
                  formatValue={money}
                  testId={`${split.testId}-chart`}
                />
                <div class="table-wrap">
                  <table data-testid={split.testId}>
                    <thead>
                      <tr>
                        <th scope="col">{split.title.replace("By ", "")}</th>
                        <th scope="col" class="number">
                          Now / h
                        </th>
                        <th scope="col" class="number">
                          Proposed / h
                        </th>
                        <th scope="col" class="number">
                          Moves / h
                        </th>
                        <th scope="col" class="number">
                          Subsidised
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {split.rows.map((row) => (
                        <tr key={row.key}>
                          <th scope="row">{row.key}</th>
                          <td class="number">{money(row.currentPerHourMinor)}</td>
                          <td class="number">{money(row.proposedPerHourMinor)}</td>
                          <td class="number">
                            {row.deltaPerHourMinor > 0 ? "+" : ""}
                            {money(row.deltaPerHourMinor)}
                          </td>
                          <td class="number">
                            {formatBps(row.currentShareBps)} → {formatBps(row.proposedShareBps)}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

function Decision({
  api,
  change,
  who,
  reload,
}: {
  api: ApiClient;
  change: ChangeRequestView;
  who: TokenRecord;
  reload: () => void;
}) {
  const stance = approvalStance(change, who.principalId, who.roles);
  const [reason, setReason] = useState("");
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<string | undefined>(undefined);
  const act = async (action: "approve" | "reject") => {
    if (action === "reject") {
      setTouched(true);
      if (reasonProblem(reason) !== undefined) return;
    }
    setBusy(true);
    setAnswer(undefined);
    const path = `/v1/changes/${encodeURIComponent(change.id)}/${action}`;
    const body =
      action === "approve" ? { contentHash: change.contentHash } : { reason: reason.trim() };
    try {
      // The server's rollout tick may write the same change meanwhile: sent again, it goes through.
      for (let attempt = 0; ; attempt += 1) {
        try {
          await api.json(path, { method: "POST", body });
          break;
        } catch (error) {
          if (!(error instanceof ApiFailure && error.code === "concurrent_update" && attempt < 3))
            throw error;
        }
      }
      reload();
    } catch (error) {
      setAnswer(describeFailure(error));
    } finally {
      setBusy(false);
    }
  };
  const problem = touched ? reasonProblem(reason) : undefined;
  return (
    <div class="decision" data-testid="decision">
      <h2>Decision</h2>
      {stance.canApprove ? (
        <p>
          {stance.approvalsMissing} more approval{stance.approvalsMissing === 1 ? "" : "s"} needed.
          Approving binds your approval to this content (hash{" "}
          <code>{change.contentHash.slice(0, 12)}…</code>): any edit voids it.
        </p>
      ) : (
        <p class="why-not" data-testid="why-not">
          {stance.why}
        </p>
      )}
      <div class="toolbar">
        <button
          type="button"
          disabled={!stance.canApprove || busy}
          onClick={() => void act("approve")}
        >
          Approve
        </button>
      </div>
      <div class="reject">
        <label for="reject-reason">Reason to reject</label>
        <textarea
          id="reject-reason"
          rows={2}
          value={reason}
          disabled={!stance.canApprove || busy}
          onInput={(event) => setReason((event.target as HTMLTextAreaElement).value)}
          onBlur={() => setTouched(reason !== "")}
          aria-invalid={problem === undefined ? undefined : true}
          aria-describedby={problem === undefined ? undefined : "reject-problem"}
        />
        {problem === undefined ? null : (
          <p id="reject-problem" class="field-problem" role="alert">
            {problem}
          </p>
        )}
        <button
          type="button"
          class="secondary"
          disabled={!stance.canApprove || busy}
          onClick={() => void act("reject")}
        >
          Reject
        </button>
      </div>
      {answer === undefined ? null : (
        <p class="state state-error" role="alert" data-testid="decision-refused">
          {answer}
        </p>
      )}
    </div>
  );
}

function DiffView({ diff }: { diff: NonNullable<ChangeRequestView["assessment"]>["diff"] }) {
  if (diff.documents.length === 0) return <Empty>The change writes nothing new.</Empty>;
  return (
    <div data-testid="diff">
      {diff.campaigns.length === 0 ? null : (
        <>
          <h3>Campaigns, as they will apply ({diff.campaigns.length})</h3>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Campaign</th>
                  <th scope="col">Field</th>
                  <th scope="col">Before</th>
                  <th scope="col">After</th>
                </tr>
              </thead>
              <tbody>
                {diff.campaigns.slice(0, 100).flatMap((campaign) =>
                  campaign.fields.slice(0, 20).map((field, index) => (
                    <tr key={`${campaign.campaignId}-${field.field}`}>
                      {index === 0 ? (
                        <th scope="row" rowSpan={Math.min(campaign.fields.length, 20)}>
                          {campaign.campaignId}
                          <span class="sub">{campaign.operation}</span>
                        </th>
                      ) : null}
                      <td>
                        {field.field}
                        {field.inherited ? <span class="sub">through its template</span> : null}
                      </td>
                      <td>
                        <code>{shownValue(field.before)}</code>
                      </td>
                      <td>
                        <code>{shownValue(field.after)}</code>
                      </td>
                    </tr>
                  )),
                )}
              </tbody>
            </table>
          </div>
        </>
      )}
      <details>
        <summary>Documents, field by field ({diff.documents.length})</summary>
        {diff.documents.slice(0, 100).map((document) => (
          <div key={document.key}>
            <h4>
              {document.key} <span class="sub">{document.operation}</span>
            </h4>
            <ul>
              {document.fields.slice(0, 50).map((field) => (
                <li key={field.path}>
                  <code>{field.path}</code>: <code>{shownValue(field.before)}</code> →{" "}
                  <code>{shownValue(field.after)}</code>
                </li>
              ))}
            </ul>
          </div>
        ))}
      </details>
    </div>
  );
}
