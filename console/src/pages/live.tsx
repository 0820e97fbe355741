/**
 * Live: payments and subsidy per second, the campaigns and funders spending most, breakers and
 * kills — polled every 2 s from GET /metrics, /v1/breakers and /v1/kills, updated in place.
 * On-call acknowledges a tripped breaker and resets an acknowledged one here
 * (POST /v1/breakers/{id}/acknowledge | reset), each with a confirmation.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiClient, ApiFailure, type TokenRecord } from "../api.ts";
import { BarChart, LineChart } from "../components/charts.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import {
  formatBps,
  formatClock,
  formatInstant,
  formatMinor,
  formatNumber,
} from "../data/format.ts";
import { type LiveSample, liveSampleFromText, summarizeLive } from "../data/live.ts";
import { type BreakerMove, breakerMoveBody, breakerMoveStance } from "../data/operator-actions.ts";
import { useAction } from "../use-action.ts";

const POLL_MS = 2_000;
/** Scrapes kept: two minutes at one every 2 s. */
const SAMPLES_MAX = 61;

interface Breaker {
  readonly breakerId: string;
  readonly state: string;
  readonly trip?: { readonly code?: string; readonly atMs?: number; readonly message?: string };
}

interface Kill {
  readonly sequence: number;
  readonly scope: { kind: string; campaignIds?: string[]; templateId?: string; funding?: string };
  readonly reason?: string;
  readonly atMs?: number;
}

interface GuardState {
  readonly breakers: readonly Breaker[];
  readonly kills: readonly Kill[];
}

