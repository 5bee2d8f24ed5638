import type { Clickhouse } from "../../clickhouse/client";
import type { Database } from "../../db/client";

export interface AdminTarget {
  postgres: Database;
  clickhouse: Clickhouse;
  /** Ingest's write-ahead log (reset empties it; only with no server running). */
  walDir?: string;
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
