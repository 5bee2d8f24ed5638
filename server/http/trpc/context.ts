import type { PasswordVerifier } from "../../accounts";
import type { EventHub, Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";

/** What every procedure can reach. Built once per HTTP request by the tRPC adapter. */
export interface Context {
  requestId: string;
  stores: Stores;
  /** What the server knows about each site (roles, devices, sensors, plants, rules), kept current. */
  directory: SiteDirectory;
  /** In-process events: what ingest committed, for live updates. */
  events: EventHub;
  /** The clock procedures use, injectable so tests can move time. */
  now: () => Date;
  /** Shortest gap between two live readings messages to one subscriber. */
  liveReadingsIntervalMs: number;
  /**
   * What a subscription's client sent as `connectionParams` (a query parameter of the SSE URL):
   * how a browser's EventSource, which cannot set headers, may pass a session token.
   */
  connectionParams: Record<string, string | undefined> | null;
  /** The raw request, for headers (auth, origin) and the response headers to set. */
  req: Request;
  resHeaders: Headers;
  /** Checks passwords (argon2id); login and password changes reserve each check first. */
  passwords: PasswordVerifier;
  /** The client's address (through TRUSTED_PROXIES, see platform/proxies.ts), for login throttling. */
  clientIp: string | undefined;
}
