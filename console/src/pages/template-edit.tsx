/**
 * Editing a template: the document editor over the template's active version (offer, band,
 * funding, label, allowed scenarios and regions), with the campaigns the edit reaches named
 * before one types — the change's review lists how each of them changes.
 */
import { type ApiClient, ApiFailure } from "../api.ts";
import { DocumentEditor, type DocumentJson } from "../components/document-editor.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { hrefOf } from "../data/route.ts";
import { TEMPLATE_FIELDS, templateRows } from "../data/template-draft.ts";
import { useApi } from "../use-api.ts";

async function readTemplate(api: ApiClient, templateId: string) {
  const [template, all] = await Promise.all([
    api.json<DocumentJson>(`/v1/documents/template/${encodeURIComponent(templateId)}`),
    api.json<{ documents: DocumentJson[] }>("/v1/documents"),
  ]);
  const users = templateRows(all.documents).find((row) => row.id === templateId)?.campaignIds;
  return { template, campaignIds: users ?? [] };
}

export function TemplateEditPage({ api, templateId }: { api: ApiClient; templateId: string }) {
  const { loaded, reload } = useApi(api, (client) => readTemplate(client, templateId), [
    templateId,
  ]);
  return (
    <section aria-labelledby="edit-title">
      <p>
        <a href={hrefOf({ page: "templates" })}>← Templates</a>
      </p>
      <h1 id="edit-title">Edit template {templateId}</h1>
      {loaded.state === "loading" ? <Loading what={`template ${templateId}`} /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 404 ? (
          <Empty>No active template {templateId}.</Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {loaded.state === "ready" ? (
        <>
          <p class="notice" data-testid="template-reach">
            {loaded.data.campaignIds.length === 0
              ? "No campaign uses this template: an edit reaches none."
              : `${loaded.data.campaignIds.length} campaign(s) use this template, and an edit reaches every one: ${loaded.data.campaignIds.join(", ")}.`}
          </p>
          <DocumentEditor api={api} original={loaded.data.template} fields={TEMPLATE_FIELDS} />
        </>
      ) : null}
    </section>
  );
}
