import { queryColumns, type Clickhouse } from "../client";
import { sourceTable, type Source } from "./sources";

/**
 * Parameterized SQL of a crossing: each sensor's avg/min/max over a window, kept only where it is
 * below or above a bound. The window comes as pieces, each read from one source (raw readings,
 * the 1-minute or the 1-hour rollup; see server/analytics/crossing.ts), which together hold every
 * reading of the window exactly once: so sums, counts, minima and maxima add up exactly.
 */

/** A half-open time range `[from, to)` (epoch ms) read from one source. */
export interface WindowPiece {
  source: Source;
  from: number;
  to: number;
}

export interface CrossingQuery {
  sensorIds: string[];
  pieces: WindowPiece[];
  aggregate: "avg" | "min" | "max";
  comparison: "below" | "above";
  threshold: number;
}

/** The crossing sensors, most extreme first (lowest for below, highest for above). */
export type CrossingColumns = {
  sensor_id: string[];
  v: number[];
  n: number[];
};

// Fixed maps: nothing from the input reaches the SQL text but these choices.
const AGGREGATE_SQL = { avg: "sum(s) / sum(c)", min: "min(lo)", max: "max(hi)" } as const;
const COMPARISON_SQL = { below: "<", above: ">" } as const;
const ORDER_SQL = { below: "ASC", above: "DESC" } as const;

/** Per source, the sum, count, min and max of its readings. */
const PARTIAL_SQL = {
  raw: { s: "sum(value)", c: "count()", lo: "min(value)", hi: "max(value)" },
  rollup: { s: "sum(sum_value)", c: "sum(count)", lo: "min(min_value)", hi: "max(max_value)" },
} as const;

function timeFilter(source: Source, pieces: { from: string; to: string }[]): string {
  const ranges = pieces.map((p) =>
    source === "raw"
      ? `(ts >= fromUnixTimestamp64Milli({${p.from}:Int64}) AND ts < fromUnixTimestamp64Milli({${p.to}:Int64}))`
      : // Rollup pieces are on the rollup's grid: whole seconds, bucket starts.
        `(bucket >= toDateTime(intDiv({${p.from}:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({${p.to}:Int64}, 1000), 'UTC'))`,
  );
  return ranges.join(" OR ");
}

export function crossingSql(ch: Clickhouse, q: CrossingQuery) {
  const params: Record<string, unknown> = { ids: q.sensorIds, threshold: q.threshold };
  const parts: { source: Source; filter: string }[] = [];
  for (const source of ["raw", "1m", "1h"] as const) {
    const names = q.pieces
      .map((piece, i) => ({ piece, i }))
      .filter(({ piece }) => piece.source === source)
      .map(({ piece, i }) => {
        params[`from${i}`] = piece.from;
        params[`to${i}`] = piece.to;
        return { from: `from${i}`, to: `to${i}` };
      });
    if (names.length > 0) parts.push({ source, filter: timeFilter(source, names) });
  }
  const having = `HAVING n > 0 AND v ${COMPARISON_SQL[q.comparison]} {threshold:Float64}
ORDER BY v ${ORDER_SQL[q.comparison]}, sensor_id`;
  if (parts.length === 1) {
    // One source (a short window read raw, or a window on the rollups' grid): one plain
    // aggregation, a millisecond or two cheaper than the same behind a union.
    const [{ source, filter }] = parts as [(typeof parts)[0]];
    const a = PARTIAL_SQL[source === "raw" ? "raw" : "rollup"];
    const aggregate = { avg: `${a.s} / ${a.c}`, min: a.lo, max: a.hi }[q.aggregate];
    const query = `SELECT sensor_id, ${aggregate} AS v, ${a.c} AS n
FROM ${sourceTable(ch, source)}
WHERE sensor_id IN {ids:Array(UUID)} AND (${filter})
GROUP BY sensor_id
${having}`;
    return { query, params };
  }
  const unions = parts.map(({ source, filter }) => {
    const a = PARTIAL_SQL[source === "raw" ? "raw" : "rollup"];
    return `SELECT sensor_id, ${a.s} AS s, ${a.c} AS c, ${a.lo} AS lo, ${a.hi} AS hi
  FROM ${sourceTable(ch, source)} WHERE sensor_id IN {ids:Array(UUID)} AND (${filter}) GROUP BY sensor_id`;
  });
  const query = `SELECT sensor_id, ${AGGREGATE_SQL[q.aggregate]} AS v, sum(c) AS n
FROM (
  ${unions.join("\n  UNION ALL\n  ")}
)
GROUP BY sensor_id
${having}`;
  return { query, params };
}

export async function queryCrossing(ch: Clickhouse, q: CrossingQuery): Promise<CrossingColumns> {
  if (q.sensorIds.length === 0 || q.pieces.length === 0) return { sensor_id: [], v: [], n: [] };
  const { query, params } = crossingSql(ch, q);
  return (await queryColumns<CrossingColumns>(ch, query, params)).columns;
}
