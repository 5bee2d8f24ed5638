import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SessionCache, sessionCacheOf } from "../server/accounts/session-cache";
import { startTestServer, type PeerServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { outcomeOf } from "./support/trpc";

/**
 * Sessions are cached per server (server/accounts/session-cache.ts), site roles are site facts in
 * the site directory (server/sites/directory.ts). These tests check what caching must never
 * change: access taken away on one server is refused by every other server long before any
 * cache's own expiry, and sliding renewal still happens.
 */

const PASSWORD = "correct horse battery";
/** Well under SessionCache's TTL: a refusal this fast came from the announcement, not from expiry. */
const PROMPTLY_MS = 3_000;

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() - started > SessionCache.TTL_MS * 2) return { value, ms: Date.now() - started };
    await Bun.sleep(25);
  }
}

for (const engine of postgresEngines) {
  describe(`cached sessions and roles across servers on ${engine}`, () => {
    let server: TestServer;
    let peer: PeerServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
      peer = await server.peer();
    });
    afterAll(async () => {
      await peer.close();
      await server.close();
    });

    let n = 0;
    async function account() {
      const email = `cache${++n}@example.com`;
      const r = await server.client().auth.register.mutate({ email, password: PASSWORD, displayName: `Cache ${n}`, client: "app" });
      return { ...r, email, here: server.client(r.token!), there: peer.client(r.token!) };
    }

    test("repeated calls reuse the cached session and role instead of reading Postgres each time", async () => {
      const a = await account();
      const cache = sessionCacheOf(server.stores);
      await a.here.sites.get.query({ siteId: a.personalSiteId });
      const before = { sessions: cache.lookups, sites: server.directory.loads };
      for (let i = 0; i < 5; i++) await a.here.sites.get.query({ siteId: a.personalSiteId });
      expect({ sessions: cache.lookups, sites: server.directory.loads }).toEqual(before);
    });

    test("signing out on one server is refused at once on another that had cached the session", async () => {
      const a = await account();
      expect(await outcomeOf(a.there.auth.me.query())).toBe("OK"); // cached on the peer now
      await a.here.auth.logout.mutate();
      const { value, ms } = await eventually(() => outcomeOf(a.there.auth.me.query()), (o) => o === "UNAUTHORIZED");
      expect(value).toBe("UNAUTHORIZED");
      expect(ms).toBeLessThan(PROMPTLY_MS);
    });

    test("signing out everywhere and changing the password end other sessions on every server", async () => {
      const a = await account();
      const second = await peer.client().auth.login.mutate({ email: a.email, password: PASSWORD, client: "app" });
      const secondThere = peer.client(second.token!);
      expect(await outcomeOf(secondThere.auth.me.query())).toBe("OK");
      await a.here.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: `${PASSWORD} 2` });
      const ended = await eventually(() => outcomeOf(secondThere.auth.me.query()), (o) => o === "UNAUTHORIZED");
      expect(ended.value).toBe("UNAUTHORIZED");
      expect(ended.ms).toBeLessThan(PROMPTLY_MS);
      // The session that changed the password stays, everywhere.
      expect(await outcomeOf(a.there.auth.me.query())).toBe("OK");

      await a.here.auth.logoutEverywhere.mutate();
      const all = await eventually(() => outcomeOf(a.there.auth.me.query()), (o) => o === "UNAUTHORIZED");
      expect(all.value).toBe("UNAUTHORIZED");
      expect(all.ms).toBeLessThan(PROMPTLY_MS);
    });

    test("a removed member, a demoted editor and an invited user are seen at once on another server", async () => {
      const owner = await account();
      const member = await account();
      const siteId = owner.personalSiteId;
      // The peer first remembers that this user is no member...
      expect(await outcomeOf(member.there.sites.get.query({ siteId }))).toBe("NOT_FOUND");
      await owner.here.sites.invite.mutate({ siteId, email: member.email, role: "editor" });
      const invited = await eventually(() => outcomeOf(member.there.sites.get.query({ siteId })), (o) => o === "OK");
      expect(invited.value).toBe("OK");
      expect(invited.ms).toBeLessThan(PROMPTLY_MS);

      // ...then that they are an editor, who may create plants.
      const plant = (name: string) => member.there.plants.create.mutate({ siteId, name });
      expect(await outcomeOf(plant("Basil"))).toBe("OK");
      await owner.here.sites.changeRole.mutate({ siteId, userId: member.user.id, role: "viewer" });
      const demoted = await eventually(() => outcomeOf(plant("Mint")), (o) => o === "FORBIDDEN");
      expect(demoted.value).toBe("FORBIDDEN");
      expect(demoted.ms).toBeLessThan(PROMPTLY_MS);

      expect(await outcomeOf(member.there.sites.get.query({ siteId }))).toBe("OK");
      await owner.here.sites.removeMember.mutate({ siteId, userId: member.user.id });
      const removed = await eventually(() => outcomeOf(member.there.sites.get.query({ siteId })), (o) => o === "NOT_FOUND");
      expect(removed.value).toBe("NOT_FOUND");
      expect(removed.ms).toBeLessThan(PROMPTLY_MS);
    });

    test("a deleted site is gone at once on another server", async () => {
      const owner = await account();
      const site = await owner.here.sites.create.mutate({ name: "Short-lived", timezone: "UTC" });
      expect(await outcomeOf(owner.there.sites.get.query({ siteId: site.id }))).toBe("OK");
      await owner.here.sites.delete.mutate({ siteId: site.id });
      const gone = await eventually(() => outcomeOf(owner.there.sites.get.query({ siteId: site.id })), (o) => o === "NOT_FOUND");
      expect(gone.value).toBe("NOT_FOUND");
      expect(gone.ms).toBeLessThan(PROMPTLY_MS);
    });
  });
}
