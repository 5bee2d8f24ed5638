import { useQuery } from "@tanstack/react-query";
import { useEffect, type ReactNode } from "react";
import { Layout } from "./components/Layout";
import { Loading, QueryError } from "./components/ui";
import { api, isSignedOut, type Outputs } from "./lib/api";
import { match, navigate, useLocation } from "./lib/router";
import { SiteContext, sitePath, type SiteInfo } from "./lib/site";
import { AlertsPage } from "./pages/Alerts";
import { AutomationPage } from "./pages/Automation";
import { DevicesPage } from "./pages/Devices";
import { PlantPage } from "./pages/Plant";
import { PlantsPage } from "./pages/Plants";
import { SettingsPage } from "./pages/Settings";
import { NoSite } from "./pages/NoSite";
import { SignIn } from "./pages/SignIn";

type Me = Outputs["auth"]["me"];

export function App() {
  const me = useQuery({ queryKey: ["auth", "me"], queryFn: () => api.auth.me.query(), retry: false, staleTime: 60_000 });
  const installation = useQuery({
    queryKey: ["auth", "installation"],
    queryFn: () => api.auth.installation.query(),
    enabled: me.isError && isSignedOut(me.error),
  });
  if (me.isPending) return <Loading label="Opening Verdant…" />;
  if (me.isError) {
    if (!isSignedOut(me.error)) return <QueryError error={me.error} />;
    if (installation.isPending) return <Loading />;
    return <SignIn firstRun={installation.data?.firstRun ?? false} demoSite={installation.data?.demoSite ?? false} />;
  }
  return <SignedIn me={me.data} />;
}

const PAGES: { pattern: string; render: (params: Record<string, string>) => ReactNode }[] = [
  { pattern: "/s/:siteId/plants", render: () => <PlantsPage /> },
  { pattern: "/s/:siteId/plants/:plantId", render: (p) => <PlantPage plantId={p.plantId!} key={p.plantId} /> },
  { pattern: "/s/:siteId/devices", render: () => <DevicesPage /> },
  { pattern: "/s/:siteId/devices/:deviceId", render: (p) => <DevicesPage deviceId={p.deviceId} /> },
  { pattern: "/s/:siteId/alerts", render: () => <AlertsPage /> },
  { pattern: "/s/:siteId/automation", render: () => <AutomationPage /> },
  { pattern: "/s/:siteId/settings", render: () => <SettingsPage /> },
];

function SignedIn({ me }: { me: Me }) {
  const { pathname } = useLocation();
  const sites = useQuery({ queryKey: ["sites", "list"], queryFn: () => api.sites.list.query() });
  const route = PAGES.map((page) => ({ page, params: match(page.pattern, pathname) })).find((r) => r.params);
  const siteId = route?.params?.siteId;
  const site = sites.data?.find((s) => s.id === siteId);

  // "/" and unknown paths go to the first site's plants (for the first account: the demo site).
  useEffect(() => {
    if (sites.data && sites.data.length > 0 && (!route || !site)) navigate(sitePath(sites.data[0]!.id), { replace: true });
  }, [sites.data, route, site]);

  if (sites.isPending) return <Loading />;
  if (sites.isError) return <QueryError error={sites.error} />;
  if (sites.data.length === 0) return <NoSite me={me} />;
  if (!route || !site) return <Loading />;
  const info: SiteInfo = {
    id: site.id,
    name: site.name,
    timezone: site.timezone,
    role: site.role,
    canEdit: site.role !== "viewer",
    isOwner: site.role === "owner",
  };
  return (
    <SiteContext.Provider value={info}>
      <Layout me={me} sites={sites.data}>
        {route.page.render(route.params!)}
      </Layout>
    </SiteContext.Provider>
  );
}
