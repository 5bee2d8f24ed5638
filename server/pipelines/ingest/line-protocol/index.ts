import { createHash, randomUUID } from "node:crypto";
import type { ParsedBatch } from "../parse";
import { parseLineProtocol, type LineError, type Precision } from "./parser";
import { readingsOf, type NotStored, type ReadingLimits } from "./readings";

export { parseLineProtocol, precisionOf, type FieldType, type FieldValue, type LineError, type ParseResult, type Point, type Precision } from "./parser";
export { metricOfName, readingsOf, sensorKeyOf, type NotStored, type ReadingLimits, type ReadingsResult } from "./readings";

/**
 * A line protocol body → one device batch for the ingest pipeline (the same batches /v1/ingest
 * makes): parsed, mapped to readings, given a batch id. Pure: no I/O.
 *
 * Batch ids, and what they guarantee:
 *   - every line carries a timestamp: the id is a hash of the device, the precision and the body
 *     bytes (after gunzip), so the same body sent again (a client's retry after a timeout or a
 *     503) is recognised as the same batch and stored once;
 *   - any line lacks a timestamp: the id is unique, and the batch is stored every time it is sent.
 *     Such lines mean "now": the same text sent twice is two readings a period apart (Tasmota
 *     sends the same value every period), never a duplicate to drop. A retry of such a body after
 *     a lost acknowledgement can therefore store its readings twice (with the two receive times).
 */

export interface LineProtocolLimits extends ReadingLimits {
  maxReadings: number;
}

export interface LineProtocolRequest {
  deviceId: string;
  precision: Precision;
  /** Receive time: the timestamp of lines without one, and "now" for the time checks. */
  now: number;
  limits: LineProtocolLimits;
}

export type LineProtocolBatch =
  | {
      ok: true;
      batch: ParsedBatch;
      /** Lines that were points (not blank, not comments). */
      points: number;
      /** Every line had a timestamp: the batch id is the body's. */
      timestamped: boolean;
      notStored: NotStored;
    }
  | { ok: false; status: 400 | 413; message: string; /** First bad line, for InfluxDB 2's `line` field. */ line?: number; errors: LineError[] };

const MAX_ERRORS = 10;

export function lineProtocolBatch(body: Uint8Array, request: LineProtocolRequest): LineProtocolBatch {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(body);
  } catch {
    return { ok: false, status: 400, message: "unable to parse: the body is not valid UTF-8", errors: [] };
  }
  const parsed = parseLineProtocol(text, { precision: request.precision, maxErrors: MAX_ERRORS });
  if (!parsed.ok) return refused(parsed.errors);
  if (parsed.numericFields > request.limits.maxReadings) {
    return {
      ok: false,
      status: 413,
      message: `too many readings in one request: ${parsed.numericFields} numeric fields > ${request.limits.maxReadings}; send fewer lines per request`,
      errors: [],
    };
  }
  const mapped = readingsOf(parsed.points, parsed.numericFields, request.now, request.precision, request.limits, MAX_ERRORS);
  if (!mapped.ok) return refused(mapped.errors);
  const batchId = mapped.allTimestamped ? bodyBatchId(request.deviceId, request.precision, body) : `lp-${randomUUID()}`;
  return {
    ok: true,
    // A fresh unique id cannot be stored yet: declaring a first attempt skips the duplicate lookup.
    batch: { batchId, attempt: mapped.allTimestamped ? undefined : 1, readings: mapped.readings, timestamped: mapped.allTimestamped },
    points: parsed.points.length,
    timestamped: mapped.allTimestamped,
    notStored: mapped.notStored,
  };
}

/** The batch id of a fully timestamped body: the same device, precision and bytes give the same id. */
export function bodyBatchId(deviceId: string, precision: Precision, body: Uint8Array): string {
  const digest = createHash("sha256").update(deviceId).update("\n").update(precision).update("\n").update(body).digest("hex");
  return `lp-${digest.slice(0, 40)}`;
}

function refused(errors: LineError[]): LineProtocolBatch {
  const lines = errors.map(describeError);
  if (errors.length >= MAX_ERRORS) lines.push(`(stopped after ${MAX_ERRORS} bad lines)`);
  return { ok: false, status: 400, message: lines.join("\n"), line: errors[0]?.line, errors };
}

/** In InfluxDB's words, with the line number: `unable to parse line 3 (column 7): missing field value: 'm a='`. */
export function describeError(error: LineError): string {
  const where = error.column > 0 ? `line ${error.line} (column ${error.column})` : `line ${error.line}`;
  return error.text ? `unable to parse ${where}: ${error.reason}: '${error.text}'` : `unable to store ${where}: ${error.reason}`;
}
