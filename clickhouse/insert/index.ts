/** Raw readings into ClickHouse: their row layout and encoders, the INSERT, and the lookup of batches already stored. */
export { batchHash, encodeBatch, INSERT_COLUMNS, ROW_BINARY_STRUCTURE, type EncodedBatch, type InsertFormat, type RawReading, type SensorForRows } from "./rows";
export { insertReadings, landedReadings, type BatchProbe } from "./insert";
