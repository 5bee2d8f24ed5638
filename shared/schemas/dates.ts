import { z } from "zod";

/**
 * Every date an API input carries: readings and analytics ranges, export ranges, task and schedule
 * starts, snoozes, waterings, cursors' anchors. One documented range for all of them, wide enough
 * for any garden's past and plans, narrow enough that every store and every computation built on
 * it (Postgres timestamptz, ClickHouse DateTime64, recurrence rules, bucket arithmetic) handles it.
 * Readings themselves are refused before 2000 at ingest (a device with an unset clock).
 */
export const EARLIEST_DATE = new Date("2000-01-01T00:00:00.000Z");
export const LATEST_DATE = new Date("2100-01-01T00:00:00.000Z");

const DATE_MESSAGE = "must be a date: a Date, an ISO 8601 date or date-time with a time zone (2025-06-01T12:00:00Z), or epoch milliseconds";
const RANGE_MESSAGE = "must be between 2000-01-01 and 2100-01-01 (UTC)";

/**
 * ISO 8601 as machines write it: a calendar date with a four-digit year, optionally a time with
 * seconds and fractions optional and a zone (Z or ±HH:MM) required. A time without a zone would
 * be read in the server's zone, and "99-06-15" would silently become 1999: both are refused.
 */
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d))?$/;

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** The Date a wire value stands for, or undefined when it is not a date (null, true, "soon", 2025-02-30 …). */
export function parseDateValue(value: unknown): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === "number") return Number.isSafeInteger(value) ? validDate(new Date(value)) : undefined;
  if (typeof value !== "string") return undefined;
  const match = ISO_8601.exec(value);
  if (!match) return undefined;
  const month = Number(match[2]);
  const day = Number(match[3]);
  // JavaScript would roll 2025-02-30 over into March: an impossible day is refused instead.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(match[1]), month)) return undefined;
  return validDate(new Date(value));
}

const validDate = (date: Date) => (Number.isNaN(date.getTime()) ? undefined : date);

export const isInDateRange = (date: Date) => date.getTime() >= EARLIEST_DATE.getTime() && date.getTime() <= LATEST_DATE.getTime();

/**
 * A date input: a Date (what the typed client sends through superjson), an ISO 8601 string or
 * epoch milliseconds; within 2000-01-01 … 2100-01-01. Anything else (null, booleans, invalid
 * dates, two-digit years) is refused on this field with the reason.
 */
export const dateInput = z.union([z.date(), z.string(), z.number()], { error: DATE_MESSAGE }).transform((value, ctx) => {
  const date = parseDateValue(value);
  if (!date) {
    ctx.addIssue({ code: "custom", message: DATE_MESSAGE });
    return z.NEVER;
  }
  if (!isInDateRange(date)) {
    ctx.addIssue({ code: "custom", message: RANGE_MESSAGE });
    return z.NEVER;
  }
  return date;
});

/** A date in a URL query: epoch milliseconds as digits, or ISO 8601. */
export const urlDateInput = z.preprocess((v) => (typeof v === "string" && /^\d{1,16}$/.test(v) ? Number(v) : v), dateInput);
