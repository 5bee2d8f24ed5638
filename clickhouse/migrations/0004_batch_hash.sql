-- A reading names its batch by a 64-bit hash of the device's batch id (xxHash64, which the
-- ingest pipeline computes once per batch) instead of the id itself: 8 fixed bytes instead of a
-- string of ~30 on every row, which every INSERT parses and every merge rewrites. The duplicate
-- check only asks "did this batch of these sensors land?", inside the batch's own sensors and
-- time span, where two batch ids of one device sharing a hash is a 1-in-2^64 event.
--
-- Readings stored before this migration get the hash of their batch id, so a retry of an old
-- batch is still recognised. This file only adds and fills the column: 0005 drops batch_id
-- (and the default that refers to it), so running this one again after an interruption is
-- harmless, since it recomputes the same hashes.
ALTER TABLE {{database}}.readings {{on_cluster}} ADD COLUMN IF NOT EXISTS batch UInt64 DEFAULT xxHash64(batch_id) CODEC(ZSTD(1)) AFTER raw_value;

ALTER TABLE {{database}}.readings {{on_cluster}} MATERIALIZE COLUMN batch SETTINGS mutations_sync = 2;
