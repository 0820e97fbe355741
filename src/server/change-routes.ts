/**
 * The change pipeline over HTTP: documents (templates, campaigns, programs, display texts, the
 * envelope), change requests and every action on them. Being built; see docs/reference/http-api.md.
 */
import type { RouteSpec } from "./route.ts";
import type { ServerServices } from "./server-services.ts";

export function changeRoutes(_services: ServerServices): RouteSpec[] {
  return [];
}
