/**
 * Why an API token write was refused: a closed catalog, documented in
 * docs/reference/api-tokens.md (a test keeps it complete). Every refusal is one of these values,
 * never an exception; nothing was written. Listed in the order the checks run, so a request with
 * several problems gets the first. Codes are never renamed.
 */
export const TOKEN_CODES = {
  // the request's own fields, checked before the store is touched
  token_id_invalid: "The token id is not 12 lower-case hexadecimal digits.",
  token_name_invalid:
    "The name is empty, only spaces, longer than 100 characters, or holds a control or format character.",
  token_principal_invalid:
    "The principal id is not 1-100 characters of `A-Z a-z 0-9 . _ : @ -` starting with a letter or digit.",
  token_roles_invalid:
    "The roles are empty, name a role outside the catalog, or name one role twice.",
  token_record_invalid:
    "The secret's hash is not 64 lower-case hexadecimal digits, a time is not a non-negative integer of milliseconds a date can hold, or the record's creator and creation time are not the request's actor and time.",
  token_revoke_invalid:
    "The revocation's reason is empty, only spaces or longer than 2,000 characters, or its time is not a non-negative integer of milliseconds a date can hold.",
  audit_refused:
    "The audit log refused the entry (e.g. an actor it does not accept): nothing was written.",
  // what the store holds
  token_id_taken: "A token with this id exists already (revoked ones included); draw another id.",
  tokens_exist:
    "The first token is created only while no token exists at all; one exists (perhaps made by another process starting at the same time).",
  too_many_tokens:
    "The store already holds the most unrevoked tokens it may (1,000): revoke some first.",
  token_not_found: "No token has this id.",
  token_revoked: "The token is revoked already; a revocation is final.",
} as const;

export type TokenCode = keyof typeof TOKEN_CODES;

/** A refusal with its code and a message for people (never holding a secret or its hash). */
export interface TokenRefusal {
  readonly ok: false;
  readonly code: TokenCode;
  readonly message: string;
}

export function tokenRefusal(code: TokenCode, message: string): TokenRefusal {
  return { ok: false, code, message };
}
