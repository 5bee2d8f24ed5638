import { afterEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { ensureDemoSite } from "../db/seed";
import { siteMembers } from "../db/schema";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * The demo site is created at start-up with no member; the first account of the installation
 * becomes its owner (so a newcomer sees the demo plants), and nobody after that.
 */

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`the demo site's first owner on ${engine}`, () => {
    let server: TestServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    const register = (s: TestServer, email: string) =>
      s.client().auth.register.mutate({ email, password: PASSWORD, displayName: email.split("@")[0]!, client: "app" });
    const membersOf = async (s: TestServer, siteId: string) =>
      s.stores.db.select({ userId: siteMembers.userId, role: siteMembers.role }).from(siteMembers).where(eq(siteMembers.siteId, siteId));

    test("the first account owns the demo site and its own site; the second only its own", async () => {
      server = await startTestServer(engine);
      const demo = await ensureDemoSite(server.stores.db);
      expect(await server.client().auth.installation.query()).toEqual({ firstRun: true, demoSite: true });

      const first = await register(server, "first@example.com");
      const firstSites = await server.client(first.token!).sites.list.query();
      expect(firstSites.map((s) => [s.id, s.role]).sort()).toEqual([[demo.id, "owner"], [first.personalSiteId, "owner"]].sort());
      expect(await server.client().auth.installation.query()).toEqual({ firstRun: false, demoSite: true });
      // The demo plants are theirs to see.
      const plants = await server.client(first.token!).plants.list.query({ siteId: demo.id });
      expect(plants.items.map((p) => p.name)).toContain("Monstera");

      const second = await register(server, "second@example.com");
      const secondSites = await server.client(second.token!).sites.list.query();
      expect(secondSites.map((s) => s.id)).toEqual([second.personalSiteId]);
      expect(await membersOf(server, demo.id)).toEqual([{ userId: first.user.id, role: "owner" }]);
    });

    test("of two first registrations at the same moment exactly one owns the demo site", async () => {
      server = await startTestServer(engine);
      const demo = await ensureDemoSite(server.stores.db);
      const s = server;
      const [a, b] = await Promise.all([register(s, "a@example.com"), register(s, "b@example.com")]);
      const members = await membersOf(s, demo.id);
      expect(members).toHaveLength(1);
      expect([a.user.id, b.user.id]).toContain(members[0]!.userId);
    });

    test("when accounts existed before the demo site, a later registration is not the first and takes nothing", async () => {
      server = await startTestServer(engine);
      await register(server, "early@example.com");
      const demo = await ensureDemoSite(server.stores.db);
      const later = await register(server, "later@example.com");
      expect(await membersOf(server, demo.id)).toEqual([]);
      expect((await server.client(later.token!).sites.list.query()).map((s) => s.id)).toEqual([later.personalSiteId]);
      expect(await server.client().auth.installation.query()).toEqual({ firstRun: false, demoSite: true });
    });

    test("without a demo site the first account just gets its own site", async () => {
      server = await startTestServer(engine);
      expect(await server.client().auth.installation.query()).toEqual({ firstRun: true, demoSite: false });
      const first = await register(server, "solo@example.com");
      expect((await server.client(first.token!).sites.list.query()).map((s) => s.id)).toEqual([first.personalSiteId]);
    });
  });
}
