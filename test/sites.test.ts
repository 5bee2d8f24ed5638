import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/server";
import { failureOf, outcomeOf } from "./support/trpc";
import { postgresEngines } from "./support/stores";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`sites and members on ${engine}`, () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer(engine);
    });
    afterAll(() => server.close());

    async function account(email: string) {
      const r = await server.client().auth.register.mutate({ email, password: PASSWORD, displayName: email.split("@")[0]!, client: "app" });
      return { ...r, api: server.client(r.token!) };
    }

    test("an owner creates a site, invites by email with a role, and members see it with their role", async () => {
      const owner = await account("owner1@example.com");
      const friend = await account("friend1@example.com");
      const site = await owner.api.sites.create.mutate({ name: "Greenhouse", timezone: "Europe/Berlin" });
      expect(site.timezone).toBe("Europe/Berlin");
      await owner.api.sites.invite.mutate({ siteId: site.id, email: "FRIEND1@example.com", role: "editor" });
      const seen = await friend.api.sites.get.query({ siteId: site.id });
      expect(seen).toMatchObject({ name: "Greenhouse", role: "editor" });
      const members = await friend.api.sites.members.query({ siteId: site.id });
      expect(members.map((m) => [m.email, m.role])).toEqual([
        ["owner1@example.com", "owner"],
        ["friend1@example.com", "editor"],
      ]);
      const again = await failureOf(owner.api.sites.invite.mutate({ siteId: site.id, email: "friend1@example.com", role: "viewer" }));
      expect(again.code).toBe("CONFLICT");
      const nobody = await failureOf(owner.api.sites.invite.mutate({ siteId: site.id, email: "ghost@example.com", role: "viewer" }));
      expect(nobody).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "email", message: "no account with this email" }] });
    });

    test("a site always keeps one owner: the last owner can be neither demoted, removed, nor leave", async () => {
      const owner = await account("owner2@example.com");
      const other = await account("other2@example.com");
      const siteId = owner.personalSiteId;
      expect((await failureOf(owner.api.sites.changeRole.mutate({ siteId, userId: owner.user.id, role: "editor" }))).code).toBe("CONFLICT");
      expect((await failureOf(owner.api.sites.leave.mutate({ siteId }))).code).toBe("CONFLICT");
      expect((await failureOf(owner.api.sites.removeMember.mutate({ siteId, userId: owner.user.id }))).code).toBe("CONFLICT");
      // With a second owner, the first may step down and leave.
      await owner.api.sites.invite.mutate({ siteId, email: "other2@example.com", role: "owner" });
      await owner.api.sites.changeRole.mutate({ siteId, userId: owner.user.id, role: "viewer" });
      await owner.api.sites.leave.mutate({ siteId });
      expect(await outcomeOf(owner.api.sites.get.query({ siteId }))).toBe("NOT_FOUND");
      expect((await other.api.sites.members.query({ siteId })).map((m) => m.role)).toEqual(["owner"]);
    });

    test("an owner removes a member, who loses access at once", async () => {
      const owner = await account("owner3@example.com");
      const viewer = await account("viewer3@example.com");
      const siteId = owner.personalSiteId;
      await owner.api.sites.invite.mutate({ siteId, email: "viewer3@example.com", role: "viewer" });
      expect(await outcomeOf(viewer.api.sites.get.query({ siteId }))).toBe("OK");
      await owner.api.sites.removeMember.mutate({ siteId, userId: viewer.user.id });
      expect(await outcomeOf(viewer.api.sites.get.query({ siteId }))).toBe("NOT_FOUND");
    });

    test("site settings are validated: an unknown time zone names the field", async () => {
      const owner = await account("owner4@example.com");
      const failure = await failureOf(owner.api.sites.update.mutate({ siteId: owner.personalSiteId, timezone: "Mars/Olympus" }));
      expect(failure.code).toBe("BAD_REQUEST");
      expect(failure.issues).toEqual([{ path: "timezone", message: "must be an IANA time zone such as Europe/Berlin" }]);
      const renamed = await owner.api.sites.update.mutate({ siteId: owner.personalSiteId, name: "Balcony", timezone: "America/New_York" });
      expect(renamed).toMatchObject({ name: "Balcony", timezone: "America/New_York" });
    });
  });
}
