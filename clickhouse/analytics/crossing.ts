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

/** One source's part: per sensor the sum, count, min and max of its readings within its pieces. */
function partSql(ch: Clickhouse, source: Source, pieces: { from: string; to: string }[]): string {
  if (source === "raw") {
    const ranges = pieces.map((p) => `(ts >= fromUnixTimestamp64Milli({${p.from}:Int64}) AND ts < fromUnixTimestamp64Milli({${p.to}:Int64}))`);
    return `SELECT sensor_id, sum(value) AS s, count() AS c, min(value) AS lo, max(value) AS hi
  FROM ${sourceTable(ch, "raw")} WHERE sensor_id IN {ids:Array(UUID)} AND (${ranges.join(" OR ")}) GROUP BY sensor_id`;
  }
  // Rollup pieces are on the rollup's grid: whole seconds, bucket starts.
  const ranges = pieces.map((p) => `(bucket >= toDateTime(intDiv({${p.from}:Int64}, 1000), 'UTC') AND bucket < toDateTime(intDiv({${p.to}:Int64}, 1000), 'UTC'))`);
  return `SELECT sensor_id, sum(sum_value) AS s, sum(count) AS c, min(min_value) AS lo, max(max_value) AS hi
  FROM ${sourceTable(ch, source)} WHERE sensor_id IN {ids:Array(UUID)} AND (${ranges.join(" OR ")}) GROUP BY sensor_id`;
}

export function crossingSql(ch: Clickhouse, q: CrossingQuery) {
  const params: Record<string, unknown> = { ids: q.sensorIds, threshold: q.threshold };
  const parts: string[] = [];
  for (const source of ["raw", "1m", "1h"] as const) {
    const names = q.pieces
      .map((piece, i) => ({ piece, i }))
      .filter(({ piece }) => piece.source === source)
      .map(({ piece, i }) => {
        params[`from${i}`] = piece.from;
        params[`to${i}`] = piece.to;
        return { from: `from${i}`, to: `to${i}` };
      });
    if (names.length > 0) parts.push(partSql(ch, source, names));
  }
  const query = `SELECT sensor_id, ${AGGREGATE_SQL[q.aggregate]} AS v, sum(c) AS n
FROM (
  ${parts.join("\n  UNION ALL\n  ")}
)
GROUP BY sensor_id
HAVING n > 0 AND v ${COMPARISON_SQL[q.comparison]} {threshold:Float64}
ORDER BY v ${ORDER_SQL[q.comparison]}, sensor_id`;
  return { query, params };
}

export async function queryCrossing(ch: Clickhouse, q: CrossingQuery): Promise<CrossingColumns> {
  if (q.sensorIds.length === 0 || q.pieces.length === 0) return { sensor_id: [], v: [], n: [] };
  const { query, params } = crossingSql(ch, q);
  return (await queryColumns<CrossingColumns>(ch, query, params)).columns;
}
