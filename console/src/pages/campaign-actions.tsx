/**
 * On-call's immediate actions on one campaign, on its page: pause it, or lower its limits — one
 * operator, a reason, one confirmation, in force at once (POST /v1/campaigns/{id}/pause,
 * …/lower-limits; docs/reference/changes.md, "Operator actions"). Each is recorded as a change
 * born active, named here with its link. Raising a limit or resuming is a change request.
 */
import { useState } from "preact/hooks";
import type { ActionAnswer, ApiClient, TokenRecord } from "../api.ts";
import { AnswerLine } from "../components/answer-line.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { ReasonField } from "../components/reason-field.tsx";
import { reasonProblem } from "../data/change-review.ts";
import { formatMoney } from "../data/format.ts";
import {
  type CampaignPhase,
  type LimitsTyped,
  LOWERABLE_LIMITS,
  limitsText,
  loweredLimitsDraft,
  pauseStance,
  type RecordedAction,
} from "../data/operator-actions.ts";
import { hrefOf } from "../data/route.ts";
import { useAction } from "../use-action.ts";

type ActionName = "Pause" | "Lower limits";

export function CampaignActions({
  api,
  campaignId,
  currency,
  limits,
  phase,
  who,
  reload,
}: {
  api: ApiClient;
  campaignId: string;
  currency: string;
  limits: Readonly<Record<string, unknown>>;
  phase: CampaignPhase | undefined;
  who: TokenRecord;
  reload: () => void;
}) {
  const [reason, setReason] = useState("");
  const [typed, setTyped] = useState<LimitsTyped>({});
  const action = useAction<RecordedAction>(api);
  const { busy, answer } = action;
  // Operators only: the API lets no other role pause or lower (http-api.md).
  if (!who.roles.includes("operator")) return null;
  const reasonCheck = reasonProblem(reason);
  const pause = pauseStance(phase, who.roles);
  const shown = { ...limitsText(limits), ...typed };
  const draft = loweredLimitsDraft(limits, typed);
  const base = `/v1/campaigns/${encodeURIComponent(campaignId)}`;
  const run = async (what: ActionName, path: string, body: unknown) => {
    if ((await action.run(what, path, body)).ok) setTyped({});
    // Either way the page shows what is now in force (a refusal may mean someone else acted).
    reload();
  };
  return (
    <div class="operations" data-testid="campaign-actions">
      <h2>Operator actions</h2>
      <p class="meta">
        In force at once, for everyone: one operator and a reason. Resuming a paused campaign or
        raising a limit is a change request.
      </p>
      <ReasonField
        id="campaign-action-reason"
        label="Reason (pause, lower limits)"
        value={reason}
        onInput={setReason}
        problem={reasonCheck}
        disabled={busy}
      />
      <div class="toolbar">
        <ConfirmButton
          label="Pause"
          danger
          disabled={busy || !pause.allowed || reasonCheck !== undefined}
          confirmText={`Stop every subsidy of ${campaignId} from the next payment on?`}
          onConfirm={() => void run("Pause", `${base}/pause`, { reason: reason.trim() })}
        />
        <span class="sub" data-testid="pause-why">
          {!pause.allowed ? pause.why : reasonCheck === undefined ? "" : "Write a reason first."}
        </span>
      </div>
      {answer?.what === "Pause" ? <RecordedAnswer answer={answer} /> : null}
      <fieldset class="lower-limits" data-testid="lower-limits">
        <legend>Lower limits (minor units of {currency})</legend>
        {LOWERABLE_LIMITS.map(({ key, label }) => {
          const problem = draft.ok ? undefined : draft.problems[key];
          const before = limits[key];
          return (
            <div class="field" key={key}>
              <label for={`lower-${key}`}>{label}</label>
              <input
                id={`lower-${key}`}
                inputMode="numeric"
                value={shown[key]}
                disabled={busy}
                aria-invalid={problem === undefined ? undefined : true}
                aria-describedby={
                  problem === undefined ? `lower-${key}-now` : `lower-${key}-problem`
                }
                onInput={(event) => {
                  const value = (event.target as HTMLInputElement).value;
                  setTyped((now) => ({ ...now, [key]: value }));
                }}
              />
              <span class="sub" id={`lower-${key}-now`}>
                {typeof before === "number" ? `now ${formatMoney(before, currency)}` : "none now"}
              </span>
              {problem === undefined ? null : (
                <span class="field-problem" id={`lower-${key}-problem`}>
                  {problem}
                </span>
              )}
            </div>
          );
        })}
        <div class="toolbar">
          <ConfirmButton
            label="Lower limits"
            disabled={busy || !draft.ok || reasonCheck !== undefined}
            confirmText={
              draft.ok
                ? `Lower ${draft.lowered} limit${draft.lowered === 1 ? "" : "s"} of ${campaignId} now?`
                : ""
            }
            onConfirm={() => {
              // The button is disabled until the draft is valid: nothing else is ever sent.
              if (draft.ok) {
                void run("Lower limits", `${base}/lower-limits`, {
                  limits: draft.limits,
                  reason: reason.trim(),
                });
              }
            }}
          />
          <span class="sub">
            {draft.ok
              ? reasonCheck === undefined
                ? ""
                : "Write a reason first."
              : (draft.general ?? "")}
          </span>
        </div>
        {answer?.what === "Lower limits" ? <RecordedAnswer answer={answer} /> : null}
      </fieldset>
    </div>
  );
}

/** What the API answered, beside the action: the change it was recorded as, or its refusal. */
function RecordedAnswer({ answer }: { answer: ActionAnswer<RecordedAction> }) {
  return (
    <AnswerLine
      answer={answer}
      testId="campaign-action-answer"
      done={(recorded, what) => (
        <>
          {what}: done, recorded as{" "}
          <a href={hrefOf({ page: "change", changeId: recorded.id })}>{recorded.id}</a>.
        </>
      )}
    />
  );
}
