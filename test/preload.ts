import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

// chDB binds one data directory per process: every suite in this test process shares this one
// and isolates itself by ClickHouse database name (see test/support/stores.ts).
if (!process.env.VERDANT_TEST_CHDB_PATH) {
  process.env.VERDANT_TEST_CHDB_PATH = mkdtempSync(path.join(tmpdir(), "verdant-test-ch-"));
}
