import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli, spawnServer, waitForStatus } from "./support/process";

/** The admin CLI as an operator uses it: with the server running (forwarded) and without. */

describe("admin CLI for accounts and devices", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "verdant-cli-"));
  const env = { DATA_DIR: dataDir };

  test("while the server runs: create a user and devices, rotate and revoke, and the server sees it at once", async () => {
    const server = await spawnServer(env);
    try {
      await waitForStatus(`${server.url}/readyz`, 200);
      // Two sites now (demo + the user's): device:create still defaults to the demo site.
      const user = await runCli(["user:create", "--email", "Op@Example.com", "--password", "operator password"], env);
      expect(user.code).toBe(0);
      expect(user.json()).toMatchObject({ email: "op@example.com", displayName: "op" });

      const created = await runCli(["device:create", "--name", "balcony-esp32"], env);
      expect(created.code).toBe(0);
      const device = created.json();
      expect(device.token).toMatch(/^vdt_/);
      expect(device.siteName).toBe("Demo balcony");
      const whoami = (token: string) => fetch(`${server.url}/v1/whoami`, { headers: { authorization: `Bearer ${token}` } });
      expect((await whoami(device.token)).status).toBe(200);

      const inUserSite = await runCli(["device:create", "--name", "pump", "--site", user.json().personalSiteId], env);
      expect(inUserSite.json().siteId).toBe(user.json().personalSiteId);

      const rotated = await runCli(["device:rotate", "--id", device.id], env);
      expect(rotated.code).toBe(0);
      expect((await whoami(device.token)).status).toBe(401);
      expect((await whoami(rotated.json().token)).status).toBe(200);

      const revoked = await runCli(["device:revoke", "--id", device.id], env);
      expect(revoked.code).toBe(0);
      expect((await whoami(rotated.json().token)).status).toBe(403);

      const listed = await runCli(["device:list"], env);
      expect(listed.json().devices.map((d: { name: string }) => d.name)).toEqual(["Demo sensor hub", "balcony-esp32"]);
      expect(listed.stdout).not.toContain(rotated.json().token);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
    }
  });

  test("without a server: the CLI opens the stores, and bad input names the option", async () => {
    const weak = await runCli(["user:create", "--email", "x@example.com", "--password", "short"], env);
    expect(weak.code).toBe(1);
    expect(JSON.parse(weak.stderr).error).toContain("--password: must be at least 10 characters");
    const unknownSite = await runCli(["device:create", "--name", "n", "--site", "Nowhere"], env);
    expect(unknownSite.code).toBe(1);
    expect(JSON.parse(unknownSite.stderr).error).toContain('no site with id or name "Nowhere"');
    const created = await runCli(["device:create", "--name", "offline-created", "--site", "Demo balcony"], env);
    expect(created.code).toBe(0);
    expect(created.json().token).toMatch(/^vdt_/);
  });

  test("--password-stdin keeps the password off the command line", async () => {
    const proc = Bun.spawn([process.execPath, "server/cli.ts", "user:create", "--email", "stdin@example.com", "--password-stdin"], {
      cwd: path.resolve(import.meta.dir, ".."),
      env: { ...process.env, DATA_DIR: dataDir },
      stdin: new TextEncoder().encode("a password from stdin\n"),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(0);
    expect(JSON.parse(await new Response(proc.stdout).text()).email).toBe("stdin@example.com");
  });
});
