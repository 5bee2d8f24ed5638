import { describe, expect, test } from "bun:test";
import path from "node:path";
import { ConfigError, describeConfig, loadConfig } from "../server/platform/config";

function problemsOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("configuration", () => {
  test("with nothing set, the server runs on the embedded stores under ./data", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(path.resolve("./data"));
    expect(config.postgres).toEqual({ embeddedPath: path.resolve("./data/pg") });
    expect(config.clickhouse.target).toEqual({ embeddedPath: path.resolve("./data/ch"), mergeNice: 19 });
    expect(config.clickhouse.database).toBe("verdant");
    expect(config.demoData).toBe(true);
  });

  test("DATABASE_URL and CLICKHOUSE_URL switch to servers and turn demo data off", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u:p@db:5432/verdant",
      CLICKHOUSE_URL: "http://ch:8123",
      CLICKHOUSE_USER: "ingest",
      CLICKHOUSE_PASSWORD: "s3cret",
      CLICKHOUSE_CLUSTER: "plants",
    });
    expect(config.postgres).toEqual({ url: "postgres://u:p@db:5432/verdant" });
    expect(config.clickhouse.target).toEqual({ url: "http://ch:8123", user: "ingest", password: "s3cret" });
    expect(config.clickhouse.cluster).toBe("plants");
    expect(config.demoData).toBe(false);
  });

  test("a bad value fails with a message naming the variable and what was given", () => {
    const problems = problemsOf({ PORT: "eighty", LOG_LEVEL: "loud", DATABASE_URL: "mysql://x" });
    const byVariable = Object.fromEntries(problems.map((p) => [p.variable, p.message]));
    expect(Object.keys(byVariable).sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "PORT"]);
    expect(byVariable.PORT).toContain('"eighty"');
    expect(byVariable.LOG_LEVEL).toContain("must be one of");
    expect(byVariable.DATABASE_URL).toContain("postgres://");
  });

  test("CHDB_MERGE_NICE is a nice value from 0 to 19", () => {
    expect(loadConfig({ CHDB_MERGE_NICE: "0" }).clickhouse.target).toMatchObject({ mergeNice: 0 });
    for (const bad of ["20", "-1", "low", "2.5"]) {
      expect(problemsOf({ CHDB_MERGE_NICE: bad }).map((p) => p.variable)).toEqual(["CHDB_MERGE_NICE"]);
    }
  });

  test("identifiers that end up in DDL must be plain names", () => {
    const problems = problemsOf({ CLICKHOUSE_DATABASE: "verdant; DROP TABLE x", CLICKHOUSE_CLUSTER: "1abc" });
    expect(problems.map((p) => p.variable).sort()).toEqual(["CLICKHOUSE_CLUSTER", "CLICKHOUSE_DATABASE"]);
  });

  test("the insert format defaults to the engine's best and refuses RowBinary for a server", () => {
    expect(loadConfig({}).ingest.insertFormat).toBeUndefined();
    expect(loadConfig({ INGEST_INSERT_FORMAT: "tsv" }).ingest.insertFormat).toBe("tsv");
    expect(problemsOf({ INGEST_INSERT_FORMAT: "rowbinary", CLICKHOUSE_URL: "http://ch:8123" })).toEqual([
      { variable: "INGEST_INSERT_FORMAT", message: expect.stringContaining("chDB") },
    ]);
    expect(problemsOf({ INGEST_INSERT_FORMAT: "parquet" })[0]!.message).toContain("must be one of auto, rowbinary, tsv");
  });

  test("webhook and live-update settings have defaults and are checked", () => {
    expect(loadConfig({}).notifications).toEqual({ intervalMs: 1000, timeoutMs: 10_000, maxAttempts: 8, backoffBaseMs: 30_000, backoffMaxMs: 3_600_000 });
    expect(loadConfig({}).liveReadingsIntervalMs).toBe(1000);
    const set = loadConfig({ WEBHOOK_MAX_ATTEMPTS: "3", WEBHOOK_TIMEOUT_MS: "2500", LIVE_READINGS_INTERVAL_MS: "250" });
    expect(set.notifications).toMatchObject({ maxAttempts: 3, timeoutMs: 2500 });
    expect(set.liveReadingsIntervalMs).toBe(250);
    const problems = problemsOf({ WEBHOOK_MAX_ATTEMPTS: "0", NOTIFY_INTERVAL_MS: "often" });
    expect(problems.map((p) => p.variable).sort()).toEqual(["NOTIFY_INTERVAL_MS", "WEBHOOK_MAX_ATTEMPTS"]);
  });

  test("ports out of range are refused", () => {
    expect(problemsOf({ PORT: "70000" })[0]!.message).toContain("between 0 and 65535");
  });

  test("the loggable description never contains passwords", () => {
    const described = JSON.stringify(
      describeConfig(
        loadConfig({ DATABASE_URL: "postgres://u:hunter2@db/v", CLICKHOUSE_URL: "http://a:hunter3@ch:8123", CLICKHOUSE_PASSWORD: "hunter4" }),
      ),
    );
    expect(described).not.toContain("hunter");
  });
});
