/**
 * Result codes of the change pipeline (versions, change requests, approvals, forcing, rollout,
 * rollback): a closed catalog, documented in docs/reference/changes.md (a test keeps it
 * complete). Every refusal is one of these values, never an exception. Codes are never renamed.
 */
export const CHANGE_CODES = {
  // lifecycle
  illegal_transition: "The change request's state does not allow this action.",
  concurrent_update:
    "Someone acted on the same change or documents at the same time; read it again.",
  not_found: "No change request has this id.",
  // versions
  id_reused:
    "A new document takes an identifier that exists or existed before; identifiers are never reused.",
  base_outdated:
    "A document the change edits has a newer version than the one the change was based on.",
  document_not_found: "The change edits or retires a document that does not exist.",
  empty_change: "The change request holds no edits.",
  too_many_edits: "The change request holds more edits than the per-change limit.",
  duplicate_edit: "The change request edits one document twice.",
  // checks before review
  lint_errors: "Lint found errors; the change cannot go to review unless the lint gate is forced.",
  warnings_unacknowledged: "Lint warnings were not each acknowledged with a reason.",
  acknowledgement_unknown: "An acknowledgement names a warning the change does not have.",
  reason_required: "The action needs a written reason of at least the minimum length.",
  // approval
  role_missing: "The person does not hold the role the action needs.",
  not_the_author:
    "Only a change's author edits or submits it; anyone else makes a change of their own.",
  author_cannot_approve: "The author of a change can never approve it (four eyes).",
  already_approved: "This reviewer already approved this content.",
  content_changed:
    "The approval names content other than the change's current content; the reviewer must look again.",
  // forcing
  gate_not_forceable:
    "Only the lint and approval gates can be forced; the envelope, the staged rollout and the breakers never.",
  second_admin_required:
    "Forcing needs a second, different administrator to confirm the first one's request.",
  not_a_lowering:
    "The operator's edit is not purely a lowering of limits; anything else goes through a change request.",
  not_a_pause: "The operator's edit is not purely a pause of one running campaign.",
  operator_action_final:
    "An operator's lowering or pause is not rolled back; raising or resuming takes a change request.",
  // rollout and rollback
  assessment_outdated:
    "The active configuration changed since the change was assessed and approved; edit it and submit it again.",
  invalid_rollout_plan:
    "The rollout plan's stages do not grow to everyone, or a ceiling, dwell or tolerance is out of range.",
  rollout_in_progress: "Another change is rolling out; one change rolls out at a time.",
  superseded:
    "A later change edited the same documents; roll that one back first (or kill the campaign).",
} as const;

export type ChangeCode = keyof typeof CHANGE_CODES;

/** A refusal with its code and a message for people. */
export interface ChangeRefusal {
  readonly ok: false;
  readonly code: ChangeCode;
  readonly message: string;
}

export type ChangeResult<T> = ({ readonly ok: true } & T) | ChangeRefusal;

export function refuse(code: ChangeCode, message: string): ChangeRefusal {
  return { ok: false, code, message };
}
