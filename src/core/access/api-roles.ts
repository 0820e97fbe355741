/**
 * The roles an API token carries (docs/reference/api-tokens.md, "Roles"). Five of them are the
 * change pipeline's roles under the same names, so a request made with a token is judged by the
 * same rules as the CLI's `--roles`; `payment-service` is the data plane's alone and holds no
 * change role, so a leaked payment key can quote and reserve but never change configuration.
 */
import { ROLES, type Role } from "../change/change-request.ts";

export const API_ROLES = [
  "payment-service",
  "author",
  "reviewer",
  "operator",
  "auditor",
  "admin",
] as const;

export type ApiRole = (typeof API_ROLES)[number];

/** What each role is for: the reference's table is written from this. */
export const API_ROLE_DESCRIPTIONS = {
  "payment-service":
    "The payment path: quote and apply payments, commit, release and refund reservations. No change role.",
  author: "Creates, edits and submits change requests.",
  reviewer: "Approves or rejects change requests; never the author's own (four eyes).",
  operator:
    "Acts at once on running configuration: rollouts and rollbacks, lowering limits, pausing campaigns, kills, incidents.",
  auditor: "Reads the audit log and verifies its chain; changes nothing.",
  admin: "Forces a gate with a second administrator, and issues and revokes API tokens.",
} as const satisfies Record<ApiRole, string>;

/** The change role each API role acts in, if any. */
const CHANGE_ROLE_OF: Readonly<Record<ApiRole, Role | undefined>> = {
  "payment-service": undefined,
  author: "author",
  reviewer: "reviewer",
  operator: "operator",
  auditor: "auditor",
  admin: "admin",
};

export function isApiRole(value: unknown): value is ApiRole {
  return typeof value === "string" && Object.hasOwn(CHANGE_ROLE_OF, value);
}

/** The change pipeline's roles a token's roles grant, each once, in the order of `ROLES`. */
export function changeRolesOf(roles: readonly ApiRole[]): Role[] {
  const granted = new Set(roles.map((role) => CHANGE_ROLE_OF[role]));
  return ROLES.filter((role) => granted.has(role));
}
