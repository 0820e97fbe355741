/**
 * The console's pages as hash routes (`#/incidents/incident-3`): the server serves one page at
 * `/`, and a reload or a shared link opens the same view without the server knowing the routes.
 */

export type Route =
  | { readonly page: "campaigns" }
  | { readonly page: "live" }
  | { readonly page: "incidents" }
  | { readonly page: "incident"; readonly incidentId: string }
  | { readonly page: "campaign"; readonly campaignId: string }
  | { readonly page: "campaign_edit"; readonly campaignId: string }
  | { readonly page: "templates" }
  | { readonly page: "template_edit"; readonly templateId: string }
  | { readonly page: "changes" }
  | { readonly page: "change"; readonly changeId: string }
  | { readonly page: "audit" }
  | { readonly page: "not_found"; readonly path: string };

export const DEFAULT_ROUTE: Route = { page: "campaigns" };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "").replace(/\/+$/, "");
  if (path === "" || path === "/") return DEFAULT_ROUTE;
  const parts = path.split("/").filter((part) => part !== "");
  const [first, second, ...rest] = parts;
  if (rest.length === 0 && second === undefined) {
    if (
      first === "campaigns" ||
      first === "templates" ||
      first === "changes" ||
      first === "live" ||
      first === "incidents" ||
      first === "audit"
    ) {
      return { page: first };
    }
  }
  if (
    (first === "campaigns" || first === "templates") &&
    second !== undefined &&
    rest.length === 1 &&
    rest[0] === "edit"
  ) {
    let id: string;
    try {
      id = decodeURIComponent(second);
    } catch {
      return { page: "not_found", path };
    }
    return first === "campaigns"
      ? { page: "campaign_edit", campaignId: id }
      : { page: "template_edit", templateId: id };
  }
  if (
    (first === "incidents" || first === "changes" || first === "campaigns") &&
    second !== undefined &&
    rest.length === 0
  ) {
    let id: string;
    try {
      id = decodeURIComponent(second);
    } catch {
      return { page: "not_found", path };
    }
    if (first === "incidents") return { page: "incident", incidentId: id };
    if (first === "campaigns") return { page: "campaign", campaignId: id };
    return { page: "change", changeId: id };
  }
  return { page: "not_found", path };
}

export function hrefOf(route: Route): string {
  switch (route.page) {
    case "incident":
      return `#/incidents/${encodeURIComponent(route.incidentId)}`;
    case "change":
      return `#/changes/${encodeURIComponent(route.changeId)}`;
    case "campaign":
      return `#/campaigns/${encodeURIComponent(route.campaignId)}`;
    case "campaign_edit":
      return `#/campaigns/${encodeURIComponent(route.campaignId)}/edit`;
    case "template_edit":
      return `#/templates/${encodeURIComponent(route.templateId)}/edit`;
    case "not_found":
      return "#/";
    default:
      return `#/${route.page}`;
  }
}
