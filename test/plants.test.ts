import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { plants } from "../db/schema";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`species catalog and plants on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let n = 0;
    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: "plants@example.com", password: PASSWORD, displayName: "P", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    async function stranger() {
      const r = await server.client().auth.register.mutate({ email: `stranger${++n}@example.com`, password: PASSWORD, displayName: "S", client: "app" });
      return { api: server.client(r.token!), siteId: r.personalSiteId };
    }
    const speciesId = async (query: string) => (await api.species.search.query({ query, limit: 1 })).items[0]!.id;

    test("species search matches any name, ignoring case and accents", async () => {
      const jalapeno = await api.species.search.query({ query: "JALAPENO" });
      expect(jalapeno.items.map((s) => s.scientificName)).toEqual(["Capsicum annuum"]);
      const mache = await api.species.search.query({ query: "mâche" });
      expect(mache.items[0]!.commonNames).toContain("Mâche");
      const byScientific = await api.species.search.query({ query: "monstera deliciosa" });
      expect(byScientific.items[0]!.care.soilMoisture).toEqual({ min: 30, max: 60, unit: "%" });
      expect(byScientific.items[0]!.toxicToPets).toBe(true);
      expect((await api.species.search.query({ query: "no such plant anywhere" })).items).toEqual([]);
    });

    test("species results are ranked: an exact name first, then names starting with the query, then words", async () => {
      const aloe = await api.species.search.query({ query: "aloe vera" });
      expect(aloe.items[0]!.scientificName).toBe("Aloe vera");
      // "Parsley" is a name of Petroselinum; Coriandrum only has a name with a word starting "parsley".
      const parsley = await api.species.search.query({ query: "parsley" });
      expect(parsley.items.map((s) => s.scientificName)).toEqual(["Petroselinum crispum", "Coriandrum sativum"]);
      // A name starting with the query beats one that merely contains it (Dypsis before Chamaedorea, despite the alphabet).
      const areca = await api.species.search.query({ query: "areca" });
      expect(areca.items.map((s) => s.scientificName)).toEqual(["Dypsis lutescens", "Chamaedorea elegans"]);
    });

    test("species pages follow each other without repeats and end with a null cursor", async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await api.species.search.query({ query: "", limit: 25, cursor });
        seen.push(...page.items.map((s) => s.id));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      expect(pages).toBe(4);
      expect(new Set(seen).size).toBe(88);
      const bad = await failureOf(api.species.search.query({ query: "", cursor: "nonsense" }));
      expect(bad).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "cursor" }] });
    });

    test("a plant inherits its species' thresholds; an override shows as in force from the plant and clears back", async () => {
      const plant = await api.plants.create.mutate({
        siteId,
        name: "Big Monstera",
        speciesId: await speciesId("monstera deliciosa"),
        location: "living room",
        potSizeCm: 24,
        potMaterial: "terracotta",
        indoor: true,
        photoUrl: "https://example.com/monstera.jpg",
        notes: "north window",
        thresholds: { soil_moisture: { min: 35 } },
      });
      expect(plant.species?.scientificName).toBe("Monstera deliciosa");
      expect(plant.thresholds.soil_moisture).toEqual({ unit: "%", min: { value: 35, source: "plant" }, max: { value: 60, source: "species" } });
      expect(plant.thresholds.temperature.min).toEqual({ value: 18, source: "species" });
      expect(plant.watering).toMatchObject({ lastWateredAt: null, intervalDays: 7, intervalSource: "species", nextDueAt: null });
      const cleared = await api.plants.update.mutate({ siteId, plantId: plant.id, thresholds: { soil_moisture: { min: null }, humidity: { max: 70 } }, wateringIntervalDays: 5 });
      expect(cleared.thresholds.soil_moisture.min).toEqual({ value: 30, source: "species" });
      expect(cleared.thresholds.humidity.max).toEqual({ value: 70, source: "plant" });
      expect(cleared.watering).toMatchObject({ intervalDays: 5, intervalSource: "plant" });
      expect(cleared.location).toBe("living room");
    });

    test("a plant without species has no thresholds until it is given some", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Mystery cutting" });
      expect(plant.species).toBeNull();
      expect(plant.thresholds.light).toEqual({ unit: "lx", min: { value: null, source: "none" }, max: { value: null, source: "none" } });
      expect(plant.indoor).toBe(true);
    });

    test("invalid plant input names the field and writes nothing", async () => {
      const [before] = await server.stores.db.select({ n: count() }).from(plants);
      const cases: [unknown, string][] = [
        [{ name: "" }, "name"],
        [{ name: "x", potSizeCm: -3 }, "potSizeCm"],
        [{ name: "x", photoUrl: "javascript:alert(1)" }, "photoUrl"],
        [{ name: "x", thresholds: { soil_moisture: { min: 50, max: 10 } } }, "thresholds.soil_moisture.max"],
        [{ name: "x", thresholds: { wind: { min: 1 } } }, "thresholds"],
      ];
      for (const [input, path] of cases) {
        const failure = await failureOf(api.plants.create.mutate({ siteId, ...(input as { name: string }) }));
        expect(failure.code).toBe("BAD_REQUEST");
        expect(failure.issues.map((i) => i.path)).toContain(path);
      }
      // An override that contradicts the species' other bound, and a species that does not exist.
      const monstera = await speciesId("monstera deliciosa");
      const contradicting = await failureOf(api.plants.create.mutate({ siteId, name: "x", speciesId: monstera, thresholds: { soil_moisture: { min: 90 } } }));
      expect(contradicting).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "thresholds.soil_moisture.min" }] });
      const unknownSpecies = await failureOf(api.plants.create.mutate({ siteId, name: "x", speciesId: crypto.randomUUID() }));
      expect(unknownSpecies).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "speciesId" }] });
      const [after] = await server.stores.db.select({ n: count() }).from(plants);
      expect(after!.n).toBe(before!.n);
    });

    test("archiving hides a plant from the list and blocks new assignments; restoring brings it back", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Old basil", speciesId: await speciesId("basil") });
      const archived = await api.plants.archive.mutate({ siteId, plantId: plant.id });
      expect(archived.archivedAt).toBeInstanceOf(Date);
      expect((await api.plants.list.query({ siteId })).items.map((p) => p.id)).not.toContain(plant.id);
      expect((await api.plants.list.query({ siteId, archived: true })).items.map((p) => p.id)).toEqual([plant.id]);
      const task = await failureOf(api.tasks.create.mutate({ siteId, plantId: plant.id, kind: "water", startsAt: new Date() }));
      expect(task).toMatchObject({ code: "CONFLICT", issues: [{ path: "plantId" }] });
      const restored = await api.plants.restore.mutate({ siteId, plantId: plant.id });
      expect(restored.archivedAt).toBeNull();
      expect((await api.plants.list.query({ siteId })).items.map((p) => p.id)).toContain(plant.id);
    });

    test("plant lists are cursor-paginated in creation order", async () => {
      const other = await stranger();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await other.api.plants.create.mutate({ siteId: other.siteId, name: `P${i}` })).id);
      const first = await other.api.plants.list.query({ siteId: other.siteId, limit: 2 });
      const second = await other.api.plants.list.query({ siteId: other.siteId, limit: 2, cursor: first.nextCursor! });
      const third = await other.api.plants.list.query({ siteId: other.siteId, limit: 2, cursor: second.nextCursor! });
      expect([...first.items, ...second.items, ...third.items].map((p) => p.id)).toEqual(ids);
      expect(third.nextCursor).toBeNull();
    });

    test("another site's plant is not found, whoever asks and however", async () => {
      const plant = await api.plants.create.mutate({ siteId, name: "Private fern" });
      const other = await stranger();
      // Through the stranger's own site: the id does not exist there.
      // One call at a time: a rejection nobody awaits yet would fail the test on its own.
      for (const call of [
        () => other.api.plants.get.query({ siteId: other.siteId, plantId: plant.id }),
        () => other.api.plants.update.mutate({ siteId: other.siteId, plantId: plant.id, name: "mine now" }),
        () => other.api.plants.archive.mutate({ siteId: other.siteId, plantId: plant.id }),
      ]) {
        expect(await failureOf(call())).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId" }] });
      }
      // Through the owner's site: not a member.
      expect(await failureOf(other.api.plants.get.query({ siteId, plantId: plant.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "siteId" }] });
      const [row] = await server.stores.db.select().from(plants).where(eq(plants.id, plant.id));
      expect(row!.name).toBe("Private fern");
    });
  });
}
