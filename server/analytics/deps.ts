import type { Clickhouse } from "../../clickhouse/client";
import type { Db } from "../../db/client";
import type { ScopeCache } from "./scope";

/** What analytics need: both stores, the raw retention (to pick sources) and the time. */
export interface AnalyticsDeps {
  db: Db;
  ch: Clickhouse;
  /** A site's sensors, cached briefly (see ScopeCache). */
  scopes: ScopeCache;
  rawRetentionDays: number;
  now: Date;
  /**
   * Puts JSON text from the engine into the answer as it is (the tRPC context's `embedJson`);
   * outside HTTP, parses it.
   */
  embedJson: <T>(text: string) => T;
}

/** ClickHouse answers 64-bit integers as strings over HTTP; chDB as numbers. */
export const num = (v: number | string): number => Number(v);
