/** Raw readings into ClickHouse: their row layout and encoding, the INSERT, the record of batches, and the lookups of what is stored. */
export { batchHash, decodeRows, encodeBatch, latestOfRows, INSERT_COLUMNS, ROW_BINARY_STRUCTURE, ROW_BYTES, type DecodedRow, type EncodedBatch, type RawReading, type SensorForRows } from "./rows";
export { anyDeviceBatchStored, DEMO_BATCH, insertBatches, insertReadings, landedReadings, recentBatches, recordedBatches, type BatchProbe, type BatchRecord, type InsertFormat } from "./insert";
export { repairRange, type RangeRecord, type RepairReport } from "./repair";
