import { createHash } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_MERGE_NICE, type ClickhouseTarget } from "../../clickhouse/client";
import type { InsertFormat } from "../../clickhouse/insert";
import type { CorsPolicy } from "./cors";
import { corsOriginsSetting, trustedProxiesSetting } from "./network-settings";
import type { TrustedProxies } from "./proxies";

/**
 * Configuration is read once, from the environment, validated here and passed down.
 * Nothing else in the code base reads `process.env`.
 */

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** ClickHouse identifiers we interpolate into DDL (database, cluster) must be plain names. */
const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, "must be a plain identifier: letters, digits and _, not starting with a digit");

const port = z.coerce
  .number({ message: "must be a number" })
  .int("must be a whole number")
  .min(0, "must be between 0 and 65535")
  .max(65535, "must be between 0 and 65535");

const positiveInt = (max: number) =>
  z.coerce
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(1, "must be at least 1")
    .max(max, `must be at most ${max}`);

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` },
  );

const envSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1, "must not be empty").default("0.0.0.0"),
  DATA_DIR: z.string().min(1, "must not be empty").default("./data"),
  DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
  CLICKHOUSE_URL: url(["http:", "https:"]).optional(),
  CLICKHOUSE_USER: z.string().default("default"),
  CLICKHOUSE_PASSWORD: z.string().default(""),
  CLICKHOUSE_DATABASE: identifier.default("verdant"),
  CLICKHOUSE_CLUSTER: identifier.optional(),
  CHDB_MERGE_NICE: z.coerce.number({ message: "must be a number" }).int("must be a whole number").min(0, "must be between 0 and 19").max(19, "must be between 0 and 19").default(DEFAULT_MERGE_NICE),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  DEMO_DATA: booleanFlag.optional(),
  READINGS_RAW_TTL_DAYS: positiveInt(36_500).default(90),
  ROLLUP_TTL_DAYS: positiveInt(36_500).default(730),
  INGEST_MAX_READINGS: positiveInt(1_000_000).default(10_000),
  INGEST_MAX_BODY_BYTES: positiveInt(256 * 1024 * 1024).default(4 * 1024 * 1024),
  INGEST_MAX_CLOCK_SKEW_SECONDS: positiveInt(86_400).default(300),
  INGEST_FLUSH_ROWS: positiveInt(10_000_000).default(500_000),
  INGEST_FLUSH_MS: positiveInt(60_000).default(200),
  INGEST_MAX_QUEUE_ROWS: positiveInt(100_000_000).default(2_000_000),
  INGEST_DEDUP_BATCHES: positiveInt(100_000_000).default(1_000_000),
  INGEST_INSERT_FORMAT: z.enum(["auto", "rowbinary", "tsv"], { message: "must be one of auto, rowbinary, tsv" }).default("auto"),
  DEVICE_SENSOR_LIMIT: positiveInt(10_000).default(64),
  NOTIFY_INTERVAL_MS: positiveInt(3_600_000).default(1_000),
  WEBHOOK_TIMEOUT_MS: positiveInt(120_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: positiveInt(100).default(8),
  WEBHOOK_BACKOFF_BASE_MS: positiveInt(86_400_000).default(30_000),
  WEBHOOK_BACKOFF_MAX_MS: positiveInt(7 * 86_400_000).default(3_600_000),
  LIVE_READINGS_INTERVAL_MS: positiveInt(60_000).default(1_000),
  AUTOMATION_TICK_SECONDS: positiveInt(3600).default(30),
  TRUSTED_PROXIES: trustedProxiesSetting,
  CORS_ORIGINS: corsOriginsSetting,
  MQTT_URL: url(["mqtt:", "mqtts:"]).optional(),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_CLIENT_ID: z
    .string()
    .max(128, "must be at most 128 characters")
    .regex(/^[A-Za-z0-9._:-]+$/, "may contain letters, digits, _ . : and - only")
    .optional(),
  MQTT_SITE_ID: z.uuid("must be the UUID of a site").optional(),
  MQTT_PROTOCOL_VERSION: z.enum(["5", "3.1.1"], { message: "must be 5 or 3.1.1" }).default("5"),
  MQTT_LISTEN: z
    .string()
    .refine((v) => /^(?:.+:)?\d{1,5}$/.test(v) && Number(v.slice(v.lastIndexOf(":") + 1)) <= 65535, "must be a port up to 65535 (1883) or host:port (127.0.0.1:1883)")
    .optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce
    .number({ message: "must be a number" })
    .int("must be a whole number")
    .min(0, "must not be negative")
    .default(10_000),
});

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  /** Absolute path; embedded stores live in `pg/` and `ch/` below it. */
  dataDir: string;
  postgres: { url: string } | { embeddedPath: string };
  clickhouse: {
    target: ClickhouseTarget;
    database: string;
    cluster: string | undefined;
  };
  logLevel: LogLevel;
  /** Create the demo site (with the species catalog) at start-up when none exists. */
  demoData: boolean;
  shutdownTimeoutMs: number;
  retention: { rawDays: number; rollupDays: number };
  ingest: IngestLimits;
  notifications: DispatcherConfig;
  /** Shortest gap between two live readings messages to one subscriber. */
  liveReadingsIntervalMs: number;
  /** How often the automation engine runs its scheduled work (aggregates, staleness, schedules…). */
  automationTickMs: number;
  /** Reverse proxies whose X-Forwarded-* headers are believed, and origins allowed by CORS (docs/security.md). */
  http: { trustedProxies: TrustedProxies; cors: CorsPolicy };
  mqtt: MqttConfig;
}

/** MQTT (docs/mqtt.md): the bridge to the user's broker and the embedded broker, each when configured. */
export interface MqttConfig {
  /** The user's broker (MQTT_URL), bridged with a persistent session. */
  bridge: {
    url: string;
    username: string | undefined;
    password: string | undefined;
    /** Stable across restarts, so the broker keeps our session and what arrives while we are down. */
    clientId: string;
    protocolVersion: 4 | 5;
    /** The site whose devices publish on that broker. */
    siteId: string;
  } | null;
  /** The embedded broker (MQTT_LISTEN), authenticated by device tokens. */
  listen: { host: string; port: number } | null;
}

export interface IngestLimits {
  /** Readings in one batch; more is 413. */
  maxReadings: number;
  /** Request body bytes, before and after gzip; more is 413. */
  maxBodyBytes: number;
  /** How far in the future a timestamp may be (device clocks drift). */
  maxClockSkewMs: number;
  /** The write-ahead log's directory (DATA_DIR/wal). */
  walDir: string;
  /** Flush to ClickHouse when this many acknowledged rows wait … */
  flushRows: number;
  /** … or when the oldest has waited this long. */
  flushMs: number;
  /** Rows acknowledged but not yet in ClickHouse beyond which new batches get 429. */
  maxQueueRows: number;
  /** Batches remembered to recognise retries without asking ClickHouse. */
  dedupBatches: number;
  /** Sensors a device may create by reporting new keys. */
  sensorLimit: number;
  /** How rows travel to ClickHouse; unset picks RowBinary for chDB, TabSeparated for a server. */
  insertFormat?: InsertFormat | undefined;
}

/** The webhook dispatcher's timing (server/pipelines/notifications). */
export interface DispatcherConfig {
  /** How often start() ticks. */
  intervalMs: number;
  /** How long a receiver gets to answer. */
  timeoutMs: number;
  maxAttempts: number;
  /** Delay after the first failed attempt; doubles per attempt up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export class ConfigError extends Error {
  constructor(public readonly problems: { variable: string; message: string }[]) {
    super(
      `Invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

