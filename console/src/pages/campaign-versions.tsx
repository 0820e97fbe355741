/**
 * A campaign's versions on its page (GET /v1/documents/campaign/{id}/versions, 20 a page, older
 * ones on demand): number, state with the active one marked, when it was written and reached
 * everyone, the change behind it (a link) with its marks. Choosing a version shows how it differs
 * from the newest, field by field, or from any other version listed (GET …/versions/{n} for both).
 */
import { useState } from "preact/hooks";
import { type ApiClient, ApiFailure } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import {
  type VersionEntryView,
  type VersionPageView,
  versionDifferences,
  versionRows,
} from "../data/campaign-versions.ts";
import { shownValue } from "../data/change-review.ts";
import { formatInstant } from "../data/format.ts";
import { hrefOf } from "../data/route.ts";
import { useApi } from "../use-api.ts";

const PAGE_SIZE = 20;
/** A rollout or rollback elsewhere shows here within this long. */
const POLL_MS = 15_000;

function versionsPath(campaignId: string): string {
  return `/v1/documents/campaign/${encodeURIComponent(campaignId)}/versions`;
}

export function CampaignVersions({ api, campaignId }: { api: ApiClient; campaignId: string }) {
  const { loaded, lastError, reload } = useApi(
    api,
    (client) => client.json<VersionPageView>(`${versionsPath(campaignId)}?limit=${PAGE_SIZE}`),
    [campaignId],
    POLL_MS,
  );
  const [older, setOlder] = useState<{
    readonly versions: readonly VersionEntryView[];
    readonly next: number | null;
  }>({ versions: [], next: null });
  const [olderError, setOlderError] = useState<unknown>(undefined);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [selected, setSelected] = useState<number | undefined>(undefined);
  /** The version the selected one is compared with; undefined: the newest. */
  const [against, setAgainst] = useState<number | undefined>(undefined);

  const first = loaded.state === "ready" ? loaded.data : undefined;
  const firstOldest = first?.versions.at(-1)?.version;
  // Older pages hang below the first: kept only while they continue it.
  const olderShown =
    older.versions.length > 0 && older.versions[0]!.version === (firstOldest ?? 0) - 1
      ? older
      : { versions: [], next: first?.nextBeforeVersion ?? null };
  const next = olderShown.next;

  async function loadOlder(beforeVersion: number) {
    setLoadingOlder(true);
    try {
      const page = await api.json<VersionPageView>(
        `${versionsPath(campaignId)}?limit=${PAGE_SIZE}&beforeVersion=${beforeVersion}`,
      );
      setOlder({
        versions: [...olderShown.versions, ...page.versions],
        next: page.nextBeforeVersion,
      });
      setOlderError(undefined);
    } catch (error) {
      setOlderError(error);
    } finally {
      setLoadingOlder(false);
    }
  }

  return (
    <section aria-labelledby="versions-title" data-testid="campaign-versions">
      <h2 id="versions-title">Versions</h2>
      {loaded.state === "loading" ? <Loading what="the versions" /> : null}
      {loaded.state === "error" ? (
        loaded.error instanceof ApiFailure && loaded.error.status === 403 ? (
          <Empty>
            The versions need a token with a reader's role (author, reviewer, operator, auditor,
            admin).
          </Empty>
        ) : (
          <Failed error={loaded.error} retry={reload} />
        )
      ) : null}
      {lastError === undefined ? null : <Failed error={lastError} />}
      {first === undefined ? null : first.versions.length === 0 ? (
        <Empty>No versions listed: the campaign has none below this page.</Empty>
      ) : (
        <>
          <VersionTable
            page={{ ...first, versions: listed(first, olderShown.versions) }}
            selected={selected}
            onSelect={(version) => setSelected(version === selected ? undefined : version)}
          />
          {next === null ? (
            <p class="meta">
              {first.latestVersion === 1
                ? "This is the campaign's only version: nothing to compare yet."
                : "Every version is listed."}
            </p>
          ) : (
            <p>
              <button type="button" disabled={loadingOlder} onClick={() => void loadOlder(next)}>
                {loadingOlder ? "Loading older versions…" : "Show older versions"}
              </button>
            </p>
          )}
          {olderError === undefined ? null : <Failed error={olderError} />}
          {selected === undefined ? null : (
            <VersionComparison
              api={api}
              campaignId={campaignId}
              version={selected}
              against={against ?? first.latestVersion}
              latestVersion={first.latestVersion}
              choices={listed(first, olderShown.versions).map((entry) => entry.version)}
              onAgainst={(version) =>
                setAgainst(version === first.latestVersion ? undefined : version)
              }
            />
          )}
        </>
      )}
    </section>
  );
}

/** The versions shown: the first page, then the older pages loaded below it. */
function listed(
  first: VersionPageView,
  older: readonly VersionEntryView[],
): readonly VersionEntryView[] {
  return [...first.versions, ...older];
}

