/**
 * The editor of one configuration document (a campaign, a template): a draft of its active
 * version, checked as one types (POST /v1/lint, 400 ms after the last keystroke) with each
 * validation issue and lint finding beside the field it concerns; the edit becomes a change
 * request (POST /v1/changes, then …/submit with the warnings acknowledged), reviewed like any
 * other. The fields it offers are the caller's (console/src/data/campaign-draft.ts,
 * template-draft.ts).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiClient, describeFailure } from "../api.ts";
import {
  type DraftField,
  fieldText,
  type PlacedFinding,
  parsedValue,
  placeFindings,
  withValue,
} from "../data/campaign-draft.ts";
import { reasonProblem } from "../data/change-review.ts";
import { hrefOf } from "../data/route.ts";

const LINT_DELAY_MS = 400;

export type DocumentJson = Record<string, unknown> & { readonly kind: string; readonly id: string };

interface LintAnswer {
  readonly linted: boolean;
  readonly findings: readonly PlacedFinding[];
}

export function DocumentEditor({
  api,
  original,
  fields,
}: {
  api: ApiClient;
  original: DocumentJson;
  fields: readonly DraftField[];
}) {
  const [draft, setDraft] = useState<DocumentJson>(original);
  const [texts, setTexts] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((field) => [field.path, fieldText(original, field)])),
  );
  const [lint, setLint] = useState<LintAnswer | undefined>(undefined);
  const [lintError, setLintError] = useState<unknown>(undefined);
  const [checking, setChecking] = useState(false);
  const [title, setTitle] = useState(`Edit ${original.id}`);
  const [why, setWhy] = useState("");
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | undefined>(undefined);
  const sequence = useRef(0);

  useEffect(() => {
    const asked = ++sequence.current;
    setChecking(true);
    const timer = setTimeout(() => {
      api
        .json<LintAnswer>("/v1/lint", {
          method: "POST",
          body: { edits: [{ op: "put", document: draft }] },
        })
        .then(
          (answer) => {
            if (asked !== sequence.current) return;
            setLint(answer);
            setLintError(undefined);
          },
          (error: unknown) => {
            if (asked === sequence.current) setLintError(error);
          },
        )
        .finally(() => {
          if (asked === sequence.current) setChecking(false);
        });
    }, LINT_DELAY_MS);
    return () => clearTimeout(timer);
  }, [api, draft]);

  const source = `${original.kind}/${original.id}`;
  const placed = placeFindings(lint?.findings ?? [], source, fields);
  const errors = (lint?.findings ?? []).filter((finding) => finding.severity === "error");
  const warnings = (lint?.findings ?? []).filter((finding) => finding.severity === "warning");
  const changed = JSON.stringify(draft) !== JSON.stringify(original);
  const whyProblem = warnings.length > 0 ? reasonProblem(why) : undefined;
  const canSubmit =
    changed &&
    lint !== undefined &&
    !checking &&
    errors.length === 0 &&
    whyProblem === undefined &&
    title.trim() !== "";

  const edit = (field: DraftField, text: string) => {
    setTexts({ ...texts, [field.path]: text });
    setDraft(withValue(draft, field.path, parsedValue(field, text)) as DocumentJson);
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!canSubmit) return;
    setBusy(true);
    setRefusal(undefined);
    try {
      const created = await api.json<{ id: string }>("/v1/changes", {
        method: "POST",
        body: { title: title.trim(), edits: [{ op: "put", document: draft }] },
      });
      try {
        await api.json(`/v1/changes/${encodeURIComponent(created.id)}/submit`, {
          method: "POST",
          body: {
            acknowledgements: warnings.map((warning) => ({
              findingKey: warning.key,
              reason: why.trim(),
            })),
          },
        });
      } catch (error) {
        // The draft exists: its page says what the submission met.
        setRefusal(
          `${created.id} was created as a draft, but not submitted: ${describeFailure(error)}`,
        );
        return;
      }
      location.hash = hrefOf({ page: "change", changeId: created.id });
    } catch (error) {
      setRefusal(describeFailure(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="editor" onSubmit={submit} noValidate>
      <p class="meta" aria-live="polite" data-testid="lint-status">
        {lintError !== undefined
          ? `Cannot check the draft: ${describeFailure(lintError)}`
          : checking || lint === undefined
            ? "Checking…"
            : errors.length + warnings.length === 0
              ? "Checked: no findings."
              : `Checked: ${errors.length} error(s), ${warnings.length} warning(s).`}
      </p>
      {placed.others.length === 0 ? null : (
        <ul class="findings-other" data-testid="other-findings">
          {placed.others.map((finding) => (
            <li key={finding.key} class={`finding-${finding.severity}`}>
              <code>{finding.code}</code> {finding.source === source ? "" : `${finding.source}: `}
              {finding.path === "" ? "" : `${finding.path}: `}
              {finding.message}
            </li>
          ))}
        </ul>
      )}
      {fields.map((field) => {
        const found = placed.byField.get(field.path) ?? [];
        const id = `field-${field.path.replace(/\./g, "-")}`;
        const describedBy = [
          field.help === undefined ? undefined : `${id}-help`,
          found.length === 0 ? undefined : `${id}-findings`,
        ]
          .filter((part) => part !== undefined)
          .join(" ");
        return (
          <div class="field" key={field.path} data-field={field.path}>
            <label for={id}>{field.label}</label>
            <input
              id={id}
              value={texts[field.path] ?? ""}
              inputMode={field.kind === "minor" ? "numeric" : undefined}
              onInput={(event) => edit(field, (event.target as HTMLInputElement).value)}
              aria-invalid={
                found.some((finding) => finding.severity === "error") ? true : undefined
              }
              aria-describedby={describedBy === "" ? undefined : describedBy}
            />
            {field.help === undefined ? null : (
              <span id={`${id}-help`} class="help">
                {field.help}
              </span>
            )}
            {found.length === 0 ? null : (
              <ul
                id={`${id}-findings`}
                class="field-findings"
                data-testid={`findings-${field.path}`}
              >
                {found.map((finding) => (
                  <li key={finding.key} class={`finding-${finding.severity}`}>
                    <strong>{finding.severity}</strong> <code>{finding.code}</code>{" "}
                    {finding.message}
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
      <h2>Change request</h2>
      <div class="field">
        <label for="change-title">Title</label>
        <input
          id="change-title"
          value={title}
          onInput={(event) => setTitle((event.target as HTMLInputElement).value)}
        />
      </div>
      {warnings.length === 0 ? null : (
        <div class="field">
          <label for="acknowledge">
            Why the {warnings.length} warning(s) are fine (recorded with each)
          </label>
          <textarea
            id="acknowledge"
            rows={2}
            value={why}
            onInput={(event) => setWhy((event.target as HTMLTextAreaElement).value)}
          />
          {why !== "" && whyProblem !== undefined ? (
            <span class="field-problem">{whyProblem}</span>
          ) : null}
        </div>
      )}
      <div class="toolbar">
        <button type="submit" disabled={!canSubmit || busy}>
          {busy ? "Submitting…" : "Create and submit the change request"}
        </button>
        <span class="sub">
          {!changed
            ? "Nothing changed yet."
            : errors.length > 0
              ? "Fix the errors first (or, for a reason, two administrators may force lint on a submitted change)."
              : ""}
        </span>
      </div>
      {refusal === undefined ? null : (
        <p class="state state-error" role="alert" data-testid="edit-refused">
          {refusal}
        </p>
      )}
    </form>
  );
}
