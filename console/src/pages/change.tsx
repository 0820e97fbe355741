/**
 * One change request, for its reviewer: the money first (simulated subsidy per hour and share of
 * payments subsidised, current against proposed, by scenario, region and funder), then risk and
 * lint findings, then the semantic diff; approve or reject under the four-eyes rules, the author
 * told why they cannot (GET /v1/changes/{id}, POST …/approve, POST …/reject). A draft whose
 * submission the lint gate refused shows that submission's kept assessment, labelled as such.
 * Operators roll it out, back, kill its campaigns or pause them (POST /v1/campaigns/{id}/pause).
 */
import { useState } from "preact/hooks";
import { type ActionAnswer, type ApiClient, ApiFailure, type TokenRecord } from "../api.ts";
import { AnswerLine } from "../components/answer-line.tsx";
import { PairedBarChart } from "../components/charts.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { ReasonField } from "../components/reason-field.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { campaignViews } from "../data/campaigns.ts";
import {
  FORCEABLE_GATES,
  forceStance,
  killStance,
  parseStageShares,
  type RolloutLike,
  rollbackStance,
  rolloutComparison,
  rolloutStance,
} from "../data/change-actions.ts";
import {
  approvalStance,
  type ChangeRequestView,
  changeMarks,
  moneyAbsence,
  moneyHeadline,
  moneyRows,
  reasonProblem,
  refusedSubmissionNotice,
  type Simulation,
  shownValue,
  templateReach,
} from "../data/change-review.ts";
import { formatBps, formatDuration, formatMinor, formatNumber } from "../data/format.ts";
import {
  type PauseOutcome,
  pauseAllStance,
  pauseAllSummary,
  pauseTargets,
  pausingStance,
  type RecordedAction,
} from "../data/operator-actions.ts";
import { hrefOf } from "../data/route.ts";
import { useAction } from "../use-action.ts";
import { useApi } from "../use-api.ts";
import { readCampaigns } from "./campaigns.tsx";

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
    // A rollout's stage and observation move every 10 s on the server.
    5_000,
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
  // A submission refused at lint keeps its assessment on the draft: the administrators asked
  // to force the gate read its money and findings here, labelled as the refused submission's.
  const refused = refusedSubmissionNotice(change);
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
      {refused === undefined ? null : (
        <div class="notice" role="note" data-testid="refused-submission">
          <p>{refused.headline}</p>
          <p>
            The refusal: <code>{refused.message}</code>
          </p>
        </div>
      )}
      <h2>Money</h2>
      {refused === undefined ? null : (
        <p class="meta" data-testid="money-refused">
          {refused.moneyLabel}
        </p>
      )}
      {assessment?.simulation == null ? (
        <Empty>{moneyAbsence(change)}</Empty>
      ) : (
        <MoneyView simulation={assessment.simulation} />
      )}
      <Decision api={api} change={change} who={who} reload={reload} />
      <Operations api={api} change={change} who={who} reload={reload} />
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
          {refused === undefined ? null : (
            <p class="meta" data-testid="findings-refused">
              {refused.findingsLabel}
            </p>
          )}
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
  const { busy, answer, run } = useAction(api);
  const act = async (action: "approve" | "reject") => {
    if (action === "reject") {
      setTouched(true);
      if (reasonProblem(reason) !== undefined) return;
    }
    const path = `/v1/changes/${encodeURIComponent(change.id)}/${action}`;
    const body =
      action === "approve" ? { contentHash: change.contentHash } : { reason: reason.trim() };
    if ((await run(action, path, body)).ok) reload();
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
      {answer === undefined || answer.ok ? null : (
        <p class="state state-error" role="alert" data-testid="decision-refused">
          {answer.text}
        </p>
      )}
    </div>
  );
}

