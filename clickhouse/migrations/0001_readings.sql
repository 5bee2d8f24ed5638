-- Raw sensor readings: one narrow row per reading. Only what varies per reading is stored:
-- which site and device a sensor belongs to lives in Postgres (analytics resolve the caller's
-- sensors there and filter by sensor_id), and every column parsed on insert costs ingest speed.
-- ts and value codecs measured on this data shape: DoubleDelta/Delta + ZSTD ≈ 2.4 B/row;
-- Gorilla does badly on decimal-rounded sensor values.
-- batch_id carries the device's batch id, so ClickHouse itself records which batches landed.
CREATE TABLE IF NOT EXISTS {{database}}.readings {{on_cluster}} (
    sensor_id UUID,
    metric LowCardinality(String),
    ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    value Float64 CODEC(ZSTD(1)),
    raw_value Float64 CODEC(ZSTD(1)),
    batch_id String CODEC(ZSTD(1)),
    received_at DateTime64(3, 'UTC') DEFAULT now64(3) CODEC(DoubleDelta, ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (sensor_id, ts);
