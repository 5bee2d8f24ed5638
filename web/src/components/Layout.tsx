import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api, useApiMutation, type Outputs } from "../lib/api";
import { useLiveSite } from "../lib/live";
import { Link, navigate, useLocation } from "../lib/router";
import { sitePath, useSite } from "../lib/site";

type Me = Outputs["auth"]["me"];
type SiteRow = Outputs["sites"]["list"][number];

const NAV = [
  { to: "plants", label: "Plants" },
  { to: "devices", label: "Devices" },
  { to: "alerts", label: "Alerts" },
  { to: "automation", label: "Automation" },
  { to: "settings", label: "Settings" },
];

export function Layout({ me, sites, children }: { me: Me; sites: SiteRow[]; children: ReactNode }) {
  const site = useSite();
  const { pathname } = useLocation();
  const live = useLiveSite(site.id);
  const queryClient = useQueryClient();
  const activeAlerts = useQuery({
    queryKey: ["alerts", "count", site.id],
    queryFn: () => api.alerts.list.query({ siteId: site.id, status: "active", limit: 100 }),
    select: (page) => (page.items.length === 0 ? null : `${page.items.length}${page.nextCursor ? "+" : ""}`),
  });
  const logout = useApiMutation(() => api.auth.logout.mutate(), {
    onSuccess: () => {
      navigate("/", { replace: true });
      // Nothing of this account stays in memory; the session query now fails: the sign-in page.
      void queryClient.resetQueries();
    },
  });
  const section = pathname.split("/")[3] ?? "plants";
  return (
    <div className="app">
      <header className="topbar">
        <Link to={sitePath(site.id)} className="brand" aria-label="Verdant home">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span>Verdant</span>
        </Link>
        <label className="site-switch">
          <span className="sr-only">Site</span>
          <select value={site.id} onChange={(e) => navigate(sitePath(e.target.value, section))} aria-label="Site">
            {sites.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <span className={`live live-${live}`} title={live === "live" ? "Live updates on" : live === "connecting" ? "Connecting…" : "Live updates interrupted: reconnecting"}>
          <span className="dot" aria-hidden="true" /> {live === "live" ? "Live" : live === "connecting" ? "Connecting" : "Offline"}
        </span>
        <div className="user">
          <span className="user-name" title={me.user.email}>
            {me.user.displayName}
            <small className="role" data-testid="role">
              {site.role}
            </small>
          </span>
          <button type="button" className="small" onClick={() => logout.mutate()} disabled={logout.isPending}>
            Log out
          </button>
        </div>
      </header>
      <nav className="tabs" aria-label="Sections">
        {NAV.map((item) => (
          <Link key={item.to} to={sitePath(site.id, item.to)} className={section === item.to ? "active" : undefined} aria-current={section === item.to ? "page" : undefined}>
            {item.label}
            {item.to === "alerts" && activeAlerts.data ? (
              <span className="count" data-testid="active-alerts">
                {activeAlerts.data}
              </span>
            ) : null}
          </Link>
        ))}
      </nav>
      <main className="content">{children}</main>
    </div>
  );
}