/** Empty strings count as unset, as in most .env tooling. */
function withoutEmpty(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && value !== "") out[key] = value;
  return out;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(withoutEmpty(env));
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? "environment");
        const got = env[variable];
        return { variable, message: got === undefined ? issue.message : `${issue.message} (got ${JSON.stringify(got)})` };
      }),
    );
  }
  const e = parsed.data;
  if (e.INGEST_INSERT_FORMAT === "rowbinary" && e.CLICKHOUSE_URL) {
    throw new ConfigError([{ variable: "INGEST_INSERT_FORMAT", message: "rowbinary needs the embedded chDB; with CLICKHOUSE_URL use auto or tsv" }]);
  }
  if (e.MQTT_URL && !e.MQTT_SITE_ID) {
    throw new ConfigError([{ variable: "MQTT_SITE_ID", message: "is required with MQTT_URL: the id of the site whose devices publish on that broker" }]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    postgres: e.DATABASE_URL ? { url: e.DATABASE_URL } : { embeddedPath: path.join(dataDir, "pg") },
    clickhouse: {
      target: e.CLICKHOUSE_URL
        ? { url: e.CLICKHOUSE_URL, user: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD }
        : { embeddedPath: path.join(dataDir, "ch"), mergeNice: e.CHDB_MERGE_NICE },
      database: e.CLICKHOUSE_DATABASE,
      cluster: e.CLICKHOUSE_CLUSTER,
    },
    logLevel: e.LOG_LEVEL,
    // Demo data is for trying Verdant out: on by default with the embedded stores, off with servers.
    demoData: e.DEMO_DATA ?? !e.DATABASE_URL,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    retention: { rawDays: e.READINGS_RAW_TTL_DAYS, rollupDays: e.ROLLUP_TTL_DAYS },
    ingest: {
      maxReadings: e.INGEST_MAX_READINGS,
      maxBodyBytes: e.INGEST_MAX_BODY_BYTES,
      maxClockSkewMs: e.INGEST_MAX_CLOCK_SKEW_SECONDS * 1000,
      walDir: path.join(dataDir, "wal"),
      flushRows: e.INGEST_FLUSH_ROWS,
      flushMs: e.INGEST_FLUSH_MS,
      maxQueueRows: e.INGEST_MAX_QUEUE_ROWS,
      dedupBatches: e.INGEST_DEDUP_BATCHES,
      sensorLimit: e.DEVICE_SENSOR_LIMIT,
      insertFormat: e.INGEST_INSERT_FORMAT === "auto" ? undefined : e.INGEST_INSERT_FORMAT,
    },
    notifications: {
      intervalMs: e.NOTIFY_INTERVAL_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      backoffBaseMs: e.WEBHOOK_BACKOFF_BASE_MS,
      backoffMaxMs: e.WEBHOOK_BACKOFF_MAX_MS,
    },
    liveReadingsIntervalMs: e.LIVE_READINGS_INTERVAL_MS,
    automationTickMs: e.AUTOMATION_TICK_SECONDS * 1000,
    http: { trustedProxies: e.TRUSTED_PROXIES, cors: e.CORS_ORIGINS },
    mqtt: {
      bridge:
        e.MQTT_URL && e.MQTT_SITE_ID
          ? {
              url: e.MQTT_URL,
              username: e.MQTT_USERNAME,
              password: e.MQTT_PASSWORD,
              clientId: e.MQTT_CLIENT_ID ?? defaultMqttClientId(dataDir),
              protocolVersion: e.MQTT_PROTOCOL_VERSION === "5" ? 5 : 4,
              siteId: e.MQTT_SITE_ID,
            }
          : null,
      listen: e.MQTT_LISTEN ? listenOf(e.MQTT_LISTEN, e.HOST) : null,
    },
  };
}

