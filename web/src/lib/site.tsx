import { createContext, useContext } from "react";

/** The site being looked at and what the signed-in person may do in it. */
export interface SiteInfo {
  id: string;
  name: string;
  timezone: string;
  role: "owner" | "editor" | "viewer";
  /** Editors and owners change plants, devices, rules; viewers only look (the server refuses anyway). */
  canEdit: boolean;
  /** Owners manage members, webhooks and the site itself. */
  isOwner: boolean;
}

export const SiteContext = createContext<SiteInfo | null>(null);

export function useSite(): SiteInfo {
  const site = useContext(SiteContext);
  if (!site) throw new Error("useSite outside a site");
  return site;
}

export const sitePath = (siteId: string, rest = "plants") => `/s/${siteId}/${rest}`;
