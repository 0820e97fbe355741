/**
 * The audit log with its verification status: GET /v1/audit/verify checks the whole hash chain,
 * GET /v1/audit pages the entries (shown newest first, 50 at a time).
 */
import { useState } from "preact/hooks";
import type { ApiClient } from "../api.ts";
import { Empty, Failed, Loading } from "../components/states.tsx";
import { formatNumber } from "../data/format.ts";
import { useApi } from "../use-api.ts";

const PAGE_SIZE = 50;

interface Verification {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { readonly sequence: number; readonly hash: string } | null;
  readonly violations: readonly {
    readonly sequence?: number;
    readonly code?: string;
    readonly message?: string;
  }[];
  readonly violationsOmitted: number;
}

interface AuditEntry {
  readonly sequence: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly reason: string | null;
  readonly hash: string;
}

/** The first sequence after which a page ending at `lastSequence` starts. */
export function pageStart(lastSequence: number): number {
  return Math.max(0, lastSequence - PAGE_SIZE);
}

export function AuditPage({ api }: { api: ApiClient }) {
  const verification = useApi(
    api,
    (client) => client.json<Verification>("/v1/audit/verify"),
    [],
    30_000,
  );
  /** The newest sequence shown; undefined follows the head. */
  const [lastShown, setLastShown] = useState<number | undefined>(undefined);
  const head =
    verification.loaded.state === "ready"
      ? (verification.loaded.data.head?.sequence ?? 0)
      : undefined;
  const last = lastShown ?? head;
  const page = useApi(
    api,
    async (client) =>
      last === undefined
        ? undefined
        : client.json<{ entries: AuditEntry[] }>(
            `/v1/audit?afterSequence=${pageStart(last)}&limit=${Math.min(PAGE_SIZE, last) || 1}`,
          ),
    [last],
  );
  return (
    <section aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title">Audit log</h1>
        <p class="meta">
          Every action on the control plane, hash-chained (docs/reference/audit-log.md).
        </p>
      </div>
      {verification.loaded.state === "loading" ? <Loading what="the chain's verification" /> : null}
      {verification.loaded.state === "error" ? (
        <Failed error={verification.loaded.error} retry={verification.reload} />
      ) : null}
      {verification.loaded.state === "ready" ? (
        <VerificationBanner verification={verification.loaded.data} recheck={verification.reload} />
      ) : null}
      {last === undefined ? null : last === 0 ? (
        <Empty>The audit log is empty.</Empty>
      ) : (
        <>
          <nav class="toolbar" aria-label="Audit pages">
            <button
              type="button"
              disabled={last <= PAGE_SIZE}
              onClick={() => setLastShown(Math.max(PAGE_SIZE, last - PAGE_SIZE))}
            >
              Older
            </button>
            <button
              type="button"
              disabled={head === undefined || last >= head}
              onClick={() =>
                setLastShown(
                  head !== undefined && last + PAGE_SIZE >= head ? undefined : last + PAGE_SIZE,
                )
              }
            >
              Newer
            </button>
            <span class="meta">
              Entries {formatNumber(pageStart(last) + 1)}–{formatNumber(last)} of{" "}
              {formatNumber(head ?? last)}
            </span>
          </nav>
          {page.loaded.state === "loading" ? <Loading what="entries" /> : null}
          {page.loaded.state === "error" ? (
            <Failed error={page.loaded.error} retry={page.reload} />
          ) : null}
          {page.loaded.state === "ready" && page.loaded.data !== undefined ? (
            <AuditTable entries={page.loaded.data.entries} />
          ) : null}
        </>
      )}
    </section>
  );
}

function VerificationBanner({
  verification,
  recheck,
}: {
  verification: Verification;
  recheck: () => void;
}) {
  return (
    <div
      class={`banner ${verification.ok ? "banner-ok" : "banner-broken"}`}
      role="status"
      data-testid="audit-verification"
    >
      <strong>{verification.ok ? "Chain verified" : "Chain broken"}</strong>{" "}
      {verification.ok
        ? `${formatNumber(verification.entries)} entries, head ${verification.head === null ? "none" : `${verification.head.sequence}:${verification.head.hash.slice(0, 12)}…`}`
        : `${verification.violations.length + verification.violationsOmitted} violation(s)`}
      <button type="button" onClick={recheck}>
        Verify again
      </button>
      {verification.ok ? null : (
        <ul>
          {verification.violations.map((violation, index) => (
            <li key={index}>
              {violation.sequence === undefined ? "" : `#${violation.sequence} `}
              {violation.code ?? ""} {violation.message ?? ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function AuditTable({ entries }: { entries: readonly AuditEntry[] }) {
  if (entries.length === 0) return <Empty>No entries on this page.</Empty>;
  const newestFirst = [...entries].sort((a, b) => b.sequence - a.sequence);
  return (
    <div class="table-wrap">
      <table data-testid="audit-table">
        <thead>
          <tr>
            <th scope="col" class="number">
              #
            </th>
            <th scope="col">At</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Subject</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((entry) => (
            <tr key={entry.sequence}>
              <td class="number">{entry.sequence}</td>
              <td>{entry.at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</td>
              <td>{entry.actor}</td>
              <td>
                <code>{entry.action}</code>
              </td>
              <td>{entry.subject}</td>
              <td>{entry.reason ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
