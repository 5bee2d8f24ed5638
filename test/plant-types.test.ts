import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { syncSpeciesCatalog } from "../db/seed";
import { speciesCare } from "../db/seed/species-care";
import { speciesCatalog } from "../db/seed/species-data";
import { species } from "../db/schema";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/** Own plant types (a site's species) and every metric's range per plant, pH, EC and water level included. */

const PASSWORD = "correct horse battery";

test("every catalog species has its pH range, feeding and repotting intervals", () => {
  const missing = speciesCatalog.filter((s) => !speciesCare[s.slug]).map((s) => s.slug);
  expect(missing).toEqual([]);
  expect(Object.keys(speciesCare).filter((slug) => !speciesCatalog.some((s) => s.slug === slug))).toEqual([]);
  for (const { ph } of Object.values(speciesCare)) expect(ph[0]).toBeLessThan(ph[1]);
});

for (const engine of postgresEngines) {
  describe(`plant types and ranges on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let other: ReturnType<TestServer["client"]>;
    let otherSiteId: string;

    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: `types-${engine}@example.com`, password: PASSWORD, displayName: "T", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      const neighbour = await server.client().auth.register.mutate({ email: `neighbour-${engine}@example.com`, password: PASSWORD, displayName: "N", client: "app" });
      other = server.client(neighbour.token!);
      otherSiteId = neighbour.personalSiteId;
    });
    afterAll(() => server.close());

    test("a site's own species is visible in its site only, and its ranges apply to the site's plants", async () => {
      const [basil] = (await api.species.search.query({ query: "basil" })).items;
      // A variety of its own, based on the catalog's basil: the same needs but wetter soil and warmer air.
      const thai = await api.species.create.mutate({
        siteId,
        basedOn: basil!.id,
        scientificName: "Ocimum basilicum var. thyrsiflora",
        commonNames: ["Thai basil"],
        care: { soilMoisture: { min: 45, max: 70 }, temperature: { min: 22, max: 32 }, ph: { min: 6.2, max: 6.8 } },
      });
      expect(thai).toMatchObject({ siteId, family: basil!.family, category: "herb", care: { soilMoisture: { min: 45, max: 70 }, humidity: basil!.care.humidity, ph: { min: 6.2, max: 6.8, unit: "pH" } } });

      // Visible with its site; not in the shared catalog, not to another site.
      const mine = await api.species.search.query({ siteId, query: "thai basil" });
      expect(mine.items.map((s) => s.id)).toEqual([thai.id]);
      // Equally good matches ("ocimum" starts both names): the site's own first.
      expect((await api.species.search.query({ siteId, query: "ocimum" })).items.map((s) => s.id).slice(0, 2)).toEqual([thai.id, basil!.id]);
      expect((await api.species.search.query({ query: "thai basil" })).items).toEqual([]);
      expect((await other.species.search.query({ siteId: otherSiteId, query: "thai basil" })).items).toEqual([]);
      expect((await api.species.get.query({ siteId, speciesId: thai.id })).scientificName).toBe("Ocimum basilicum var. thyrsiflora");
      expect((await failureOf(api.species.get.query({ speciesId: thai.id }))).code).toBe("NOT_FOUND");
      expect(await failureOf(other.species.get.query({ siteId: otherSiteId, speciesId: thai.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "speciesId" }] });
      // Naming a site one is not a member of is "not found", as everywhere.
      expect(await failureOf(other.species.search.query({ siteId, query: "" }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "siteId" }] });
      // Another site can neither plant it nor change it.
      expect(await failureOf(other.plants.create.mutate({ siteId: otherSiteId, name: "Borrowed", speciesId: thai.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "speciesId" }] });
      expect((await failureOf(other.species.update.mutate({ siteId: otherSiteId, speciesId: thai.id, careNotes: "mine now" }))).code).toBe("NOT_FOUND");
      // The catalog cannot be changed through a site.
      expect((await failureOf(api.species.update.mutate({ siteId, speciesId: basil!.id, careNotes: "x" }))).code).toBe("FORBIDDEN");

      // Its ranges are the site's plants' defaults, and follow an edit.
      const plant = await api.plants.create.mutate({ siteId, name: "Thai basil on the sill", speciesId: thai.id });
      expect(plant.thresholds.soil_moisture).toEqual({ unit: "%", min: { value: 45, source: "species" }, max: { value: 70, source: "species" } });
      expect(plant.thresholds.ph).toEqual({ unit: "pH", min: { value: 6.2, source: "species" }, max: { value: 6.8, source: "species" } });
      await api.species.update.mutate({ siteId, speciesId: thai.id, care: { soilMoisture: { min: 50, max: 75 } } });
      expect((await api.plants.get.query({ siteId, plantId: plant.id })).thresholds.soil_moisture.min).toEqual({ value: 50, source: "species" });
      const metrics = await api.analytics.plantMetrics.query({ siteId, plantId: plant.id, from: new Date(Date.now() - 86_400_000), to: new Date() });
      expect(metrics.ranges.soil_moisture).toMatchObject({ min: 50, max: 75 });

      // Bad input names the field and changes nothing.
      expect(await failureOf(api.species.create.mutate({ siteId, scientificName: "Half a plant" }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: expect.arrayContaining([{ path: "family", message: "is required (or give basedOn)" }, { path: "care.soilMoisture", message: "is required (or give basedOn)" }]),
      });
      expect(await failureOf(api.species.update.mutate({ siteId, speciesId: thai.id, care: { ph: { min: 7, max: 6 } } }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "care.ph.max" }] });
      expect(await failureOf(api.species.create.mutate({ siteId, basedOn: thai.id, scientificName: "Ocimum basilicum var. thyrsiflora" }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "scientificName" }] });

      // In use: deleting must say what happens to the plants; until then nothing is deleted.
      expect(await failureOf(api.species.delete.mutate({ siteId, speciesId: thai.id }))).toMatchObject({ code: "CONFLICT", message: expect.stringContaining("1 plant uses"), issues: [{ path: "reassignTo" }] });
      expect((await api.species.get.query({ siteId, speciesId: thai.id })).id).toBe(thai.id);
      const moved = await api.species.delete.mutate({ siteId, speciesId: thai.id, reassignTo: basil!.id });
      expect(moved).toEqual({ deleted: thai.id, plantsReassigned: 1, reassignedTo: basil!.id });
      const after = await api.plants.get.query({ siteId, plantId: plant.id });
      expect(after.species?.id).toBe(basil!.id);
      expect(after.thresholds.soil_moisture.min).toEqual({ value: basil!.care.soilMoisture.min, source: "species" });
      expect((await failureOf(api.species.get.query({ siteId, speciesId: thai.id }))).code).toBe("NOT_FOUND");
    });

    test("the catalog sync at start-up never touches a site's species, even one with a catalog slug", async () => {
      // Same scientific name as the catalog's basil, so the same slug; different ranges.
      const own = await api.species.create.mutate({
        siteId,
        scientificName: "Ocimum basilicum",
        commonNames: ["Our basil"],
        family: "Lamiaceae",
        category: "herb",
        care: {
          soilMoisture: { min: 10, max: 20 },
          temperature: { min: 10, max: 20 },
          humidity: { min: 10, max: 20 },
          light: { min: 100, max: 200 },
          dli: { min: 1, max: 2 },
          ec: { min: 0.1, max: 0.2 },
          ph: null,
          wateringIntervalDays: 9,
          fertilizeIntervalDays: null,
          repotIntervalMonths: null,
        },
        toxicToPets: false,
        careNotes: "Ours.",
      });
      expect(own.slug).toBe("ocimum-basilicum");
      const catalogBefore = await server.stores.db.select().from(species).where(eq(species.slug, "ocimum-basilicum"));
      expect(catalogBefore).toHaveLength(2);
      await syncSpeciesCatalog(server.stores.db);
      const catalogAfter = await server.stores.db.select().from(species).where(eq(species.slug, "ocimum-basilicum"));
      expect(catalogAfter.sort((x, y) => x.id.localeCompare(y.id))).toEqual(catalogBefore.sort((x, y) => x.id.localeCompare(y.id)));
      expect(await api.species.get.query({ siteId, speciesId: own.id })).toEqual(own);
      await api.species.delete.mutate({ siteId, speciesId: own.id });
    });

    test("plants override every metric's range, pH, EC and water level included; each bound says where it comes from", async () => {
      const [basil] = (await api.species.search.query({ query: "basil" })).items;
      const plant = await api.plants.create.mutate({ siteId, name: "Hydroponic basil", speciesId: basil!.id });
      expect(plant.thresholds.ph).toEqual({ unit: "pH", min: { value: basil!.care.ph!.min, source: "species" }, max: { value: basil!.care.ph!.max, source: "species" } });
      expect(plant.thresholds.ec).toEqual({ unit: "mS/cm", min: { value: basil!.care.ec.min, source: "species" }, max: { value: basil!.care.ec.max, source: "species" } });
      // A reservoir's water level is the equipment's: no species default.
      expect(plant.thresholds.water_level).toEqual({ unit: "%", min: { value: null, source: "none" }, max: { value: null, source: "none" } });

      const updated = await api.plants.update.mutate({ siteId, plantId: plant.id, thresholds: { ph: { min: 6.2 }, ec: { max: 2.2 }, water_level: { min: 20, max: 95 } } });
      expect(updated.thresholds.ph).toEqual({ unit: "pH", min: { value: 6.2, source: "plant" }, max: { value: basil!.care.ph!.max, source: "species" } });
      expect(updated.thresholds.ec.max).toEqual({ value: 2.2, source: "plant" });
      expect(updated.thresholds.water_level).toEqual({ unit: "%", min: { value: 20, source: "plant" }, max: { value: 95, source: "plant" } });

      // null goes back to the species' value (or to none).
      const reset = await api.plants.update.mutate({ siteId, plantId: plant.id, thresholds: { ph: { min: null }, water_level: { max: null } } });
      expect(reset.thresholds.ph.min).toEqual({ value: basil!.care.ph!.min, source: "species" });
      expect(reset.thresholds.water_level.max).toEqual({ value: null, source: "none" });

      // A bound that contradicts the one it is paired with is refused, naming it; nothing changes.
      expect(await failureOf(api.plants.update.mutate({ siteId, plantId: plant.id, thresholds: { ph: { min: 9 } } }))).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "thresholds.ph.min" }] });
      expect((await api.plants.get.query({ siteId, plantId: plant.id })).thresholds.ph.min).toEqual({ value: basil!.care.ph!.min, source: "species" });
    });
  });
}
