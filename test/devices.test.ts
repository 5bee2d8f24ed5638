import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`device credentials on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: "devices@example.com", password: PASSWORD, displayName: "D", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    const whoami = (token: string, url = server.url) => fetch(`${url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });

    test("provisioning returns a prefixed token once; the list never shows it again", async () => {
      const { device, token } = await api.devices.provision.mutate({ siteId, name: "balcony-esp32" });
      expect(token).toMatch(/^vdt_[A-Za-z0-9_-]{43}$/);
      expect(device.tokenHint).toBe(`${token.slice(0, 8)}…`);
      const listed = JSON.stringify(await api.devices.list.query({ siteId }));
      expect(listed).not.toContain(token);
      expect(listed).not.toContain(token.slice(8));
      const me = await whoami(token);
      expect(me.status).toBe(200);
      expect(await me.json()).toEqual({ deviceId: device.id, siteId, name: "balcony-esp32" });
    });

    test("an unknown or malformed token is 401 with WWW-Authenticate", async () => {
      for (const token of ["vdt_" + "x".repeat(43), "garbage", ""]) {
        const response = await whoami(token);
        expect(response.status).toBe(401);
        expect(response.headers.get("www-authenticate")).toContain("Bearer");
      }
    });

    test("the site directory answers repeated requests without asking Postgres", async () => {
      const { token } = await api.devices.provision.mutate({ siteId, name: "cached" });
      // The first request may read the site again (provisioning changed it); the next ones read nothing.
      expect((await whoami(token)).status).toBe(200);
      const before = { loads: server.directory.loads, tokens: server.directory.tokenLookups };
      for (let i = 0; i < 20; i++) expect((await whoami(token)).status).toBe(200);
      expect({ loads: server.directory.loads, tokens: server.directory.tokenLookups }).toEqual(before);
    });

    test("rotation stops the old token at once, even when it was cached, and the new one works", async () => {
      const { device, token: old } = await api.devices.provision.mutate({ siteId, name: "rotating" });
      expect((await whoami(old)).status).toBe(200); // now cached
      const { token: fresh } = await api.devices.rotateToken.mutate({ siteId, deviceId: device.id });
      expect(fresh).not.toBe(old);
      expect((await whoami(old)).status).toBe(401);
      expect((await whoami(fresh)).status).toBe(200);
    });

    test("revocation answers 403 at once; rotating afterwards enables the device with a new token", async () => {
      const { device, token } = await api.devices.provision.mutate({ siteId, name: "revoked" });
      expect((await whoami(token)).status).toBe(200);
      const revoked = await api.devices.revoke.mutate({ siteId, deviceId: device.id });
      expect(revoked.revokedAt).toBeInstanceOf(Date);
      expect((await whoami(token)).status).toBe(403);
      const { token: fresh } = await api.devices.rotateToken.mutate({ siteId, deviceId: device.id });
      expect((await whoami(fresh)).status).toBe(200);
      expect((await whoami(token)).status).toBe(401);
    });

    test("another server refuses a revoked token as soon as the change event arrives, well under a second", async () => {
      const peer = await server.peer();
      try {
        const { device, token } = await api.devices.provision.mutate({ siteId, name: "two-servers" });
        expect((await whoami(token, peer.url)).status).toBe(200); // known to the peer now
        await api.devices.revoke.mutate({ siteId, deviceId: device.id });
        const started = Date.now();
        let status = 200;
        while (status === 200 && Date.now() - started < 5_000) {
          status = (await whoami(token, peer.url)).status;
          if (status === 200) await Bun.sleep(10);
        }
        expect(status).toBe(403);
        expect(Date.now() - started).toBeLessThan(1_000);
      } finally {
        await peer.close();
      }
    });
  });
}
