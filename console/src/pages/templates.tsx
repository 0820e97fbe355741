/**
 * Templates: each with its offer, funding, label and allowed scenarios, and the campaigns that use
 * it — an edit of a template is an edit of every one of them (GET /v1/documents).
 */
import type { ApiClient } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { hrefOf } from "../data/route.ts";
import { type TemplateRow, templateRows } from "../data/template-draft.ts";
import { useApi } from "../use-api.ts";

interface DocumentsAnswer {
  readonly documents: readonly { kind: string; id: string; [field: string]: unknown }[];
}

export function TemplatesPage({ api }: { api: ApiClient }) {
  const { loaded, lastError, reload } = useApi(
    api,
    async (client) => templateRows((await client.json<DocumentsAnswer>("/v1/documents")).documents),
    [],
    30_000,
  );
  return (
    <section aria-labelledby="templates-title">
      <div class="page-head">
        <h1 id="templates-title">Templates</h1>
        <p class="meta">
          Campaigns inherit a template's offer, funding, label and allowed scenarios: editing one
          changes every campaign that uses it, and its review lists each of them.
        </p>
      </div>
      {loaded.state === "loading" ? <Loading what="templates" /> : null}
      {loaded.state === "error" ? <Failed error={loaded.error} retry={reload} /> : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {loaded.state === "ready" ? (
        loaded.data.length === 0 ? (
          <Empty>
            No active templates. Templates arrive through change requests
            (docs/reference/changes.md).
          </Empty>
        ) : (
          <TemplateTable rows={loaded.data} />
        )
      ) : null}
    </section>
  );
}

function TemplateTable({ rows }: { rows: readonly TemplateRow[] }) {
  return (
    <div class="table-wrap">
      <table data-testid="template-table">
        <caption class="visually-hidden">Active templates and the campaigns using them</caption>
        <thead>
          <tr>
            <th scope="col">Template</th>
            <th scope="col">Offer</th>
            <th scope="col">Funding and label</th>
            <th scope="col">Allowed scenarios</th>
            <th scope="col">Campaigns using it</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.id} data-template={row.id}>
              <th scope="row">
                <span class="id">{row.id}</span>
                <span class="sub">{row.name}</span>
                <a
                  href={hrefOf({ page: "template_edit", templateId: row.id })}
                  aria-label={`Edit template ${row.id}`}
                >
                  Edit
                </a>
              </th>
              <td>
                <code>{row.offer}</code> <span class="sub">{row.currency}</span>
              </td>
              <td>
                {row.funding}
                <span class="sub">{row.label}</span>
              </td>
              <td>{row.allowedScenarios.join(", ") || "—"}</td>
              <td>
                <strong data-testid="template-campaign-count">{row.campaignIds.length}</strong>
                {row.campaignIds.length === 0 ? null : (
                  <span class="sub">
                    {row.campaignIds.map((campaignId, index) => (
                      <span key={campaignId}>
                        {index === 0 ? "" : ", "}
                        <a href={hrefOf({ page: "campaign", campaignId })}>{campaignId}</a>
                      </span>
                    ))}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