/** The currency the page shows money in: the one most campaigns use (the demo's is CNY). */
async function displayCurrency(api: ApiClient): Promise<string> {
  try {
    const { campaigns } = await api.json<{ campaigns: { currency: string }[] }>("/v1/campaigns");
    const counts = new Map<string, number>();
    for (const campaign of campaigns)
      counts.set(campaign.currency, (counts.get(campaign.currency) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "CNY";
  } catch {
    return "CNY";
  }
}

export function LivePage({ api, who }: { api: ApiClient; who: TokenRecord }) {
  const [samples, setSamples] = useState<readonly LiveSample[]>([]);
  const [guard, setGuard] = useState<GuardState | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [currency, setCurrency] = useState("CNY");
  const samplesRef = useRef<readonly LiveSample[]>([]);
  /** Bumped by each breaker move: a poll sent before it must not show the state it replaced. */
  const movesRef = useRef(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    void displayCurrency(api).then((found) => {
      if (!stopped) setCurrency(found);
    });
    const poll = async () => {
      const movesBefore = movesRef.current;
      try {
        const [metrics, breakers, kills] = await Promise.all([
          api.text("/metrics"),
          api.json<{ breakers: Breaker[] }>("/v1/breakers"),
          api.json<{ active: Kill[] }>("/v1/kills"),
        ]);
        if (stopped) return;
        const next = [...samplesRef.current, liveSampleFromText(metrics, Date.now())].slice(
          -SAMPLES_MAX,
        );
        samplesRef.current = next;
        setSamples(next);
        if (movesRef.current === movesBefore)
          setGuard({ breakers: breakers.breakers, kills: kills.active });
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
  }, [api]);

  /** A breaker's state as a move answered it, shown at once; the next poll confirms it. */
  const moved = (breakerId: string, state: string) => {
    movesRef.current += 1;
    setGuard((shown) =>
      shown === undefined
        ? shown
        : {
            ...shown,
            breakers: shown.breakers.map((breaker) =>
              breaker.breakerId === breakerId ? { ...breaker, state } : breaker,
            ),
          },
    );
  };
  const summary = summarizeLive(samples);
  const forbidden = error instanceof ApiFailure && error.status === 403;
  return (
    <section aria-labelledby="live-title">
      <div class="page-head">
        <h1 id="live-title">Live</h1>
        <p class="meta">
          Polled every {POLL_MS / 1000} s from <code>/metrics</code>; rates over the last{" "}
          {formatNumber(summary.windowS, 0)} s. Money in {currency}.
        </p>
      </div>
      {error === undefined ? null : <Failed error={error} />}
      {samples.length === 0 && error === undefined ? <Loading what="the server's metrics" /> : null}
      {forbidden ? <Empty>The live page needs an operator, auditor or admin token.</Empty> : null}
      {samples.length > 0 ? (
        <>
          <div class="tiles" aria-live="polite">
            <Tile
              label="Payments / s"
              testId="payments-per-s"
              value={summary.now === undefined ? "…" : formatNumber(summary.now.paymentsPerS, 1)}
            />
            <Tile
              label={`Subsidy / s (${currency})`}
              testId="subsidy-per-s"
              value={
                summary.now === undefined
                  ? "…"
                  : formatMinor(summary.now.subsidyMinorPerS, currency)
              }
            />
            <Tile
              label="Payments subsidised"
              testId="granted-share"
              value={
                summary.grantedShareBps === undefined ? "…" : formatBps(summary.grantedShareBps)
              }
            />
            <Tile
              label="Payments since start"
              testId="payments-total"
              value={formatNumber(samples[samples.length - 1]?.payments ?? 0)}
            />
          </div>
          <div class="charts">
            <LineChart
              title="Payments per second"
              testId="payments-chart"
              points={summary.series.map((point) => ({ x: point.atMs, y: point.paymentsPerS }))}
              formatX={formatClock}
              formatY={(value) => formatNumber(value, value < 10 ? 1 : 0)}
            />
            <LineChart
              title={`Subsidy per second (${currency})`}
              testId="subsidy-chart"
              points={summary.series.map((point) => ({ x: point.atMs, y: point.subsidyMinorPerS }))}
              formatX={formatClock}
              formatY={(value) => formatMinor(value, currency)}
            />
          </div>
          <div class="columns">
            <div>
              <h2>Top campaigns</h2>
              {summary.topCampaigns.length === 0 ? (
                <Empty>No subsidy granted since the server started.</Empty>
              ) : (
                <>
                  <BarChart
                    title={`Subsidy per second by campaign (${currency})`}
                    bars={summary.topCampaigns.map((spender) => ({
                      label: spender.key,
                      value: spender.minorPerS,
                    }))}
                    formatValue={(value) => formatMinor(value, currency)}
                  />
                  <SpenderTable
                    testId="top-campaigns"
                    heading="Campaign"
                    spenders={summary.topCampaigns}
                    currency={currency}
                  />
                </>
              )}
            </div>
            <div>
              <h2>Top funders</h2>
              {summary.topFunders.length === 0 ? (
                <Empty>No subsidy granted since the server started.</Empty>
              ) : (
                <SpenderTable
                  testId="top-funders"
                  heading="Funder"
                  spenders={summary.topFunders}
                  currency={currency}
                />
              )}
            </div>
          </div>
          {/* Full width: on-call's buttons sit beside each breaker. */}
          <h2>Breakers</h2>
          <BreakerTable api={api} who={who} guard={guard} moved={moved} />
          <h2>Kills</h2>
          <KillTable guard={guard} />
        </>
      ) : null}
    </section>
  );
}

function Tile(props: { label: string; value: string; testId: string }) {
  return (
    <div class="tile">
      <span class="tile-label">{props.label}</span>
      <span class="tile-value" data-testid={props.testId}>
        {props.value}
      </span>
    </div>
  );
}

function SpenderTable(props: {
  heading: string;
  spenders: ReturnType<typeof summarizeLive>["topCampaigns"];
  currency: string;
  testId: string;
}) {
  return (
    <div class="table-wrap">
      <table data-testid={props.testId}>
        <thead>
          <tr>
            <th scope="col">{props.heading}</th>
            <th scope="col" class="number">
              Per second
            </th>
            <th scope="col" class="number">
              Since start
            </th>
          </tr>
        </thead>
        <tbody>
          {props.spenders.map((spender) => (
            <tr key={spender.key}>
              <th scope="row">{spender.key === "" ? "(none)" : spender.key}</th>
              <td class="number">{formatMinor(spender.minorPerS, props.currency)}</td>
              <td class="number">{formatMinor(spender.totalMinor, props.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function BreakerTable({
  api,
  who,
  guard,
  moved,
}: {
  api: ApiClient;
  who: TokenRecord;
  guard: GuardState | undefined;
  moved: (breakerId: string, state: string) => void;
}) {
  if (guard === undefined) return <Loading what="breakers" />;
  if (guard.breakers.length === 0)
    return <Empty>Every breaker is armed: none has tripped since this server started.</Empty>;
  // Only on-call moves breakers (the API's rule): others read the states, with no buttons.
  const onCall = who.roles.includes("operator");
  return (
    <div class="table-wrap">
      <table data-testid="breakers">
        <thead>
          <tr>
            <th scope="col">Breaker</th>
            <th scope="col">State</th>
            <th scope="col">Trip</th>
            {onCall ? <th scope="col">On-call</th> : null}
          </tr>
        </thead>
        <tbody>
          {guard.breakers.map((breaker) => (
            <tr key={breaker.breakerId} data-breaker={breaker.breakerId}>
              <th scope="row">{breaker.breakerId}</th>
              <td>
                <span class={`badge breaker-${breaker.state}`} data-testid="breaker-state">
                  {breaker.state}
                </span>
              </td>
              <td>
                {breaker.trip === undefined
                  ? "—"
                  : `${breaker.trip.code ?? ""} ${formatInstant(breaker.trip.atMs)}`}
              </td>
              {onCall ? (
                <td>
                  <BreakerMoves api={api} who={who} breaker={breaker} moved={moved} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const MOVES: readonly { move: BreakerMove; label: string; confirm: string }[] = [
  {
    move: "acknowledge",
    label: "Acknowledge",
    confirm: "Say on-call has this trip in hand?",
  },
  {
    move: "reset",
    label: "Reset",
    confirm: "Arm it again? It trips anew on the next breach.",
  },
];

/** Acknowledge and reset of one breaker, each with a confirmation; why not, or the API's answer. */
function BreakerMoves({
  api,
  who,
  breaker,
  moved,
}: {
  api: ApiClient;
  who: TokenRecord;
  breaker: Breaker;
  moved: (breakerId: string, state: string) => void;
}) {
  const { busy, answer, run } = useAction<{ breakerId: string; state: string }>(api);
  const [reason, setReason] = useState("");
  const body = breakerMoveBody(reason);
  const send = async (move: BreakerMove, label: string) => {
    if (!body.ok) return;
    const path = `/v1/breakers/${encodeURIComponent(breaker.breakerId)}/${move}`;
    const sent = await run(label, path, body.body);
    if (sent.ok) {
      setReason("");
      moved(breaker.breakerId, sent.value.state);
    }
  };
  const stances = MOVES.map(({ move }) => breakerMoveStance(breaker.state, move, who.roles));
  // Armed, neither move applies: one sentence says so.
  const why = stances.every((stance) => !stance.allowed)
    ? [stances[0]?.why ?? ""]
    : stances.filter((stance) => !stance.allowed).map((stance) => stance.why);
  return (
    <div class="breaker-moves">
      {stances.some((stance) => stance.allowed) ? (
        <input
          type="text"
          aria-label={`Why (optional, audited with the move) for ${breaker.breakerId}`}
          placeholder="Why (optional, audited)"
          value={reason}
          disabled={busy}
          onInput={(event) => setReason((event.target as HTMLInputElement).value)}
          aria-invalid={body.ok ? undefined : true}
        />
      ) : null}
      {body.ok ? null : <span class="field-problem">{body.problem}</span>}
      {MOVES.map(({ move, label, confirm }, index) => (
        <ConfirmButton
          key={move}
          label={label}
          disabled={busy || !body.ok || stances[index]?.allowed !== true}
          confirmText={`${breaker.breakerId}: ${confirm}`}
          onConfirm={() => void send(move, label)}
        />
      ))}
      {why.length === 0 ? null : <span class="sub">{why.join(" ")}</span>}
      {answer === undefined || answer.ok ? null : (
        <span class="field-problem" role="alert" data-testid="breaker-refusal">
          {`${answer.what}: ${answer.text}`}
        </span>
      )}
    </div>
  );
}

function KillTable({ guard }: { guard: GuardState | undefined }) {
  if (guard === undefined) return <Loading what="kills" />;
  if (guard.kills.length === 0) return <Empty>No active kill.</Empty>;
  return (
    <ul class="kills" data-testid="kills">
      {guard.kills.map((kill) => (
        <li key={kill.sequence}>
          <strong>#{kill.sequence}</strong> {kill.scope.kind}
          {kill.scope.campaignIds === undefined ? "" : `: ${kill.scope.campaignIds.join(", ")}`}
          {kill.scope.templateId === undefined ? "" : `: ${kill.scope.templateId}`}
          {kill.scope.funding === undefined ? "" : `: ${kill.scope.funding}`}{" "}
          {kill.reason === undefined ? "" : `— ${kill.reason}`}
        </li>
      ))}
    </ul>
  );
}
