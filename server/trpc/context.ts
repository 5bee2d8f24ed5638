import type { PasswordVerifier } from "../auth/passwords";
import type { DeviceAuthenticator } from "../devices/device-auth";
import type { EventHub } from "../events/hub";
import type { Stores } from "../stores";

/** What every procedure can reach. Built once per HTTP request by the tRPC adapter. */
export interface Context {
  requestId: string;
  stores: Stores;
  /** Device token cache: procedures that rotate or revoke invalidate it. */
  deviceAuth: DeviceAuthenticator;
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
  /**
   * Tell ingest that a sensor's metric or calibration changed, so the next batch uses it.
   * Returns its argument, to wrap a mutation's result.
   */
  sensorsChanged: <T extends { deviceId: string }>(sensor: T) => T;
  /**
   * Puts JSON text into the answer as it is (see embedded-json.ts): what the procedure returns in
   * its place is typed as the value the text holds.
   */
  embedJson: <T>(text: string) => T;
  /** Checks passwords (argon2id); login and password changes reserve each check first. */
  passwords: PasswordVerifier;
  /** The client's address (through TRUSTED_PROXIES, see security/proxies.ts), for login throttling. */
  clientIp: string | undefined;
}
