/** Incidents, newest opened first, with severity (GET /v1/incidents). */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { formatInstant, formatMinor } from "../data/format.ts";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";

export interface IncidentSummary {
  readonly id: string;
  readonly state: string;
  readonly severity: string;
  readonly title: string;
  readonly openedAtMs: number;
  readonly acknowledged: boolean;
  readonly cumulativeMinor: number;
}

const STATES = ["", "open", "mitigated", "resolved"] as const;

export function IncidentsPage({ api }: { api: ApiClient }) {
  const [state, setState] = useState<(typeof STATES)[number]>("");
  const { loaded, lastError, reload } = useApi(
    api,
    (client) =>
      client.json<{ incidents: IncidentSummary[] }>(
        `/v1/incidents?limit=200${state === "" ? "" : `&state=${state}`}`,
      ),
    [state],
    5_000,
  );
  return (
    <section aria-labelledby="incidents-title">
      <div class="page-head">
        <h1 id="incidents-title">Incidents</h1>
        <p class="meta">Opened by breakers or by hand; refreshed every 5 s.</p>
      </div>
      <div class="toolbar">
        <label>
          State{" "}
          <select
            value={state}
            onChange={(event) =>
              setState((event.target as HTMLSelectElement).value as (typeof STATES)[number])
            }
          >
            {STATES.map((value) => (
              <option key={value} value={value}>
                {value === "" ? "any" : value}
              </option>
            ))}
          </select>
        </label>
      </div>
      {loaded.state === "loading" ? <Loading what="incidents" /> : null}
      {loaded.state === "error" ? <Failed error={loaded.error} retry={reload} /> : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        loaded.data.incidents.length === 0 ? (
          <Empty>
            No incidents{state === "" ? "" : ` in state ${state}`}. A breaker that trips opens one;
            on-call can open one by hand.
          </Empty>
        ) : (
          <div class="table-wrap">
            <table data-testid="incident-table">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Incident</th>
                  <th scope="col">State</th>
                  <th scope="col">Opened</th>
                  <th scope="col" class="number">
                    Cumulative (CNY)
                  </th>
                </tr>
              </thead>
              <tbody>
                {loaded.data.incidents.map((incident) => (
                  <tr key={incident.id}>
                    <td>
                      <span class={`badge severity-${incident.severity}`}>{incident.severity}</span>
                    </td>
                    <th scope="row">
                      <a href={hrefOf({ page: "incident", incidentId: incident.id })}>
                        {incident.title}
                      </a>
                      <span class="sub">{incident.id}</span>
                    </th>
                    <td>
                      {incident.state}
                      {incident.acknowledged ? "" : <span class="sub">not acknowledged</span>}
                    </td>
                    <td>{formatInstant(incident.openedAtMs)}</td>
                    <td class="number">{formatMinor(incident.cumulativeMinor)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}
