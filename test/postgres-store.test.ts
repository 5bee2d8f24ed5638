import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { rowsOf, tableRowCounts } from "../db/client";
import { migratePostgresStore, postgresMigrationStatus } from "../db/migrate";
import { sites, species } from "../db/schema";
import { seed } from "../db/seed";
import { speciesCatalog } from "../db/seed/species-data";
import { adminCommands } from "../server/admin/operations";
import { openTestClickhouse, openTestDatabase, postgresEngines, type TestClickhouse, type TestDatabase } from "./support/stores";

for (const engine of postgresEngines) {
  describe(`Postgres store on ${engine}`, () => {
    let pg: TestDatabase;
    let ch: TestClickhouse;
    beforeAll(async () => {
      pg = await openTestDatabase(engine);
      ch = openTestClickhouse();
    });
    afterAll(async () => {
      await pg.cleanup();
      await ch.cleanup();
    });

    test("migrating an empty database applies every migration; migrating again applies none", async () => {
      const first = await migratePostgresStore(pg.database);
      expect(first.applied).toBeGreaterThan(0);
      expect(first.applied).toBe(first.total);
      const second = await migratePostgresStore(pg.database);
      expect(second).toEqual({ applied: 0, total: first.total });
      expect((await postgresMigrationStatus(pg.database.db)).pending).toBe(0);
    });

    test("seeding loads the species catalog and one demo site, and seeding twice changes nothing", async () => {
      const first = await seed(pg.database.db);
      const second = await seed(pg.database.db);
      expect(second.demoSiteId).toBe(first.demoSiteId);
      expect(second.demoSiteCreated).toBe(false);
      const counts = await tableRowCounts(pg.database.db);
      expect(counts.species).toBe(speciesCatalog.length);
      expect(counts.sites).toBe(1);
    });

    test("a corrected care range in the catalog reaches the existing row, keeping its id", async () => {
      const [before] = await pg.database.db.select().from(species).where(eq(species.slug, "ocimum-basilicum"));
      expect(before).toBeDefined();
      const { syncSpeciesCatalog } = await import("../db/seed");
      const basil = speciesCatalog.find((s) => s.slug === "ocimum-basilicum")!;
      await syncSpeciesCatalog(pg.database.db, [{ ...basil, wateringIntervalDays: 99 }]);
      const [after] = await pg.database.db.select().from(species).where(eq(species.slug, "ocimum-basilicum"));
      expect(after!.id).toBe(before!.id);
      expect(after!.wateringIntervalDays).toBe(99);
      await syncSpeciesCatalog(pg.database.db, [basil]);
    });

    test("species names are searchable without accents", async () => {
      const rows = rowsOf<{ slug: string }>(
        await pg.database.db.execute(sql`select slug from species where search_text like ${"%jalapeno%"}`),
      );
      expect(rows.length).toBeGreaterThan(0);
    });

    test("status reports applied migrations and row counts of both stores", async () => {
      await adminCommands.migrate!.run({ postgres: pg.database, clickhouse: ch.clickhouse }, {});
      const status = (await adminCommands.status!.run({ postgres: pg.database, clickhouse: ch.clickhouse }, {})) as {
        postgres: { migrations: { pending: number }; rows: Record<string, number> };
        clickhouse: { migrations: { applied: string[]; pending: string[] }; rows: Record<string, number> };
      };
      expect(status.postgres.migrations.pending).toBe(0);
      expect(status.postgres.rows.species).toBe(speciesCatalog.length);
      expect(status.clickhouse.migrations.pending).toEqual([]);
      expect(status.clickhouse.rows).toHaveProperty("readings");
    });

    test("reset refuses without --yes and changes nothing", async () => {
      const target = { postgres: pg.database, clickhouse: ch.clickhouse };
      await expect(adminCommands.reset!.run(target, {})).rejects.toThrow(/--yes/);
      expect((await tableRowCounts(pg.database.db)).sites).toBe(1);
    });

    test("reset --yes empties both stores and leaves them migrated with the catalog", async () => {
      const target = { postgres: pg.database, clickhouse: ch.clickhouse };
      await ch.clickhouse.client.insert({
        table: `${ch.clickhouse.database}.readings`,
        values: [{ sensor_id: crypto.randomUUID(), ts: Date.now(), value: 1, raw_value: 1, batch: 1 }],
        format: "JSONEachRow",
      });
      await adminCommands.reset!.run(target, { yes: true });
      const counts = await tableRowCounts(pg.database.db);
      expect(counts.sites).toBe(0);
      expect(counts.species).toBe(speciesCatalog.length);
      expect(await pg.database.db.select().from(sites)).toEqual([]);
      const status = (await adminCommands.status!.run(target, {})) as { clickhouse: { rows: Record<string, number> } };
      expect(status.clickhouse.rows.readings).toBe(0);
    });
  });
}
