-- Exactly-once from the write-ahead log (server/pipelines/ingest/wal.ts). Each flush is one INSERT
-- of a range of the log with an insert_deduplication_token naming that range; sent again after a
-- crash, it is dropped by every table that already has it and taken by any that does not (each
-- table of the chain, raw readings and each rollup, deduplicates its own block:
-- deduplicate_blocks_in_dependent_materialized_views), so raw data and rollups agree whatever
-- moment a crash hit. Plain MergeTree tables deduplicate only with a window, set here.
ALTER TABLE {{database}}.readings {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.readings_1m {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.readings_1h {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE {{database}}.readings_latest {{on_cluster}} MODIFY SETTING non_replicated_deduplication_window = 1000;

-- Every batch acknowledged: the record of what landed, by device and batch (a hash of the device's
-- batch id, as readings.batch), found without knowing its readings' times. A retry of a batch
-- older than ingest's in-memory window is looked up here; on start the window is filled from it.
CREATE TABLE IF NOT EXISTS {{database}}.batches {{on_cluster}} (
    device_id UUID,
    batch UInt64,
    rows UInt32,
    received_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (device_id, batch)
SETTINGS non_replicated_deduplication_window = 1000;
