/**
 * Editing a campaign: a draft of its active version, checked as one types (POST /v1/lint, 400 ms
 * after the last keystroke) with each validation issue and lint finding beside the field it
 * concerns; the edit becomes a change request (POST /v1/changes, then …/submit with the
 * warnings acknowledged), reviewed like any other.
 */
import { type ApiClient, ApiFailure } from "../api.ts";
import { DocumentEditor, type DocumentJson } from "../components/document-editor.tsx";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { CAMPAIGN_FIELDS } from "../data/campaign-draft.ts";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";

export function CampaignEditPage({ api, campaignId }: { api: ApiClient; campaignId: string }) {
  const { loaded, reload } = useApi(
    api,
    (client) =>
      client.json<DocumentJson>(`/v1/documents/campaign/${encodeURIComponent(campaignId)}`),
    [campaignId],
  );
  return (
    <section aria-labelledby="edit-title">
      <p>
        <a href={hrefOf({ page: "campaign", campaignId })}>← {campaignId}</a>
      </p>
      <h1 id="edit-title">Edit {campaignId}</h1>
      {loaded.state === "loading" ? <Loading what={`campaign ${campaignId}`} /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 404 ? (
          <Empty>No active campaign {campaignId}.</Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {loaded.state === "ready" ? (
        <DocumentEditor api={api} original={loaded.data} fields={CAMPAIGN_FIELDS} />
      ) : null}
    </section>
  );
}
