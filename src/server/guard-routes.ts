/**
 * The guard over HTTP: kills, breakers, incidents, impact reports, webhooks and the audit log.
 * Being built; see docs/reference/http-api.md.
 */
import type { RouteSpec } from "./route.ts";
import type { ServerServices } from "./server-services.ts";

export function guardRoutes(_services: ServerServices): RouteSpec[] {
  return [];
}
