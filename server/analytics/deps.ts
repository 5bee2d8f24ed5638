import type { Clickhouse } from "../../clickhouse/client";
import type { Db } from "../../db/client";
import type { SiteDirectory } from "../sites";

/** What analytics need: both stores, the site directory (who sees which sensors), the raw retention (to pick sources) and the time. */
export interface AnalyticsDeps {
  db: Db;
  ch: Clickhouse;
  directory: SiteDirectory;
  rawRetentionDays: number;
  now: Date;
}

/** ClickHouse answers 64-bit integers as strings over HTTP; chDB as numbers. */
export const num = (v: number | string): number => Number(v);
