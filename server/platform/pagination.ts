import { and, asc, desc, eq, gt, lt, or, sql, type AnyColumn, type SQL } from "drizzle-orm";
import type { Page } from "../../shared/schemas/common";
import { badInput } from "./errors";

/**
 * Keyset pagination over (timestamp, id). Timestamps are compared at millisecond precision: the
 * cursor carries a JS Date, while Postgres keeps microseconds for rows written with now(), and a
 * cursor that rounds them would repeat or skip rows at page boundaries.
 */

export interface Keyset {
  at: SQL;
  id: AnyColumn;
}

export const keysetOf = (at: AnyColumn, id: AnyColumn): Keyset => ({ at: sql`date_trunc('milliseconds', ${at})`, id });

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}.${id}`).toString("base64url");
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  const [ms, id] = Buffer.from(cursor, "base64url").toString().split(".");
  const at = new Date(Number(ms));
  if (!id || !/^[0-9a-f-]{36}$/.test(id) || Number.isNaN(at.getTime())) {
    throw badInput("cursor", "invalid cursor: pass the nextCursor of a previous page");
  }
  return { at, id };
}

/** The condition "after the cursor" in the given order, or undefined on the first page. */
export function afterCursor(keys: Keyset, cursor: string | undefined, direction: "asc" | "desc"): SQL | undefined {
  if (!cursor) return undefined;
  const { at, id } = decodeCursor(cursor);
  const beyond = direction === "asc" ? gt : lt;
  // An explicit timestamptz parameter: compared with an expression rather than a column, Drizzle
  // cannot encode the Date itself, and postgres-js refuses a bare Date of unknown type.
  const atParam = sql`${at.toISOString()}::timestamptz`;
  return or(beyond(keys.at, atParam), and(eq(keys.at, atParam), beyond(keys.id, id)));
}

export function orderBy(keys: Keyset, direction: "asc" | "desc"): SQL[] {
  const by = direction === "asc" ? asc : desc;
  return [by(keys.at), by(keys.id)];
}

/** Query `limit + 1` rows, then cut: the extra row tells whether another page exists. */
export function pageOf<T>(rows: T[], limit: number, key: (row: T) => { at: Date; id: string }): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = key(items[items.length - 1]!);
  return { items, nextCursor: encodeCursor(last.at, last.id) };
}

/** Offset cursors, for small ranked results (the species catalog) where keysets do not fit. */
export function decodeOffsetCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const match = /^o(\d{1,9})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw badInput("cursor", "invalid cursor: pass the nextCursor of a previous page");
  return Number(match[1]);
}

export const encodeOffsetCursor = (offset: number) => Buffer.from(`o${offset}`).toString("base64url");

/** Escapes LIKE wildcards so user text matches literally. */
export const likeEscape = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);
