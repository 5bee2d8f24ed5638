import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count } from "drizzle-orm";
import { sessions, users } from "../db/schema";
import { SESSION_COOKIE } from "../server/accounts/cookies";
import { FREE_FAILURES } from "../server/accounts/throttle";
import { DAY_MS, testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postMutation, getQuery, failureOf, outcomeOf } from "./support/trpc";
import { postgresEngines } from "./support/stores";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`accounts and sessions on ${engine}`, () => {
    let server: TestServer;
    const clock = testClock();
    beforeAll(async () => {
      // The test plays the TLS-terminating proxy (X-Forwarded-Proto) for the Secure cookie.
      server = await startTestServer(engine, { now: clock.now, trustedProxies: ["127.0.0.1"] });
    });
    afterAll(() => server.close());

    const userCount = async () => Number((await server.stores.db.select({ n: count() }).from(users))[0]!.n);
    const register = (email: string, extra: Partial<{ displayName: string; password: string }> = {}) =>
      server.client().auth.register.mutate({ email, password: PASSWORD, displayName: "Ada", client: "app", ...extra });

    test("registering normalizes the email, opens a session and creates a personal site owned by the user", async () => {
      const account = await register("  Ada.Lovelace@Example.COM ");
      expect(account.user.email).toBe("ada.lovelace@example.com");
      expect(account.token).toMatch(/^[a-z2-7]{32}$/);
      const api = server.client(account.token!);
      expect((await api.auth.me.query()).user.email).toBe("ada.lovelace@example.com");
      const sites = await api.sites.list.query();
      expect(sites).toEqual([expect.objectContaining({ id: account.personalSiteId, role: "owner" })]);
      // Only the hash of the token is stored: its SHA-256 in hex, what sessions of earlier versions hold too.
      const stored = await server.stores.db.select({ id: sessions.id }).from(sessions);
      expect(stored.some((s) => s.id === account.token)).toBe(false);
      expect(stored.map((s) => s.id)).toContain(new Bun.CryptoHasher("sha256").update(account.token!).digest("hex"));
    });

    test("an email registered twice, in any case, is a conflict on the email field and writes nothing", async () => {
      await register("grace@example.com");
      const before = await userCount();
      const failure = await failureOf(register("GRACE@example.com"));
      expect(failure.code).toBe("CONFLICT");
      expect(failure.issues).toEqual([{ path: "email", message: "an account with this email already exists" }]);
      expect(await userCount()).toBe(before);
    });

    test("weak or malformed input is refused with the field and the reason, and writes nothing", async () => {
      const before = await userCount();
      const short = await failureOf(register("short@example.com", { password: "abc" }));
      expect(short.code).toBe("BAD_REQUEST");
      expect(short.issues).toEqual([{ path: "password", message: "must be at least 10 characters" }]);
      const email = await failureOf(register("not-an-email"));
      expect(email.issues.map((i) => i.path)).toEqual(["email"]);
      expect(await userCount()).toBe(before);
    });

    test("unknown email and wrong password fail alike, with similar timing", async () => {
      await register("timing@example.com");
      const api = server.client();
      const time = async (email: string) => {
        const started = performance.now();
        const failure = await failureOf(api.auth.login.mutate({ email, password: "wrong password!", client: "app" }));
        return { failure, ms: performance.now() - started };
      };
      const wrong = await time("timing@example.com");
      const unknown = await time("nobody@example.com");
      expect(wrong.failure).toEqual(unknown.failure);
      expect(wrong.failure.code).toBe("UNAUTHORIZED");
      // Both run a full argon2id verification: neither is several times faster than the other.
      expect(Math.max(wrong.ms, unknown.ms) / Math.min(wrong.ms, unknown.ms)).toBeLessThan(3);
    });

    test("a web login sets an HttpOnly SameSite=Lax cookie and returns no token; Secure behind HTTPS", async () => {
      await register("web@example.com");
      const plain = await postMutation(server.url, "auth.login", { email: "web@example.com", password: PASSWORD });
      expect(plain.status).toBe(200);
      const cookie = plain.headers.get("set-cookie")!;
      expect(cookie).toStartWith(`${SESSION_COOKIE}=`);
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Lax");
      expect(cookie).toContain("Path=/");
      expect(cookie).not.toContain("Secure");
      expect(((await plain.json()) as { result: { data: { json: { token: unknown } } } }).result.data.json.token).toBeNull();
      const tls = await postMutation(server.url, "auth.login", { email: "web@example.com", password: PASSWORD }, { "x-forwarded-proto": "https" });
      expect(tls.headers.get("set-cookie")).toContain("Secure");
    });

    test("cookie-authenticated changes need our own Origin; queries and bearer calls do not", async () => {
      await register("csrf@example.com");
      const login = await postMutation(server.url, "auth.login", { email: "csrf@example.com", password: PASSWORD });
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const host = new URL(server.url).host;
      expect((await getQuery(server.url, "auth.me", { cookie })).status).toBe(200);
      const noOrigin = await postMutation(server.url, "sites.create", { name: "Attic" }, { cookie });
      expect(noOrigin.status).toBe(403);
      const foreign = await postMutation(server.url, "sites.create", { name: "Attic" }, { cookie, origin: "https://evil.example" });
      expect(foreign.status).toBe(403);
      const own = await postMutation(server.url, "sites.create", { name: "Attic" }, { cookie, origin: `http://${host}` });
      expect(own.status).toBe(200);
      // Login CSRF: a foreign page cannot sign a browser into an attacker's account.
      const forged = await postMutation(server.url, "auth.login", { email: "csrf@example.com", password: PASSWORD }, { origin: "https://evil.example" });
      expect(forged.status).toBe(403);
    });

    test("logout ends the session at once; logout everywhere ends them all", async () => {
      const account = await register("logout@example.com");
      const second = await server.client().auth.login.mutate({ email: "logout@example.com", password: PASSWORD, client: "app" });
      await server.client(account.token!).auth.logout.mutate();
      expect(await outcomeOf(server.client(account.token!).auth.me.query())).toBe("UNAUTHORIZED");
      expect(await outcomeOf(server.client(second.token!).auth.me.query())).toBe("OK");
      const third = await server.client().auth.login.mutate({ email: "logout@example.com", password: PASSWORD, client: "app" });
      expect(await server.client(third.token!).auth.logoutEverywhere.mutate()).toEqual({ sessionsEnded: 2 });
      expect(await outcomeOf(server.client(second.token!).auth.me.query())).toBe("UNAUTHORIZED");
      expect(await outcomeOf(server.client(third.token!).auth.me.query())).toBe("UNAUTHORIZED");
    });

    test("changing the password keeps this session, ends the others, and retires the old password", async () => {
      const account = await register("change@example.com");
      const other = await server.client().auth.login.mutate({ email: "change@example.com", password: PASSWORD, client: "app" });
      const api = server.client(account.token!);
      const wrong = await failureOf(api.auth.changePassword.mutate({ currentPassword: "not it at all", newPassword: "a brand new secret" }));
      expect(wrong.issues[0]!.path).toBe("currentPassword");
      expect(await api.auth.changePassword.mutate({ currentPassword: PASSWORD, newPassword: "a brand new secret" })).toEqual({ otherSessionsEnded: 1 });
      expect(await outcomeOf(api.auth.me.query())).toBe("OK");
      expect(await outcomeOf(server.client(other.token!).auth.me.query())).toBe("UNAUTHORIZED");
      expect(await outcomeOf(server.client().auth.login.mutate({ email: "change@example.com", password: PASSWORD, client: "app" }))).toBe("UNAUTHORIZED");
      expect(await outcomeOf(server.client().auth.login.mutate({ email: "change@example.com", password: "a brand new secret", client: "app" }))).toBe("OK");
    });

    test("sessions expire after 30 days idle and slide forward when used", async () => {
      const account = await register("expiry@example.com");
      const api = server.client(account.token!);
      const first = (await api.auth.me.query()).sessionExpiresAt;
      // Used after 20 days (less than half the lifetime left): renewed to 30 days from then.
      clock.advance(20 * DAY_MS);
      const renewed = (await api.auth.me.query()).sessionExpiresAt;
      expect(renewed.getTime() - first.getTime()).toBe(20 * DAY_MS);
      // Idle for 29 days: still valid. Then past the expiry: gone, and the row is deleted.
      clock.advance(29 * DAY_MS);
      expect(await outcomeOf(api.auth.me.query())).toBe("OK");
      clock.advance(31 * DAY_MS);
      expect(await outcomeOf(api.auth.me.query())).toBe("UNAUTHORIZED");
    });

    test("repeated failed logins are throttled with 429 and Retry-After, then allowed again", async () => {
      await register("throttle@example.com");
      const attempt = (password: string) => postMutation(server.url, "auth.login", { email: "throttle@example.com", password, client: "app" });
      for (let i = 0; i < FREE_FAILURES; i++) expect((await attempt("wrong guess " + i)).status).toBe(401);
      const blocked = await attempt(PASSWORD);
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
      // Even the right password waits: the block is on the account, not on the guess.
      clock.advance(Number(blocked.headers.get("retry-after")) * 1000);
      expect((await attempt(PASSWORD)).status).toBe(200);
      // Success clears the account's failures.
      expect((await attempt("wrong again")).status).toBe(401);
    });

    test("guessing across many accounts from one address is throttled per address", async () => {
      clock.advance(2 * 60 * 60 * 1000); // earlier failures are forgotten
      let status = 0;
      for (let i = 0; i < 25 && status !== 429; i++) {
        status = (await postMutation(server.url, "auth.login", { email: `victim${i}@example.com`, password: "guess", client: "app" })).status;
      }
      expect(status).toBe(429);
      // A different account from the same address is blocked too.
      const other = await postMutation(server.url, "auth.login", { email: "someone.else@example.com", password: "guess", client: "app" });
      expect(other.status).toBe(429);
    });
  });
}
