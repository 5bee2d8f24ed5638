/**
 * Analytics answer in columns (one array per field, equal lengths): the shape chart libraries
 * take, and about half the JSON of one object per row. `rowsOf` turns columns into rows for code
 * that wants them, typed: `rowsOf(latest.values)` is `{ sensorId, value, ts, ageSeconds, stale }[]`.
 */

/** Any object of arrays (an interface too: no index signature needed). */
export type Columns<C> = { [K in keyof C]: readonly unknown[] };
export type RowOf<C extends Columns<C>> = { [K in keyof C]: C[K][number] };

export function rowsOf<C extends Columns<C>>(columns: C): RowOf<C>[] {
  const keys = Object.keys(columns) as (keyof C)[];
  const length = keys.length === 0 ? 0 : columns[keys[0]!].length;
  const rows: RowOf<C>[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const row = {} as RowOf<C>;
    for (const key of keys) row[key] = columns[key][i] as RowOf<C>[typeof key];
    rows[i] = row;
  }
  return rows;
}
