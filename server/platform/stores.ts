import type { Clickhouse } from "../../clickhouse/client";
import { migrateClickhouse } from "../../clickhouse/migrate";
import { keepReplacedParts } from "../../clickhouse/old-parts";
import { applyRetention, type RetentionDays } from "../../clickhouse/retention";
import type { Database, Db } from "../../db/client";
import { migratePostgresStore } from "../../db/migrate";
import { ensureDemoSite, syncSpeciesCatalog } from "../../db/seed";
import { messageOf } from "./errors";
import type { Logger } from "./logger";

/**
 * The two stores and their bring-up. The server listens before the stores are ready: /healthz
 * answers at once, /readyz says what is still missing, and an unreachable store is retried with
 * backoff instead of crashing the process (a PostgreSQL server that starts after us is normal).
 */

export type StoreName = "postgres" | "clickhouse";

export interface StoreStatus {
  state: "starting" | "ready" | "closed";
  /** The last bring-up failure, while not ready. */
  error?: string;
  /** Migrations applied by this process's bring-up, and how many exist. */
  migrations?: { applied: number; total: number };
}

export interface StoreOpeners {
  openPostgres: () => Promise<Database>;
  openClickhouse: () => Clickhouse;
  /** Create the demo site after migrating (the species catalog is always synced). */
  demoData: boolean;
  /** Readings and rollup TTLs, applied after ClickHouse migrations. */
  retention?: RetentionDays;
}

export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
  constructor(public readonly store: StoreName, reason: string) {
    super(`${store} is not available: ${reason}`);
  }
}

const PING_TIMEOUT_MS = 2_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 15_000;

export class Stores {
  readonly status: Record<StoreName, StoreStatus> = {
    postgres: { state: "starting" },
    clickhouse: { state: "starting" },
  };
  #postgres: Database | undefined;
  #clickhouse: Clickhouse | undefined;
  #closing = false;
  #bringUp: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(
    private readonly openers: StoreOpeners,
    private readonly log: Logger,
  ) {}

  /** Starts bringing both stores up; resolves when both are ready (or the stores are closed). */
  start(): Promise<void> {
    this.#bringUp ??= Promise.all([
      this.#retry("postgres", () => this.#bringUpPostgres()),
      this.#retry("clickhouse", () => this.#bringUpClickhouse()),
    ]).then(() => undefined);
    return this.#bringUp;
  }

  get ready(): boolean {
    return this.status.postgres.state === "ready" && this.status.clickhouse.state === "ready";
  }

  /** The Drizzle database; throws StoreUnavailableError until Postgres is migrated. */
  get db(): Db {
    return this.postgres.db;
  }

  get postgres(): Database {
    if (this.status.postgres.state !== "ready" || !this.#postgres) throw this.#unavailable("postgres");
    return this.#postgres;
  }

  get clickhouse(): Clickhouse {
    if (this.status.clickhouse.state !== "ready" || !this.#clickhouse) throw this.#unavailable("clickhouse");
    return this.#clickhouse;
  }

  /** How long ClickHouse keeps raw readings and rollups: analytics pick their sources by it. */
  get retention(): RetentionDays {
    return this.openers.retention ?? { rawDays: 90, rollupDays: 730 };
  }

  /** Live check for /readyz: both stores migrated and answering now. */
  async readiness(): Promise<{ ready: boolean; stores: Record<StoreName, { ok: boolean; error?: string }> }> {
    const check = async (name: StoreName, ping: (() => Promise<void>) | undefined) => {
      const status = this.status[name];
      if (status.state !== "ready" || !ping) {
        return { ok: false, error: status.state === "closed" ? "shutting down" : (status.error ?? "starting") };
      }
      try {
        await withTimeout(ping(), PING_TIMEOUT_MS, `no answer within ${PING_TIMEOUT_MS} ms`);
        return { ok: true };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    };
    const [postgres, clickhouse] = await Promise.all([
      check("postgres", this.#postgres?.ping),
      check("clickhouse", this.#clickhouse?.ping),
    ]);
    return { ready: postgres.ok && clickhouse.ok, stores: { postgres, clickhouse } };
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#wake?.();
    this.status.postgres = { state: "closed" };
    this.status.clickhouse = { state: "closed" };
    const results = await Promise.allSettled([this.#postgres?.close(), this.#clickhouse?.close()]);
    for (const r of results) if (r.status === "rejected") this.log.warn({ err: r.reason }, "closing a store failed");
    this.#postgres = undefined;
    this.#clickhouse = undefined;
  }

  async #bringUpPostgres(): Promise<StoreStatus> {
    this.#postgres ??= await this.openers.openPostgres();
    const migrations = await migratePostgresStore(this.#postgres);
    const species = await syncSpeciesCatalog(this.#postgres.db);
    const demo = this.openers.demoData ? await ensureDemoSite(this.#postgres.db) : undefined;
    this.log.info(
      { store: "postgres", kind: this.#postgres.kind, migrationsApplied: migrations.applied, migrationsTotal: migrations.total, species, demoSiteCreated: demo?.created ?? false },
      "postgres ready",
    );
    return { state: "ready", migrations };
  }

  async #bringUpClickhouse(): Promise<StoreStatus> {
    this.#clickhouse ??= this.openers.openClickhouse();
    const migrations = await migrateClickhouse(this.#clickhouse);
    const retention = this.openers.retention ? await applyRetention(this.#clickhouse, this.openers.retention) : [];
    const oldPartsKept = await keepReplacedParts(this.#clickhouse);
    this.log.info(
      {
        store: "clickhouse",
        kind: this.#clickhouse.kind,
        migrationsApplied: migrations.applied.length,
        migrationsTotal: migrations.total,
        retentionChanged: retention,
        ...(oldPartsKept.length > 0 ? { oldPartsLifetimeSet: oldPartsKept } : {}),
      },
      "clickhouse ready",
    );
    return { state: "ready", migrations: { applied: migrations.applied.length, total: migrations.total } };
  }

  async #retry(name: StoreName, attempt: () => Promise<StoreStatus>): Promise<void> {
    let delay = RETRY_MIN_MS;
    while (!this.#closing) {
      try {
        const status = await attempt();
        if (!this.#closing) this.status[name] = status;
        return;
      } catch (error) {
        if (this.#closing) return;
        this.status[name] = { state: "starting", error: messageOf(error) };
        this.log.warn({ store: name, err: messageOf(error), retryInMs: delay }, `${name} not ready, retrying`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  #unavailable(name: StoreName): StoreUnavailableError {
    const status = this.status[name];
    return new StoreUnavailableError(name, status.state === "closed" ? "shutting down" : (status.error ?? "starting"));
  }
}


function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
