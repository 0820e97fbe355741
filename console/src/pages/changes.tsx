/** Change requests, newest first, with state, risk and marks (GET /v1/changes). */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";

interface ChangeSummary {
  readonly id: string;
  readonly title: string;
  readonly state: string;
  readonly authorId: string;
  readonly updatedAt: string;
  readonly edits: number;
  readonly risk: string | null;
  /** The gates forced past (`lint`, `approval`); empty when none. */
  readonly forced: readonly string[];
  readonly operatorAction: { readonly kind: string } | null;
}

const STATES = [
  "",
  "draft",
  "in_review",
  "approved",
  "rolling_out",
  "active",
  "rejected",
  "rolled_back",
] as const;

export function ChangesPage({ api }: { api: ApiClient }) {
  const [state, setState] = useState<(typeof STATES)[number]>("in_review");
  const { loaded, lastError, reload } = useApi(
    api,
    (client) =>
      client.json<{ changes: ChangeSummary[] }>(
        `/v1/changes?limit=200${state === "" ? "" : `&state=${state}`}`,
      ),
    [state],
    10_000,
  );
  return (
    <section aria-labelledby="changes-title">
      <div class="page-head">
        <h1 id="changes-title">Changes</h1>
        <p class="meta">
          Every edit is a change request: linted, simulated, approved by someone else, rolled out in
          stages.
        </p>
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
                {value === "" ? "any" : value.replace("_", " ")}
              </option>
            ))}
          </select>
        </label>
      </div>
      {loaded.state === "loading" ? <Loading what="changes" /> : null}
      {loaded.state === "error" ? <Failed error={loaded.error} retry={reload} /> : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        loaded.data.changes.length === 0 ? (
          <Empty>No changes{state === "" ? "" : ` ${state.replace("_", " ")}`}.</Empty>
        ) : (
          <div class="table-wrap">
            <table data-testid="change-table">
              <thead>
                <tr>
                  <th scope="col">Change</th>
                  <th scope="col">State</th>
                  <th scope="col">Risk</th>
                  <th scope="col">Author</th>
                  <th scope="col" class="number">
                    Edits
                  </th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {loaded.data.changes.map((change) => (
                  <tr key={change.id}>
                    <th scope="row">
                      <a href={hrefOf({ page: "change", changeId: change.id })}>{change.title}</a>
                      <span class="sub">
                        {change.id}
                        {change.forced.length > 0
                          ? ` · forced past ${change.forced.join(" and ")}`
                          : ""}
                        {change.operatorAction === null
                          ? ""
                          : ` · operator ${change.operatorAction.kind}`}
                      </span>
                    </th>
                    <td>{change.state.replace("_", " ")}</td>
                    <td>
                      {change.risk === null ? (
                        "—"
                      ) : (
                        <span class={`badge risk-${change.risk}`}>{change.risk}</span>
                      )}
                    </td>
                    <td>{change.authorId}</td>
                    <td class="number">{change.edits}</td>
                    <td>{change.updatedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</td>
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
