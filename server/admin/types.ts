import type { Clickhouse } from "../../clickhouse/client";
import type { Database } from "../../db/client";
import type { DeviceAuthenticator } from "../devices/device-auth";

export interface AdminTarget {
  postgres: Database;
  clickhouse: Clickhouse;
  /** The running server's device token cache, invalidated by rotate/revoke (absent in the CLI). */
  deviceAuth?: DeviceAuthenticator;
  now?: Date;
}

export class AdminCommandError extends Error {
  override name = "AdminCommandError";
}

export type AdminArgs = Record<string, string | boolean>;

export interface AdminCommand {
  summary: string;
  /** Whether a running server may execute it (reset may not: it would pull the stores from under it). */
  whileServing: boolean;
  run(target: AdminTarget, args: AdminArgs): Promise<unknown>;
}
