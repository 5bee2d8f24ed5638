import { rmSync } from "node:fs";
import {
  appliedClickhouseMigrations,
  clickhouseRowCounts,
  dropClickhouseData,
  migrateClickhouse,
  readClickhouseMigrations,
} from "../../clickhouse/migrate";
import { tableRowCounts } from "../../db/client";
import { dropPostgresData, migratePostgresStore, postgresMigrationStatus } from "../../db/migrate";
import { seedDemoReadings } from "../../clickhouse/demo-readings";
import { seed, syncSpeciesCatalog } from "../../db/seed";
import { demoSensors } from "../../db/seed/demo";
import { accountCommands } from "./account-operations";
import { AdminCommandError, type AdminCommand, type AdminTarget } from "./types";

export { AdminCommandError, type AdminArgs, type AdminCommand, type AdminTarget } from "./types";

/**
 * Administrative commands, shared by the CLI (stores opened directly) and the running server's
 * loopback admin endpoint (the CLI forwards to it while the server holds the embedded stores).
 * Each returns a JSON-serialisable result; the CLI prints it.
 */

async function migrate(target: AdminTarget) {
  const postgres = await migratePostgresStore(target.postgres);
  const clickhouse = await migrateClickhouse(target.clickhouse);
  return { postgres, clickhouse };
}

async function status(target: AdminTarget) {
  const pg = await postgresMigrationStatus(target.postgres.db);
  const chApplied = await appliedClickhouseMigrations(target.clickhouse);
  const chKnown = readClickhouseMigrations();
  const chAppliedVersions = new Set(chApplied.map((m) => m.version));
  return {
    postgres: {
      engine: target.postgres.kind,
      migrations: { applied: pg.applied.length, pending: pg.pending },
      rows: await tableRowCounts(target.postgres.db),
    },
    clickhouse: {
      engine: target.clickhouse.kind,
      database: target.clickhouse.database,
      migrations: {
        applied: chApplied.map((m) => `${m.version}_${m.name}`),
        pending: chKnown.filter((m) => !chAppliedVersions.has(m.version)).map((m) => `${m.version}_${m.name}`),
      },
      rows: await clickhouseRowCounts(target.clickhouse),
    },
  };
}

const storeCommands: Record<string, AdminCommand> = {
  migrate: {
    summary: "apply pending Postgres and ClickHouse migrations",
    whileServing: true,
    run: (target) => migrate(target),
  },
  status: {
    summary: "applied and pending migrations, row counts of every table",
    whileServing: true,
    run: (target) => status(target),
  },
  seed: {
    summary: "load the species catalog and create the demo site (idempotent)",
    whileServing: true,
    run: async (target) => {
      // Seeding an empty store needs its tables first; on a migrated store this is a no-op.
      await migrate(target);
      const result = await seed(target.postgres.db);
      const demoReadings = await seedDemoReadings(target.clickhouse, await demoSensors(target.postgres.db), target.now ?? new Date());
      return { ...result, demoReadings };
    },
  },
  reset: {
    summary: "delete ALL data in both stores and migrate again (needs --yes)",
    whileServing: false,
    run: async (target, args) => {
      if (args.yes !== true) {
        throw new AdminCommandError("reset deletes every user, plant and reading: run it again with --yes to confirm");
      }
      await dropPostgresData(target.postgres.db);
      await dropClickhouseData(target.clickhouse);
      // Batches acknowledged before the reset must not come back from the log afterwards.
      if (target.walDir) rmSync(target.walDir, { recursive: true, force: true });
      const migrated = await migrate(target);
      const species = await syncSpeciesCatalog(target.postgres.db);
      return { reset: true, ...migrated, species };
    },
  },
};

export const adminCommands: Record<string, AdminCommand> = { ...storeCommands, ...accountCommands };
