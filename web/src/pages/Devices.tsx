import { useState, type FormEvent } from "react";
import { Badge, CopyBlock, Dialog, Empty, Field, FormError, Loading, QueryError, fieldError } from "../components/ui";
import { api, useApiMutation, type Outputs } from "../lib/api";
import { formatDuration, relativeTime } from "../lib/format";
import { Link } from "../lib/router";
import { sitePath, useSite } from "../lib/site";
import { useDevices } from "../lib/queries";
import { DeviceDetail } from "./devices/DeviceDetail";

type Device = Outputs["devices"]["list"][number];

/** As the server judges it (server/analytics/freshness.ts): one missed report is tolerated, ten are offline. */
export function deviceStatus(device: Device, now = Date.now()): "online" | "stale" | "offline" | "revoked" {
  if (device.revokedAt) return "revoked";
  if (!device.lastSeenAt) return "offline";
  const age = now - device.lastSeenAt.getTime();
  const interval = device.expectedReportIntervalSeconds * 1000;
  if (age <= 2 * interval) return "online";
  if (age <= 10 * interval) return "stale";
  return "offline";
}

export const STATUS_TONE = { online: "ok", stale: "warn", offline: "bad", revoked: "muted" } as const;

export function DevicesPage({ deviceId }: { deviceId?: string | undefined }) {
  const site = useSite();
  const devices = useDevices(site.id);
  const [provisioning, setProvisioning] = useState(false);
  if (deviceId) {
    const device = devices.data?.find((d) => d.id === deviceId);
    if (devices.isPending) return <Loading />;
    if (!device) return <QueryError error={new Error("device not found")} />;
    return <DeviceDetail device={device} />;
  }
  const now = Date.now();
  return (
    <>
      <div className="page-head">
        <h1>Devices</h1>
        {site.canEdit ? (
          <button type="button" className="primary" onClick={() => setProvisioning(true)}>
            Add device
          </button>
        ) : null}
      </div>
      {devices.error ? <QueryError error={devices.error} /> : null}
      {devices.data && devices.data.length === 0 ? <Empty>No devices yet. Add one to get a token for it: sensors appear as it reports.</Empty> : null}
      {devices.data && devices.data.length > 0 ? (
        <table className="table devices" data-testid="devices">
          <thead>
            <tr>
              <th>Device</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Battery</th>
              <th>Last seen</th>
              <th className="hide-narrow">Reports every</th>
            </tr>
          </thead>
          <tbody>
            {devices.data.map((d) => {
              const status = deviceStatus(d, now);
              return (
                <tr key={d.id} data-testid="device-row">
                  <td>
                    <Link to={sitePath(site.id, `devices/${d.id}`)}>{d.name}</Link>
                    {d.location ? <small className="muted"> · {d.location}</small> : null}
                  </td>
                  <td>{d.kind}</td>
                  <td>
                    <Badge tone={STATUS_TONE[status]}>{status}</Badge>
                  </td>
                  <td>{d.batteryPercent !== null ? `${Math.round(d.batteryPercent)} %` : "–"}</td>
                  <td title={d.lastSeenAt?.toLocaleString()}>{relativeTime(d.lastSeenAt, now)}</td>
                  <td className="hide-narrow">{formatDuration(d.expectedReportIntervalSeconds)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <Dialog open={provisioning} onClose={() => setProvisioning(false)} title="Add a device" wide>
        <ProvisionDevice onDone={() => setProvisioning(false)} />
      </Dialog>
    </>
  );
}

function ProvisionDevice({ onDone }: { onDone: () => void }) {
  const site = useSite();
  const [name, setName] = useState("");
  const provision = useApiMutation(() => api.devices.provision.mutate({ siteId: site.id, name }), { invalidate: [["devices"]] });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    provision.mutate();
  };
  if (provision.data) {
    return <TokenOnce device={provision.data.device} token={provision.data.token} onDone={onDone} />;
  }
  return (
    <form className="stack" onSubmit={submit} aria-label="Add a device">
      <Field label="Name" error={fieldError(provision.error, "name")} hint="e.g. balcony-esp32: what you will recognise in this list">
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <FormError error={provision.error} fields={["name"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={provision.isPending}>
          Create token
        </button>
      </div>
    </form>
  );
}

/** The device token, shown this once (the server keeps only its hash), with ready-to-paste snippets. */
export function TokenOnce({ device, token, onDone }: { device: { id: string; name: string }; token: string; onDone: () => void }) {
  const site = useSite();
  const origin = window.location.origin;
  const curl = [
    `curl -X POST ${origin}/v1/ingest \\`,
    `  -H "Authorization: Bearer ${token}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"batchId":"first-1","readings":[{"sensor":"soil1","value":41.7},{"sensor":"temp","value":21.5}]}'`,
  ].join("\n");
  const sdk = [
    `import { DeviceClient } from "./client/device";`,
    ``,
    `const device = new DeviceClient({`,
    `  url: "${origin}",`,
    `  token: "${token}",`,
    `  bufferFile: "/var/lib/verdant/buffer.json", // unsent readings survive a restart`,
    `});`,
    `device.start();                 // sends every 5 s`,
    `device.record("soil1", 41.7);   // a sensor key: new keys become sensors`,
  ].join("\n");
  return (
    <div className="stack" data-testid="token-once">
      <p>
        <strong>{device.name}</strong> is ready. Its token is shown <strong>only now</strong>: Verdant keeps just a hash of it. Copy it into
        the device; if it is lost, rotate the token on the device's page.
      </p>
      <CopyBlock label="Device token" text={token} testId="device-token" />
      <CopyBlock label="Try it: post a reading with curl" text={curl} />
      <CopyBlock label="Or with the device SDK (Bun or Node, e.g. a Raspberry Pi)" text={sdk} />
      <p className="hint">Each new sensor key the device reports becomes a sensor of this device; assign it to a plant on the device's page.</p>
      <div className="actions">
        <Link to={sitePath(site.id, `devices/${device.id}`)} className="button" onClick={onDone}>
          Open the device
        </Link>
        <button type="button" className="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
