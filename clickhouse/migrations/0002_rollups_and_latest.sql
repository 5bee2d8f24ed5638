-- Rollups and the latest value per sensor, fed by materialized views on readings: they see
-- exactly the rows an INSERT wrote, so a batch the ingest pipeline refuses as a duplicate
-- reaches none of them.

-- 1-minute rollup. Simple aggregates for min/max/sum/count, argMax state for the last value.
CREATE TABLE IF NOT EXISTS {{database}}.readings_1m {{on_cluster}} (
    sensor_id UUID,
    bucket DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    metric SimpleAggregateFunction(any, LowCardinality(String)),
    min_value SimpleAggregateFunction(min, Float64),
    max_value SimpleAggregateFunction(max, Float64),
    sum_value SimpleAggregateFunction(sum, Float64),
    count SimpleAggregateFunction(sum, UInt64),
    last_value AggregateFunction(argMax, Float64, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (sensor_id, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.readings_1m_mv {{on_cluster}} TO {{database}}.readings_1m AS
SELECT
    sensor_id,
    toStartOfMinute(ts) AS bucket,
    any(metric) AS metric,
    min(value) AS min_value,
    max(value) AS max_value,
    sum(value) AS sum_value,
    count() AS count,
    argMaxState(value, ts) AS last_value
FROM {{database}}.readings
GROUP BY sensor_id, bucket;

-- 1-hour rollup, read for long ranges.
CREATE TABLE IF NOT EXISTS {{database}}.readings_1h {{on_cluster}} (
    sensor_id UUID,
    bucket DateTime('UTC') CODEC(DoubleDelta, ZSTD(1)),
    metric SimpleAggregateFunction(any, LowCardinality(String)),
    min_value SimpleAggregateFunction(min, Float64),
    max_value SimpleAggregateFunction(max, Float64),
    sum_value SimpleAggregateFunction(sum, Float64),
    count SimpleAggregateFunction(sum, UInt64),
    last_value AggregateFunction(argMax, Float64, DateTime64(3, 'UTC'))
) ENGINE = AggregatingMergeTree
PARTITION BY toYear(bucket)
ORDER BY (sensor_id, bucket);

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.readings_1h_mv {{on_cluster}} TO {{database}}.readings_1h AS
SELECT
    sensor_id,
    toStartOfHour(ts) AS bucket,
    any(metric) AS metric,
    min(value) AS min_value,
    max(value) AS max_value,
    sum(value) AS sum_value,
    count() AS count,
    argMaxState(value, ts) AS last_value
FROM {{database}}.readings
GROUP BY sensor_id, bucket;

-- Latest value per sensor for dashboards: a late reading older than the current one loses
-- (ReplacingMergeTree keeps the highest ts; read with FINAL or argMax).
CREATE TABLE IF NOT EXISTS {{database}}.readings_latest {{on_cluster}} (
    sensor_id UUID,
    metric LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    value Float64,
    raw_value Float64
) ENGINE = ReplacingMergeTree(ts)
ORDER BY sensor_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.readings_latest_mv {{on_cluster}} TO {{database}}.readings_latest AS
SELECT
    sensor_id,
    any(metric) AS metric,
    argMax(value, r.ts) AS value,
    argMax(raw_value, r.ts) AS raw_value,
    max(r.ts) AS ts
FROM {{database}}.readings AS r
GROUP BY sensor_id
SETTINGS prefer_column_name_to_alias = 1;
