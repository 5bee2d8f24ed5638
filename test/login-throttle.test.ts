import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { eq, like } from "drizzle-orm";
import { loginThrottle, plants, sessions, users } from "../db/schema";
import { argon2Verifier, type PasswordVerifier } from "../server/accounts/passwords";
import { ACCOUNT_POLICY, addressKey, blockDurationMs, PAIR_POLICY, ADDRESS_POLICY } from "../server/accounts/throttle";
import { MAX_BATCH_CALLS } from "../shared/batching";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { postMutation } from "./support/trpc";

/**
 * Each password check is reserved in Postgres before it runs: parallel requests, batches and
 * retries cannot buy more checks than the throttle allows. Checks are counted by the real argon2id
 * verifier, wrapped and handed to the server as its password dependency.
 */

const PASSWORD = "correct horse battery";

/** The real verifier, counting how often it runs. */
function countingVerifier(): PasswordVerifier & { checks: number } {
  const verifier = {
    checks: 0,
    verify: (password: string, hash: string) => {
      verifier.checks += 1;
      return argon2Verifier.verify(password, hash);
    },
  };
  return verifier;
}

type BatchAnswer = { error?: { json: { message: string; data: { code: string } } }; result?: unknown }[];

/** One HTTP request carrying `inputs.length` calls of `path` (tRPC's batch form). */
function batch(url: string, path: string, inputs: unknown[], headers: Record<string, string> = {}) {
  const body = Object.fromEntries(inputs.map((input, i) => [String(i), { json: input }]));
  return fetch(`${url}/trpc/${inputs.map(() => path).join(",")}?batch=1`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

for (const engine of postgresEngines) {
  describe(`login throttling on ${engine}`, () => {
    let server: TestServer;
    const verifier = countingVerifier();
    const clock = testClock();
    beforeAll(async () => {
      // 127.0.0.1 plays a trusted reverse proxy, so tests can speak for several client addresses.
      server = await startTestServer(engine, { now: clock.now, passwords: verifier, trustedProxies: ["127.0.0.1"] });
    });
    afterAll(() => server.close());
    beforeEach(() => {
      clock.advance(2 * 60 * 60_000); // earlier failures are forgotten
      verifier.checks = 0;
    });

    const register = (email: string) => server.client().auth.register.mutate({ email, password: PASSWORD, displayName: "T", client: "app" });
    const login = (email: string, password: string, from: string) =>
      postMutation(server.url, "auth.login", { email, password, client: "app" }, { "x-forwarded-for": from });

    test("30 parallel wrong logins for one account from one address run at most 5 password checks", async () => {
      await register("parallel@example.com");
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login("parallel@example.com", `guess ${i}`, "198.51.100.1")));
      const statuses = answers.map((a) => a.status);
      expect(verifier.checks).toBeLessThanOrEqual(PAIR_POLICY.free);
      expect(statuses.filter((s) => s === 401)).toHaveLength(verifier.checks);
      expect(statuses.filter((s) => s === 429)).toHaveLength(30 - verifier.checks);
      const [pair] = await server.stores.db.select().from(loginThrottle).where(like(loginThrottle.key, "pair:198.51.100.1 %"));
      expect(pair!.failures).toBe(verifier.checks);
    });

    test("30 parallel wrong logins for 30 accounts from one address run at most 20 password checks", async () => {
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(`crowd${i}@example.com`, "guess", "198.51.100.2")));
      expect(verifier.checks).toBeLessThanOrEqual(ADDRESS_POLICY.free);
      expect(answers.filter((a) => a.status === 401)).toHaveLength(verifier.checks);
    });

    test("a batch holding a login is refused whole: no password is checked, no session opened", async () => {
      await register("batched@example.com");
      const sessionsBefore = (await server.stores.db.select().from(sessions)).length;
      const guesses = Array.from({ length: 30 }, (_, i) => ({ email: "batched@example.com", password: i === 29 ? PASSWORD : `guess ${i}`, client: "app" }));
      const answer = await batch(server.url, "auth.login", guesses);
      const results = (await answer.json()) as BatchAnswer;
      expect(results).toHaveLength(30);
      for (const r of results) {
        expect(r.error?.json.data.code).toBe("BAD_REQUEST");
        expect(r.error?.json.message).toContain("auth.login cannot be batched");
      }
      expect(verifier.checks).toBe(0);
      expect((await server.stores.db.select().from(sessions)).length).toBe(sessionsBefore);
      // Hidden behind a harmless call, or as register / changePassword: the same, and the harmless call does not run either.
      const owner = await register("batched-owner@example.com");
      const mixed = await fetch(`${server.url}/trpc/sites.create,auth.register?batch=1`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
        body: JSON.stringify({ 0: { json: { name: "Hidden" } }, 1: { json: { email: "sneaky@example.com", password: PASSWORD, displayName: "S", client: "app" } } }),
      });
      expect(((await mixed.json()) as BatchAnswer).map((r) => r.error?.json.data.code)).toEqual(["BAD_REQUEST", "BAD_REQUEST"]);
      expect((await server.client(owner.token!).sites.list.query()).map((s) => s.name)).not.toContain("Hidden");
      expect(await server.stores.db.select().from(users).where(eq(users.email, "sneaky@example.com"))).toEqual([]);
    });

    test(`a batch of more than ${MAX_BATCH_CALLS} calls is refused before any runs; ${MAX_BATCH_CALLS} run`, async () => {
      const owner = await register("batcher@example.com");
      const auth = { authorization: `Bearer ${owner.token}` };
      const siteId = owner.personalSiteId;
      const plantsOfSite = async () => (await server.stores.db.select().from(plants).where(eq(plants.siteId, siteId))).length;
      const tooMany = await batch(server.url, "plants.create", Array.from({ length: MAX_BATCH_CALLS + 1 }, (_, i) => ({ siteId, name: `p${i}` })), auth);
      expect(tooMany.status).toBe(400);
      expect(JSON.stringify(await tooMany.json())).toContain(`at most ${MAX_BATCH_CALLS} calls`);
      expect(await plantsOfSite()).toBe(0);
      const queries = await fetch(`${server.url}/trpc/${Array.from({ length: MAX_BATCH_CALLS + 1 }, () => "health").join(",")}?batch=1`);
      expect(queries.status).toBe(400);
      const most = await batch(server.url, "plants.create", Array.from({ length: MAX_BATCH_CALLS }, (_, i) => ({ siteId, name: `p${i}` })), auth);
      expect(most.status).toBe(200);
      expect(await plantsOfSite()).toBe(MAX_BATCH_CALLS);
    });

    test("the app client sends password procedures alone and splits big batches, so neither is refused", async () => {
      const owner = await register("client@example.com");
      const anonymous = server.client();
      // Same tick, both mutations: without the split they would share one (refused) batch.
      const [signedIn, site] = await Promise.all([
        anonymous.auth.login.mutate({ email: "client@example.com", password: PASSWORD, client: "app" }),
        server.client(owner.token!).sites.create.mutate({ name: "Shed" }),
      ]);
      expect(signedIn.user.email).toBe("client@example.com");
      expect(site.name).toBe("Shed");
      const many = await Promise.all(Array.from({ length: 2 * MAX_BATCH_CALLS + 5 }, () => anonymous.health.query()));
      expect(many.every((h) => h.ok)).toBe(true);
    });

    test("changing the password is throttled like a login: 30 parallel wrong current passwords run at most 5 checks", async () => {
      const owner = await register("changer@example.com");
      const api = server.client(owner.token!);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) => api.auth.changePassword.mutate({ currentPassword: `guess ${i}`, newPassword: "a brand new secret" })),
      );
      expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
      expect(verifier.checks).toBeLessThanOrEqual(PAIR_POLICY.free);
    });

    test("an account blocked from one address still lets its owner in from a clean address", async () => {
      await register("owner@example.com");
      for (let i = 0; i < PAIR_POLICY.free; i++) expect((await login("owner@example.com", `guess ${i}`, "203.0.113.66")).status).toBe(401);
      // The guessing address waits, even with the right password …
      expect((await login("owner@example.com", PASSWORD, "203.0.113.66")).status).toBe(429);
      // … the owner at home does not.
      expect((await login("owner@example.com", PASSWORD, "198.51.100.77")).status).toBe(200);
    });

    test("guessing spread over many addresses blocks the account briefly for addresses that failed, never for a clean one", async () => {
      await register("spread@example.com");
      for (let i = 0; i < ACCOUNT_POLICY.free; i++) expect((await login("spread@example.com", "guess", `192.0.2.${i + 1}`)).status).toBe(401);
      const dirty = await login("spread@example.com", PASSWORD, "192.0.2.1");
      expect(dirty.status).toBe(429);
      expect(Number(dirty.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(Number(dirty.headers.get("retry-after"))).toBeLessThanOrEqual(60);
      expect((await login("spread@example.com", PASSWORD, "198.51.100.200")).status).toBe(200);
      // However long the guessing goes on, the account-wide block stays short.
      expect(blockDurationMs(ACCOUNT_POLICY, 1_000)).toBe(60_000);
      expect(blockDurationMs(PAIR_POLICY, 1_000)).toBe(15 * 60_000);
    });

    test("a success gives the address its attempt back: logins of many people behind one address never block it", async () => {
      await register("shared-nat@example.com");
      for (let i = 0; i < ADDRESS_POLICY.free + 5; i++) expect((await login("shared-nat@example.com", PASSWORD, "198.51.100.50")).status).toBe(200);
      const [address] = await server.stores.db.select().from(loginThrottle).where(eq(loginThrottle.key, "ip:198.51.100.50"));
      expect(address?.failures ?? 0).toBe(0);
    });
  });
}

test("IPv6 clients are counted by their /64, IPv4-mapped addresses as IPv4", () => {
  expect(addressKey("2001:db8:1:2:aaaa::1")).toBe(addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  expect(addressKey("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
  expect(addressKey("2001:db8:1:3::1")).not.toBe(addressKey("2001:db8:1:2::1"));
  expect(addressKey("::ffff:198.51.100.1")).toBe("198.51.100.1");
  expect(addressKey(undefined)).toBe("unknown");
});