/** The same on every start of this installation (host and data directory), different between installations. */
function defaultMqttClientId(dataDir: string): string {
  return `verdant-${createHash("sha256").update(`${hostname()}:${dataDir}`).digest("hex").slice(0, 16)}`;
}

function listenOf(value: string, defaultHost: string): { host: string; port: number } {
  const colon = value.lastIndexOf(":");
  return colon < 0 ? { host: defaultHost, port: Number(value) } : { host: value.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(value.slice(colon + 1)) };
}

/** A description of the configuration that is safe to log: no passwords, no credentials in URLs. */
export function describeConfig(config: Config) {
  const redactUrl = (value: string) => {
    const u = new URL(value);
    if (u.password) u.password = "***";
    return u.toString();
  };
  return {
    port: config.port,
    host: config.host,
    dataDir: config.dataDir,
    postgres: "url" in config.postgres ? redactUrl(config.postgres.url) : `pglite:${config.postgres.embeddedPath}`,
    clickhouse:
      "url" in config.clickhouse.target
        ? redactUrl(config.clickhouse.target.url)
        : `chdb:${config.clickhouse.target.embeddedPath}`,
    clickhouseDatabase: config.clickhouse.database,
    clickhouseCluster: config.clickhouse.cluster ?? null,
    ...("embeddedPath" in config.clickhouse.target ? { chdbMergeNice: config.clickhouse.target.mergeNice } : {}),
    demoData: config.demoData,
    trustedProxies: config.http.trustedProxies.entries,
    corsOrigins: config.http.cors.origins,
    mqttBridge: config.mqtt.bridge ? { url: redactUrl(config.mqtt.bridge.url), clientId: config.mqtt.bridge.clientId, siteId: config.mqtt.bridge.siteId } : null,
    mqttListen: config.mqtt.listen ? `${config.mqtt.listen.host}:${config.mqtt.listen.port}` : null,
  };
}
