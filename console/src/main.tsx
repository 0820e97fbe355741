/**
 * The Bursar console: a single page over the HTTP API on its own origin
 * (docs/reference/console.md). Signs in with an API token, then routes by the URL's hash.
 */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiClient, apiClient, type TokenRecord, whoIs } from "./api.ts";
import { Loading } from "./components/states.tsx";
import { hrefOf, parseRoute, type Route } from "./data/route.ts";
import { AuditPage } from "./pages/audit.tsx";
import { CampaignPage } from "./pages/campaign.tsx";
import { CampaignEditPage } from "./pages/campaign-edit.tsx";
import { CampaignsPage } from "./pages/campaigns.tsx";
import { ChangePage } from "./pages/change.tsx";
import { ChangesPage } from "./pages/changes.tsx";
import { IncidentPage } from "./pages/incident.tsx";
import { IncidentsPage } from "./pages/incidents.tsx";
import { LivePage } from "./pages/live.tsx";
import { SignIn } from "./pages/sign-in.tsx";
import { TemplateEditPage } from "./pages/template-edit.tsx";
import { TemplatesPage } from "./pages/templates.tsx";
import { forgetToken, storedToken, storeToken } from "./session.ts";
import "./styles.css";

const NAVIGATION: readonly { route: Route; label: string }[] = [
  { route: { page: "campaigns" }, label: "Campaigns" },
  { route: { page: "templates" }, label: "Templates" },
  { route: { page: "changes" }, label: "Changes" },
  { route: { page: "live" }, label: "Live" },
  { route: { page: "incidents" }, label: "Incidents" },
  { route: { page: "audit" }, label: "Audit" },
];

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}

type Session =
  | { readonly state: "checking"; readonly token: string }
  | { readonly state: "signed_out"; readonly notice?: string }
  | { readonly state: "signed_in"; readonly token: string; readonly record: TokenRecord };

function App() {
  const route = useHashRoute();
  const [session, setSession] = useState<Session>(() => {
    const token = storedToken();
    return token === undefined ? { state: "signed_out" } : { state: "checking", token };
  });
  useEffect(() => {
    if (session.state !== "checking") return;
    whoIs(session.token).then(
      (record) => setSession({ state: "signed_in", token: session.token, record }),
      () => {
        forgetToken();
        setSession({
          state: "signed_out",
          notice: "Your token is no longer accepted; sign in again.",
        });
      },
    );
  }, [session]);
  const signOut = (notice?: string) => {
    forgetToken();
    setSession(notice === undefined ? { state: "signed_out" } : { state: "signed_out", notice });
  };
  const api = useMemo<ApiClient | undefined>(
    () =>
      session.state === "signed_in"
        ? apiClient(session.token, () =>
            signOut("The server refused your token (revoked?); sign in again."),
          )
        : undefined,
    [session.state === "signed_in" ? session.token : undefined],
  );
  useEffect(() => {
    const titles: Record<Route["page"], string> = {
      campaigns: "Campaigns",
      campaign: "Campaign",
      campaign_edit: "Edit campaign",
      templates: "Templates",
      template_edit: "Edit template",
      changes: "Changes",
      change: "Change",
      live: "Live",
      incidents: "Incidents",
      incident: "Incident",
      audit: "Audit log",
      not_found: "Not found",
    };
    document.title = `${session.state === "signed_in" ? titles[route.page] : "Sign in"} · Bursar`;
  }, [route, session.state]);

  if (session.state === "checking") return <Loading what="your session" />;
  if (session.state === "signed_out" || api === undefined) {
    return (
      <SignIn
        {...(session.state === "signed_out" && session.notice !== undefined
          ? { notice: session.notice }
          : {})}
        onSignedIn={(token, record) => {
          storeToken(token);
          setSession({ state: "signed_in", token, record });
        }}
      />
    );
  }
  const current =
    route.page === "incident"
      ? "incidents"
      : route.page === "change"
        ? "changes"
        : route.page === "campaign" || route.page === "campaign_edit"
          ? "campaigns"
          : route.page === "template_edit"
            ? "templates"
            : route.page;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Bursar</span>
        <nav aria-label="Pages">
          <ul>
            {NAVIGATION.map((item) => (
              <li key={item.label}>
                <a
                  href={hrefOf(item.route)}
                  aria-current={current === item.route.page ? "page" : undefined}
                >
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who" data-testid="signed-in-as">
          {session.record.principalId} ({session.record.roles.join(", ")})
        </span>
        <button type="button" class="sign-out" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page route={route} api={api} who={session.record} />
      </main>
      <footer>
        <a href="/docs">API reference</a>
      </footer>
    </>
  );
}

function Page({ route, api, who }: { route: Route; api: ApiClient; who: TokenRecord }) {
  switch (route.page) {
    case "campaigns":
      return <CampaignsPage api={api} />;
    case "campaign":
      return <CampaignPage api={api} campaignId={route.campaignId} who={who} />;
    case "campaign_edit":
      return <CampaignEditPage api={api} campaignId={route.campaignId} />;
    case "templates":
      return <TemplatesPage api={api} />;
    case "template_edit":
      return <TemplateEditPage api={api} templateId={route.templateId} />;
    case "changes":
      return <ChangesPage api={api} />;
    case "change":
      return <ChangePage api={api} changeId={route.changeId} who={who} />;
    case "live":
      return <LivePage api={api} who={who} />;
    case "incidents":
      return <IncidentsPage api={api} />;
    case "incident":
      return <IncidentPage api={api} incidentId={route.incidentId} who={who} />;
    case "audit":
      return <AuditPage api={api} />;
    case "not_found":
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No page at <code>{route.path}</code>. <a href="#/campaigns">Campaigns</a>
          </p>
        </section>
      );
  }
}

const root = document.getElementById("app");
if (root !== null) render(<App />, root);
