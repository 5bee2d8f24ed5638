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

/**
 * A keyset cursor is checked as what it encodes before it reaches SQL: epoch milliseconds of a
 * timestamp between 1970 and 9999 (what our rows' timestamps can be, and what both Postgres and
 * ISO 8601 write plainly) and a well-formed UUID. Anything else, a tampered or foreign cursor, is
 * refused on `cursor`.
 */
const CURSOR = /^(\d{1,15})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const LATEST_CURSOR_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function decodeCursor(cursor: string): { at: Date; id: string } {
  const match = CURSOR.exec(Buffer.from(cursor, "base64url").toString());
  const ms = Number(match?.[1]);
  if (!match || ms > LATEST_CURSOR_MS) throw badInput("cursor", "invalid cursor: pass the nextCursor of a previous page");
  return { at: new Date(ms), id: match[2]!.toLowerCase() };
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