function VersionTable({
  page,
  selected,
  onSelect,
}: {
  page: VersionPageView;
  selected: number | undefined;
  onSelect: (version: number) => void;
}) {
  const rows = versionRows(page);
  return (
    <div class="table-wrap">
      <table data-testid="version-table">
        <caption>
          Newest first; the active version is what every payer outside a rollout gets. Choose a
          version to see how it differs from the newest, or from another version listed.
        </caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">State</th>
            <th scope="col">Written</th>
            <th scope="col">For everyone since</th>
            <th scope="col">Change</th>
            <th scope="col">By</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.version}
              class={row.isActive ? "version-active" : undefined}
              data-testid={`version-${row.version}`}
              data-state={row.state}
            >
              <th scope="row">
                <button
                  type="button"
                  class="version-button"
                  aria-pressed={selected === row.version}
                  aria-label={`Version ${row.version}, ${row.stateLabel}: ${selected === row.version ? "hide" : "show"} what differs from the newest`}
                  onClick={() => onSelect(row.version)}
                >
                  v{row.version}
                </button>
              </th>
              <td>
                <span class={`badge version-${row.state}`}>{row.stateLabel}</span>
                {row.isActive ? <span class="sub">in force</span> : null}
              </td>
              <td>{row.writtenAtMs === null ? "not recorded" : formatInstant(row.writtenAtMs)}</td>
              <td>{formatInstant(row.activatedAtMs)}</td>
              <td>
                <a href={hrefOf({ page: "change", changeId: row.changeId })}>{row.what}</a>
                <span class="sub">
                  {row.writerId}
                  {row.marks.length === 0 ? "" : ` · ${row.marks.join(" · ")}`}
                </span>
              </td>
              <td>{row.by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface VersionWithDocument extends VersionEntryView {
  readonly document: Record<string, unknown> | null;
}

function VersionComparison({
  api,
  campaignId,
  version,
  against,
  latestVersion,
  choices,
  onAgainst,
}: {
  api: ApiClient;
  campaignId: string;
  version: number;
  /** The version compared with: the newest unless another is chosen. */
  against: number;
  latestVersion: number;
  /** The versions listed on the page, newest first. */
  choices: readonly number[];
  onAgainst: (version: number) => void;
}) {
  const { loaded, reload } = useApi(
    api,
    async (client) => {
      const path = versionsPath(campaignId);
      const [chosen, other] = await Promise.all([
        client.json<VersionWithDocument>(`${path}/${version}`),
        client.json<VersionWithDocument>(`${path}/${against}`),
      ]);
      return { chosen, other };
    },
    [campaignId, version, against],
  );
  const isNewest = (candidate: number) => candidate === latestVersion;
  return (
    <div class="version-comparison" aria-live="polite" data-testid="version-comparison">
      <h3>
        Version {version}
        {version === against
          ? isNewest(version)
            ? " (the newest)"
            : ""
          : isNewest(against)
            ? ` against the newest, version ${against}`
            : ` against version ${against}`}
      </h3>
      <p>
        <label>
          Compare with{" "}
          <select
            data-testid="version-against"
            value={String(against)}
            onChange={(event) => onAgainst(Number((event.target as HTMLSelectElement).value))}
          >
            {choices.map((choice) => (
              <option key={choice} value={String(choice)}>
                version {choice}
                {isNewest(choice) ? " (the newest)" : ""}
              </option>
            ))}
          </select>
        </label>
      </p>
      {loaded.state === "loading" ? <Loading what={`version ${version}`} /> : null}
      {loaded.state === "error" ? <Failed error={loaded.error} retry={reload} /> : null}
      {loaded.state === "ready" ? (
        <Differences {...loaded.data} otherIsNewest={isNewest(against)} />
      ) : null}
    </div>
  );
}

function Differences({
  chosen,
  other,
  otherIsNewest,
}: {
  chosen: VersionWithDocument;
  other: VersionWithDocument;
  otherIsNewest: boolean;
}) {
  if (chosen.version === other.version) {
    return (
      <p class="meta">
        {otherIsNewest
          ? "This is the newest version: the configuration shown above. Choose an earlier one to see what it held, or compare it with another."
          : "A version is compared with itself: choose another to compare with."}
      </p>
    );
  }
  const differences = versionDifferences(chosen.document, other.document);
  if (differences.length === 0) {
    return (
      <Empty>
        Version {chosen.version} held exactly what version {other.version}{" "}
        {otherIsNewest ? "holds" : "held"}
        {other.rollback ? " (a rollback restores an earlier content)" : ""}.
      </Empty>
    );
  }
  return (
    <div class="table-wrap">
      <table data-testid="version-differences">
        <caption>
          {differences.length === 1 ? "1 field differs; " : `${differences.length} fields differ; `}
          "—" where a version lacks the field.
        </caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Version {chosen.version}</th>
            <th scope="col">
              Version {other.version}
              {otherIsNewest ? " (newest)" : ""}
            </th>
          </tr>
        </thead>
        <tbody>
          {differences.map((difference) => (
            <tr key={difference.path}>
              <th scope="row">
                <code>{difference.path}</code>
              </th>
              <td>
                <code>{shownValue(difference.earlier, 200)}</code>
              </td>
              <td>
                <code>{shownValue(difference.newer, 200)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
