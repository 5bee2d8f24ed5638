import type { Connection } from "@clickhouse/client-common";
import { createChdbConnection } from "chdb/connection";
import type { Readable } from "node:stream";

/**
 * The embedded engine reached through a few connections, with parameters bound into the SQL text.
 *
 * Why: a chDB connection runs one statement at a time, and chdb-node runs every statement that
 * carries parameters one at a time across all connections (libchdb's parameter state is not
 * isolated between connections). With one connection and parameters bound by the engine, a
 * dashboard's 5 ms query waited behind each group commit's INSERT (about 60 ms under load) and behind any
 * year-long chart or export: measured, a 5 ms query took 55 ms beside a 50 ms one on the same
 * connection and 10 ms on another connection without parameters. A ClickHouse server binds
 * parameters itself and runs statements in parallel; this gives the embedded engine the same.
 *
 * One connection writes (INSERTs, DDL: every `command`/`insert`), so ingest's group commit never
 * queues behind a query; queries go to the less busy of two readers. Measured beside 200 k
 * readings/s and 40 dashboard queries/s: query p99 68 ms with one writer and two readers, 98 ms
 * with three connections shared by all, 141 ms with one reader. Every connection gets the same
 * session settings first, so a statement behaves alike whichever runs it.
 */

/** Connections that run queries, beside the one that writes: two, for the two cores this is built for. */
export const EMBEDDED_READERS = 2;

/** Session settings of every connection (queryColumns reads 64-bit integers as JSON numbers). */
const SESSION_SETTINGS = ["SET output_format_json_quote_64bit_integers = 0"];

/**
 * SQL texts above this stay parameterized (serialized, but parsed by the engine's binder), so a
 * call with tens of thousands of ids never meets the engine's query size limit (256 KiB).
 */
const MAX_BOUND_SQL = 200_000;

export function openChdbPool(path: string, readers = EMBEDDED_READERS): Connection<Readable> {
  // connections[0] writes; the others read.
  const connections = Array.from({ length: readers + 1 }, () => createChdbConnection({ path }) as unknown as Connection<Readable>);
  const ready = connections.map(async (connection) => {
    for (const query of SESSION_SETTINGS) await connection.command({ query });
  });
  // A failure is the first statement's on that connection to report.
  for (const settled of ready) settled.catch(() => {});
  const inFlight = connections.map(() => 0);

  /** Runs `op` on the writer or the least busy reader, with the parameters bound into the SQL when they can be. */
  async function run<P extends { query: string; query_params?: Record<string, unknown> }, R>(params: P, op: (c: Connection<Readable>, p: P) => Promise<R>, read = false): Promise<R> {
    let index = 0;
    if (read) {
      index = 1;
      for (let i = 2; i <= readers; i++) if (inFlight[i]! < inFlight[index]!) index = i;
    }
    inFlight[index]! += 1;
    try {
      await ready[index];
      return await op(connections[index]!, bound(params));
    } finally {
      inFlight[index]! -= 1;
    }
  }

  return {
    query: (params) => run(params, (c, p) => c.query(p), true),
    exec: (params) => run(params, (c, p) => c.exec(p)),
    command: (params) => run(params, (c, p) => c.command(p)),
    insert: (params) => run(params, (c, p) => c.insert(p)),
    ping: async (params) => {
      await ready[0];
      return connections[0]!.ping(params);
    },
    close: async () => {
      for (const connection of connections) await connection.close();
    },
  } as Connection<Readable>;
}

function bound<P extends { query: string; query_params?: Record<string, unknown> }>(params: P): P {
  if (!params.query_params || Object.keys(params.query_params).length === 0) return params;
  const query = bindParameters(params.query, params.query_params);
  if (query === undefined || query.length > MAX_BOUND_SQL) return params;
  return { ...params, query, query_params: undefined };
}

/**
 * `{name:Type}` placeholders replaced by `_CAST(<literal>, 'Type')`, the same expression the engine
 * builds when it binds a parameter itself. Literals are made from the JavaScript value: finite
 * numbers and bigints as numbers, booleans, strings as quoted literals (every quote, backslash and
 * control character escaped), arrays of these; arrays of ids and integers as one string the
 * engine splits (listOf). Anything else (a missing parameter, a Date, an object) answers
 * undefined: the statement is then sent with its parameters, as before.
 */
export function bindParameters(sql: string, values: Record<string, unknown>): string | undefined {
  let unbindable = false;
  const text = sql.replace(/\{([A-Za-z_][A-Za-z0-9_]*):([^{}]+)\}/g, (placeholder, name: string, typeText: string) => {
    const type = typeText.trim();
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    const literal = listOf(type, value) ?? literalOf(value);
    if (literal === undefined) {
      unbindable = true;
      return placeholder;
    }
    return `_CAST(${literal}, ${quoted(type)})`;
  });
  return unbindable ? undefined : text;
}

/** Array types whose items the engine reads back from their text exactly (no floats: its fast float parser may round). */
const LIST_TYPE = /^Array\((UUID|UInt(8|16|32|64)|Int(8|16|32|64))\)$/;

/**
 * A non-empty array of ids or integers as one string the engine splits, `splitByChar(',', 'a,b,…')`:
 * what a dashboard's call sends for every sensor of a site. The engine's SQL parser costs about
 * 4 µs per array item (a site's 2,000 sensor ids: 8 ms of CPU, three quarters of its latest-values
 * query), while one string literal costs almost nothing and the split values still select by the
 * primary key. Anything that could change meaning when split (an item with a comma, an empty
 * string, a non-integer) answers undefined and is bound as an array literal.
 */
function listOf(type: string, value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const match = LIST_TYPE.exec(type);
  if (!match) return undefined;
  const ids = match[1] === "UUID";
  const unsigned = match[1]!.startsWith("U");
  for (const item of value) {
    const fits = ids
      ? typeof item === "string" && item.length > 0 && !item.includes(",")
      : (Number.isSafeInteger(item) || typeof item === "bigint") && (!unsigned || (item as number | bigint) >= 0);
    if (!fits) return undefined;
  }
  return `splitByChar(',', ${quoted(value.join(","))})`;
}

function literalOf(value: unknown): string | undefined {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? String(value) : undefined;
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return quoted(value);
    case "object": {
      if (!Array.isArray(value)) return undefined;
      const items: string[] = [];
      for (const item of value) {
        const literal = literalOf(item);
        if (literal === undefined) return undefined;
        items.push(literal);
      }
      return `[${items.join(", ")}]`;
    }
    default:
      return undefined;
  }
}

/** A ClickHouse string literal of exactly `text`. */
export function quoted(text: string): string {
  // eslint-disable-next-line no-control-regex
  return `'${text.replace(/[\\'\u0000-\u001f\u007f]/g, (c) => (c === "\\" ? "\\\\" : c === "'" ? "\\'" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`))}'`;
}