function DiffView({ diff }: { diff: NonNullable<ChangeRequestView["assessment"]>["diff"] }) {
  if (diff.documents.length === 0) return <Empty>The change writes nothing new.</Empty>;
  const reach = templateReach(diff);
  return (
    <div data-testid="diff">
      {reach === undefined ? null : (
        <p class="notice" data-testid="template-reach">
          This change edits template{reach.templateIds.length === 1 ? "" : "s"}{" "}
          <strong>{reach.templateIds.join(", ")}</strong>: it changes{" "}
          <strong>{reach.throughTemplates.length}</strong> campaign(s) through{" "}
          {reach.templateIds.length === 1 ? "it" : "them"}
          {reach.throughTemplates.length === 0 ? "" : ` (${reach.throughTemplates.join(", ")})`}
          {reach.direct.length === 0
            ? "."
            : `, and ${reach.direct.length} by their own documents only (${reach.direct.join(", ")}).`}
        </p>
      )}
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

interface RolloutView extends RolloutLike {
  readonly stageStartedAt: string;
}

interface ChangeWithRollout extends ChangeRequestView {
  readonly rollout?: RolloutView;
}

/**
 * Forcing gates (administrators), the staged rollout, rollback and kill (operators): each one
 * click and one confirmation, with a written reason where the API asks for one.
 */
function Operations({
  api,
  change,
  who,
  reload,
}: {
  api: ApiClient;
  change: ChangeWithRollout;
  who: TokenRecord;
  reload: () => void;
}) {
  const [reason, setReason] = useState("");
  const [shares, setShares] = useState("");
  const action = useAction(api);
  const busy = action.busy;
  const campaignIds = (change.assessment?.diff.campaigns ?? []).map(
    (campaign) => campaign.campaignId,
  );
  const reasonCheck = reasonProblem(reason);
  const parsedShares = parseStageShares(shares);
  const run = async (what: string, path: string, body: unknown) => {
    if ((await action.run(what, path, body)).ok) reload();
  };
  const base = `/v1/changes/${encodeURIComponent(change.id)}`;
  const isAdmin = who.roles.includes("admin");
  const isOperator = who.roles.includes("operator");
  const showForces = isAdmin || change.pendingForces.length > 0 || change.forced.length > 0;
  const showRollout = isOperator || isAdmin || change.rollout !== undefined;
  if (!showForces && !showRollout) return null;
  const rollout = rolloutStance(change, who.roles);
  const rollback = rollbackStance(change, who.roles);
  const kill = killStance(campaignIds, who.roles);
  const pausing = pausingStance(who.roles);
  return (
    <div class="operations" data-testid="operations">
      <h2>Operations</h2>
      <ReasonField
        id="action-reason"
        label="Reason (forcing, rollback, kill, pause)"
        value={reason}
        onInput={setReason}
        problem={reasonCheck}
        disabled={busy}
      />
      {showForces ? (
        <div data-testid="forces">
          <h3>Force a gate</h3>
          <p class="meta">
            Two different administrators must each ask, with a reason; the envelope, the staged
            rollout and the breakers still hold.
          </p>
          <ul class="gates">
            {FORCEABLE_GATES.map((gate) => {
              const stance = forceStance(change, gate, who.principalId, who.roles);
              const forced = change.forced.find((force) => force.gate === gate);
              const pending = change.pendingForces.find((force) => force.gate === gate);
              return (
                <li key={gate} data-gate={gate}>
                  <strong>{gate}</strong>:{" "}
                  <span data-testid={`gate-${gate}`}>
                    {forced !== undefined
                      ? `forced by ${forced.adminIds.join(" and ")}`
                      : pending !== undefined
                        ? `asked by ${pending.adminIds.join(", ")}; a second administrator must ask`
                        : "not forced"}
                  </span>{" "}
                  <ConfirmButton
                    label={`Force ${gate}`}
                    danger
                    disabled={busy || !stance.allowed || reasonCheck !== undefined}
                    confirmText={`Skip the ${gate} gate of ${change.id}?`}
                    onConfirm={() =>
                      void run(`Force ${gate}`, `${base}/force`, { gate, reason: reason.trim() })
                    }
                  />
                  {stance.allowed ? (
                    reasonCheck === undefined ? null : (
                      <span class="sub">Write a reason first.</span>
                    )
                  ) : (
                    <span class="sub">{stance.why}</span>
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      ) : null}
      {showRollout ? (
        <div data-testid="rollout">
          <h3>Staged rollout</h3>
          {change.rollout === undefined ? (
            <p class="meta">Not rolled out.</p>
          ) : (
            <RolloutTable change={change} rollout={change.rollout} />
          )}
          <div class="toolbar">
            <label>
              Stages (%){" "}
              <input
                value={shares}
                placeholder="default: 1, 10, 50, 100"
                disabled={busy || !rollout.allowed}
                onInput={(event) => setShares((event.target as HTMLInputElement).value)}
                aria-invalid={"problem" in parsedShares ? true : undefined}
              />
            </label>
            <ConfirmButton
              label="Start rollout"
              disabled={busy || !rollout.allowed || "problem" in parsedShares}
              confirmText={`Serve ${change.id} to its first stage now?`}
              onConfirm={() =>
                void run(
                  "Start rollout",
                  `${base}/rollout`,
                  "sharesBps" in parsedShares && parsedShares.sharesBps !== undefined
                    ? { sharesBps: parsedShares.sharesBps }
                    : {},
                )
              }
            />
            {"problem" in parsedShares ? (
              <span class="field-problem">{parsedShares.problem}</span>
            ) : rollout.allowed ? null : (
              <span class="sub">{rollout.why}</span>
            )}
          </div>
          <div class="toolbar">
            <ConfirmButton
              label="Roll back"
              danger
              disabled={busy || !rollback.allowed || reasonCheck !== undefined}
              confirmText={`Write back the content before ${change.id}?`}
              onConfirm={() => void run("Roll back", `${base}/rollback`, { reason: reason.trim() })}
            />
            {rollback.allowed ? null : <span class="sub">{rollback.why}</span>}
            <ConfirmButton
              label="Kill its campaigns"
              danger
              disabled={busy || !kill.allowed || reasonCheck !== undefined}
              confirmText={`Stop every subsidy of ${campaignIds.length} campaign(s) now?`}
              onConfirm={() =>
                void run("Kill", "/v1/kills", {
                  scope: { kind: "campaigns", campaignIds },
                  reason: reason.trim(),
                })
              }
            />
            {kill.allowed ? null : <span class="sub">{kill.why}</span>}
            {campaignIds.length === 0 || pausing.allowed ? null : (
              <span class="sub">{pausing.why}</span>
            )}
          </div>
          {campaignIds.length === 0 || !pausing.allowed ? null : (
            <PauseCampaigns
              api={api}
              campaignIds={campaignIds}
              who={who}
              reason={reason}
              reasonCheck={reasonCheck}
            />
          )}
        </div>
      ) : null}
      <AnswerLine answer={action.answer} testId="operation-answer" />
    </div>
  );
}

function RolloutTable({ change, rollout }: { change: ChangeWithRollout; rollout: RolloutView }) {
  const forecast = (
    change.assessment as
      | { forecast?: { subsidyPerPaymentMilliMinor: number; subsidisedShareBps: number } }
      | null
      | undefined
  )?.forecast;
  const view = rolloutComparison(rollout, forecast, change.state === "active");
  const currency = change.assessment?.simulation?.currency ?? "CNY";
  const perPayment = (milli: number | undefined) =>
    milli === undefined ? "—" : `${formatMinor(milli / 1000, currency)} ${currency}`;
  return (
    <>
      <div class="table-wrap">
        <table data-testid="rollout-stages">
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col" class="number">
                Share
              </th>
              <th scope="col" class="number">
                Money at risk (ceiling)
              </th>
              <th scope="col" class="number">
                Dwell
              </th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {view.stages.map((stage, index) => (
              <tr
                key={index}
                aria-current={stage.status === "current" ? "step" : undefined}
                class={`stage-${stage.status}`}
              >
                <th scope="row">{index + 1}</th>
                <td class="number">{formatBps(stage.shareBps)}</td>
                <td class="number">{formatMinor(stage.moneyAtRiskMaxMinor, currency)}</td>
                <td class="number">
                  {stage.dwellMinMs === 0 ? "—" : formatDuration(stage.dwellMinMs)}
                </td>
                <td>{stage.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <table class="money" data-testid="rollout-observed">
        <caption>
          The current stage, observed against the forecast (tolerance ±
          {formatBps(view.toleranceBps)}, judged after {formatNumber(view.paymentsMin)} payments)
        </caption>
        <thead>
          <tr>
            <th scope="col">Figure</th>
            <th scope="col" class="number">
              Observed
            </th>
            <th scope="col" class="number">
              Forecast
            </th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">Payments served the change</th>
            <td class="number">{formatNumber(view.observed.payments)}</td>
            <td class="number">—</td>
          </tr>
          <tr>
            <th scope="row">Subsidy per payment</th>
            <td class="number">{perPayment(view.observed.subsidyPerPaymentMilliMinor)}</td>
            <td class="number">{perPayment(view.forecast?.subsidyPerPaymentMilliMinor)}</td>
          </tr>
          <tr>
            <th scope="row">Payments subsidised</th>
            <td class="number">
              {view.observed.subsidisedShareBps === undefined
                ? "—"
                : formatBps(view.observed.subsidisedShareBps)}
            </td>
            <td class="number">
              {view.forecast === undefined ? "—" : formatBps(view.forecast.subsidisedShareBps)}
            </td>
          </tr>
          <tr>
            <th scope="row">Subsidy granted in the stage</th>
            <td class="number">
              {formatMinor(view.observed.subsidyMinor, currency)} (
              {formatBps(view.moneyAtRiskUsedBps)} of its ceiling)
            </td>
            <td class="number">—</td>
          </tr>
        </tbody>
      </table>
    </>
  );
}

/** A pause's answer, named by the campaign it was for (its `what`). */
function pauseOutcome(answer: ActionAnswer<RecordedAction>): PauseOutcome {
  return answer.ok
    ? { campaignId: answer.what, ok: true, changeId: answer.value.id }
    : { campaignId: answer.what, ok: false, message: answer.text };
}

/**
 * Pausing the campaigns a change reaches (operators; one request each, in force at once): one at
 * a time, or every one that may be paused with one confirmation. Their statuses come from
 * GET /v1/campaigns; each answer — the pause's change, or the API's refusal — is beside its campaign.
 */
function PauseCampaigns({
  api,
  campaignIds,
  who,
  reason,
  reasonCheck,
}: {
  api: ApiClient;
  campaignIds: readonly string[];
  who: TokenRecord;
  reason: string;
  reasonCheck: string | undefined;
}) {
  const { loaded, lastError, reload } = useApi(
    api,
    async (client) => {
      const { campaigns, kills } = await readCampaigns(client);
      return campaignViews(campaigns, kills);
    },
    [],
    10_000,
  );
  const action = useAction<RecordedAction>(api);
  const busy = action.busy;
  const [outcomes, setOutcomes] = useState<ReadonlyMap<string, PauseOutcome>>(new Map());
  const [summary, setSummary] = useState<string | undefined>(undefined);
  if (loaded.state === "loading") return <Loading what="the statuses of its campaigns" />;
  if (loaded.state === "error") return <Failed error={loaded.error} retry={reload} />;
  const campaigns = new Map(loaded.data.map((view) => [view.id, view] as const));
  const targets = pauseTargets(campaignIds, campaigns, who.roles);
  const all = pauseAllStance(targets, who.roles);
  const pauseEach = async (ids: readonly string[]) => {
    setSummary(undefined);
    const answered = new Map(outcomes);
    const batch = await action.runEach(
      ids.map((campaignId) => ({
        what: campaignId,
        path: `/v1/campaigns/${encodeURIComponent(campaignId)}/pause`,
        body: { reason: reason.trim() },
      })),
      (answer) => {
        answered.set(answer.what, pauseOutcome(answer));
        setOutcomes(new Map(answered));
      },
    );
    if (ids.length > 1) setSummary(pauseAllSummary(batch.map(pauseOutcome)));
    reload();
  };
  return (
    <div data-testid="pause-campaigns">
      <h3>Pause its campaigns</h3>
      <p class="meta">
        A pause is in force at once and is not rolled back; resuming is a change request.
      </p>
      {lastError === undefined ? null : <Failed error={lastError} />}
      <div class="toolbar">
        <ConfirmButton
          label={all.campaignIds.length === 0 ? "Pause all" : `Pause all ${all.campaignIds.length}`}
          danger
          disabled={busy || !all.allowed || reasonCheck !== undefined}
          confirmText={`Stop every subsidy of ${all.campaignIds.join(", ")} from the next payment on?`}
          onConfirm={() => void pauseEach(all.campaignIds)}
        />
        <span class="sub">
          {!all.allowed ? all.why : reasonCheck === undefined ? "" : "Write a reason first."}
        </span>
      </div>
      {summary === undefined ? null : (
        <p class="state" role="status" data-testid="pause-all-answer">
          {summary}
        </p>
      )}
      <ul class="gates">
        {targets.slice(0, 100).map((target) => {
          const outcome = outcomes.get(target.campaignId);
          return (
            <li key={target.campaignId} data-campaign={target.campaignId}>
              <a href={hrefOf({ page: "campaign", campaignId: target.campaignId })}>
                {target.campaignId}
              </a>{" "}
              <span class={`badge status-${target.status ?? "none"}`}>
                {target.status ?? "not active"}
              </span>{" "}
              <ConfirmButton
                label={`Pause ${target.campaignId}`}
                danger
                disabled={busy || !target.stance.allowed || reasonCheck !== undefined}
                confirmText={`Stop every subsidy of ${target.campaignId} from the next payment on?`}
                onConfirm={() => void pauseEach([target.campaignId])}
              />{" "}
              {target.stance.allowed ? null : <span class="sub">{target.stance.why}</span>}
              {outcome === undefined ? null : outcome.ok ? (
                <span class="sub" role="status">
                  Paused, recorded as{" "}
                  <a href={hrefOf({ page: "change", changeId: outcome.changeId })}>
                    {outcome.changeId}
                  </a>
                  .
                </span>
              ) : (
                <span class="field-problem" role="alert">
                  {outcome.message}
                </span>
              )}
            </li>
          );
        })}
      </ul>
      {targets.length > 100 ? <p class="meta">and {targets.length - 100} more</p> : null}
    </div>
  );
}
