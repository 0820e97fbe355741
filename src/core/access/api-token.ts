/**
 * An API token's pure parts (docs/reference/api-tokens.md): the text format, its strict parser,
 * the limits, and the checks on a token's name, principal and roles. Drawing the secret and
 * hashing it need the platform and live in src/control/api-tokens.ts.
 *
 * A token's text is `bsr_<id>_<secret>`: the id (12 lower-case hex digits) names the stored
 * record and is no secret; the secret is 32 random bytes in unpadded base64url (43 characters),
 * of which only the SHA-256 of its text is stored.
 */
import { API_ROLES, isApiRole } from "./api-roles.ts";
import { type TokenRefusal, tokenRefusal } from "./token-codes.ts";

export const API_TOKEN_LIMITS = {
  nameLengthMax: 100,
  principalIdLengthMax: 100,
  revokeReasonLengthMax: 2_000,
  /** Unrevoked tokens a store holds at most: every one could be in a process's cache. */
  activeTokensMax: 1_000,
  /** Records one `list` returns at most. */
  listLimitMax: 1_000,
} as const;

export const API_TOKEN_FORMAT = {
  prefix: "bsr_",
  idBytes: 6,
  idLength: 12,
  secretBytes: 32,
  /** 32 bytes in unpadded base64url. */
  secretLength: 43,
  /** `bsr_` + id + `_` + secret. */
  textLength: 60,
} as const;

export const API_TOKEN_ID = /^[0-9a-f]{12}$/;
const SECRET_HASH = /^[0-9a-f]{64}$/;
const PRINCIPAL_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/;
/**
 * The whole text at once. The secret's last character carries 4 bits of the 32 bytes and 2 zero
 * bits, so only 16 characters may end it: any other ending is not how base64url writes 32 bytes.
 */
const TOKEN_TEXT = /^bsr_([0-9a-f]{12})_([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/;
/** Control, format (bidirectional overrides, zero-width), surrogate, private-use, line breaks. */
const NAME_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;

export interface ApiTokenParts {
  readonly id: string;
  readonly secret: string;
}

/** The text a holder sends: `bsr_<id>_<secret>`. */
export function apiTokenText(parts: ApiTokenParts): string {
  return `${API_TOKEN_FORMAT.prefix}${parts.id}_${parts.secret}`;
}

/** The id and secret of a well-formed token text; undefined for anything else, of any length. */
export function parseApiTokenText(text: unknown): ApiTokenParts | undefined {
  // The length first, so an oversized header costs nothing more.
  if (typeof text !== "string" || text.length !== API_TOKEN_FORMAT.textLength) return undefined;
  const match = TOKEN_TEXT.exec(text);
  return match === null ? undefined : { id: match[1]!, secret: match[2]! };
}

export function isApiTokenId(value: unknown): value is string {
  return typeof value === "string" && API_TOKEN_ID.test(value);
}

export function isSecretHash(value: unknown): value is string {
  return typeof value === "string" && SECRET_HASH.test(value);
}

/** The latest instant a JavaScript date holds (+275760-09-13): later ones have no ISO text. */
export const TIME_MS_MAX = 8_640_000_000_000_000;

export function isTimeMs(value: unknown): value is number {
  return (
    typeof value === "number" && Number.isSafeInteger(value) && value >= 0 && value <= TIME_MS_MAX
  );
}

export function tokenIdProblem(id: unknown): TokenRefusal | undefined {
  return isApiTokenId(id)
    ? undefined
    : tokenRefusal("token_id_invalid", `${quoted(id)} is not 12 lower-case hex digits`);
}

export function tokenNameProblem(name: unknown): TokenRefusal | undefined {
  if (typeof name !== "string" || name.trim() === "") {
    return tokenRefusal("token_name_invalid", "a token needs a name");
  }
  // Code points, not UTF-16 units; the first test bounds the work on a huge string.
  if (
    name.length > API_TOKEN_LIMITS.nameLengthMax * 2 ||
    [...name].length > API_TOKEN_LIMITS.nameLengthMax
  ) {
    return tokenRefusal(
      "token_name_invalid",
      `the name is longer than ${API_TOKEN_LIMITS.nameLengthMax} characters`,
    );
  }
  return NAME_FORBIDDEN.test(name)
    ? tokenRefusal("token_name_invalid", "the name holds a control or format character")
    : undefined;
}

export function principalIdProblem(principalId: unknown): TokenRefusal | undefined {
  return typeof principalId === "string" &&
    principalId.length <= API_TOKEN_LIMITS.principalIdLengthMax &&
    PRINCIPAL_ID.test(principalId)
    ? undefined
    : tokenRefusal(
        "token_principal_invalid",
        `${quoted(principalId)} is not a usable principal id`,
      );
}

export function apiRolesProblem(roles: unknown): TokenRefusal | undefined {
  if (!Array.isArray(roles) || roles.length === 0) {
    return tokenRefusal("token_roles_invalid", "a token needs at least one role");
  }
  // More roles than the catalog holds repeat one; the bound also limits the work below.
  if (roles.length > API_ROLES.length) {
    return tokenRefusal("token_roles_invalid", `more than ${API_ROLES.length} roles`);
  }
  const unknown = roles.findIndex((role) => !isApiRole(role));
  if (unknown >= 0) {
    return tokenRefusal("token_roles_invalid", `${quoted(roles[unknown])} is not a role`);
  }
  return new Set(roles).size === roles.length
    ? undefined
    : tokenRefusal("token_roles_invalid", "a role is listed twice");
}

/** The first problem of what a token is issued with: name, principal, roles, in this order. */
export function tokenGrantProblem(grant: {
  readonly name: unknown;
  readonly principalId: unknown;
  readonly roles: unknown;
}): TokenRefusal | undefined {
  return (
    tokenNameProblem(grant.name) ??
    principalIdProblem(grant.principalId) ??
    apiRolesProblem(grant.roles)
  );
}

/** The revocation's reason and time. */
export function revokeProblem(reason: unknown, atMs: unknown): TokenRefusal | undefined {
  if (typeof reason !== "string" || reason.trim() === "") {
    return tokenRefusal("token_revoke_invalid", "a revocation needs a reason");
  }
  if (reason.length > API_TOKEN_LIMITS.revokeReasonLengthMax) {
    return tokenRefusal(
      "token_revoke_invalid",
      `the reason is longer than ${API_TOKEN_LIMITS.revokeReasonLengthMax} characters`,
    );
  }
  return isTimeMs(atMs)
    ? undefined
    : tokenRefusal("token_revoke_invalid", "atMs is not a non-negative integer");
}

/** A value for a message, cut short: never echo a whole oversized input. */
function quoted(value: unknown): string {
  if (typeof value !== "string") return `a ${value === null ? "null" : typeof value}`;
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
