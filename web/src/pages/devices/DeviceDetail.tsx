import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { METRICS } from "../../../../shared/metrics";
import { Badge, Dialog, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, formatValue, metricLabel, numberField, relativeTime } from "../../lib/format";
import { Link, navigate } from "../../lib/router";
import { sitePath, useSite } from "../../lib/site";
import { useLatest, usePlantsList } from "../../lib/queries";
import { STATUS_TONE, TokenOnce, deviceStatus } from "../Devices";
import { CalibrationForm } from "./Calibration";

type Device = Outputs["devices"]["list"][number];
type Sensor = Outputs["sensors"]["list"]["items"][number];
type Actuator = Outputs["actuators"]["list"]["items"][number];

const DEVICE_KINDS = ["sensor", "actuator", "combined"] as const;
const ACTUATOR_KINDS = ["pump", "lamp", "relay"] as const;

export function DeviceDetail({ device }: { device: Device }) {
  const site = useSite();
  const status = deviceStatus(device);
  const [token, setToken] = useState<string | null>(null);
  const rotate = useApiMutation(() => api.devices.rotateToken.mutate({ siteId: site.id, deviceId: device.id }), {
    invalidate: [["devices"]],
    onSuccess: (result) => setToken(result.token),
  });
  const revoke = useApiMutation(() => api.devices.revoke.mutate({ siteId: site.id, deviceId: device.id }), { invalidate: [["devices"]] });
  return (
    <div data-testid="device-detail">
      <p className="crumbs">
        <Link to={sitePath(site.id, "devices")}>Devices</Link> ›
      </p>
      <div className="page-head">
        <div>
          <h1>{device.name}</h1>
          <p className="sub">
            <Badge tone={STATUS_TONE[status]}>{status}</Badge> last seen {relativeTime(device.lastSeenAt)}
            {device.batteryPercent !== null ? ` · battery ${Math.round(device.batteryPercent)} %` : ""} · token {device.tokenHint}
            {device.tokenRotatedAt ? ` (rotated ${formatDateTime(device.tokenRotatedAt, site.timezone)})` : ""}
          </p>
        </div>
        {site.canEdit ? (
          <div className="row-actions">
            <button type="button" onClick={() => confirm("Issue a new token? The current one stops working at once.") && rotate.mutate()} disabled={rotate.isPending}>
              Rotate token
            </button>
            {!device.revokedAt ? (
              <button type="button" className="danger" onClick={() => confirm("Revoke this device? It can no longer send readings (rotate to enable it again).") && revoke.mutate()}>
                Revoke
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      <FormError error={rotate.error ?? revoke.error} />
      {device.revokedAt ? <p className="paused-note">Revoked {formatDateTime(device.revokedAt, site.timezone)}: its token is refused. Rotate the token to enable it again.</p> : null}
      <SensorsSection device={device} />
      <ActuatorsSection device={device} />
      {site.canEdit ? <DeviceForm device={device} /> : null}
      <Dialog open={token !== null} onClose={() => setToken(null)} title="New device token" wide>
        {token ? <TokenOnce device={device} token={token} onDone={() => setToken(null)} /> : null}
      </Dialog>
    </div>
  );
}

function PlantSelect({ value, onChange, label, disabled }: { value: string | null; onChange: (plantId: string | null) => void; label: string; disabled?: boolean }) {
  const site = useSite();
  const plants = usePlantsList(site.id);
  return (
    <select aria-label={label} value={value ?? ""} disabled={disabled} onChange={(e) => onChange(e.target.value || null)}>
      <option value="">– no plant –</option>
      {plants.data?.map((p) => (
        <option key={p.id} value={p.id}>
          {p.name}
        </option>
      ))}
    </select>
  );
}

function SensorsSection({ device }: { device: Device }) {
  const site = useSite();
  const sensors = useQuery({
    queryKey: ["sensors", "list", site.id, device.id],
    queryFn: () => api.sensors.list.query({ siteId: site.id, deviceId: device.id, limit: 100 }),
  });
  const latest = useLatest(site.id);
  const plants = usePlantsList(site.id);
  const plantName = new Map(plants.data?.map((p) => [p.id, p.name]));
  const [calibrating, setCalibrating] = useState<Sensor | null>(null);
  const [adding, setAdding] = useState(false);
  const invalidate = [["sensors"], ["plants"], ["analytics"]];
  const assign = useApiMutation(
    ({ sensorId, plantId }: { sensorId: string; plantId: string | null }) =>
      plantId ? api.sensors.assign.mutate({ siteId: site.id, sensorId, plantId }) : api.sensors.unassign.mutate({ siteId: site.id, sensorId }),
    { invalidate },
  );
  const valueOf = (sensorId: string) => {
    const i = latest.data?.values.sensorId.indexOf(sensorId) ?? -1;
    return i < 0 ? null : { value: latest.data!.values.value[i]!, ts: latest.data!.values.ts[i]!, stale: latest.data!.values.stale[i]! };
  };
  return (
    <Section
      title="Sensors"
      id="sensors"
      actions={
        site.canEdit ? (
          <button type="button" className="small" onClick={() => setAdding(true)}>
            Add sensor
          </button>
        ) : null
      }
    >
      {sensors.data && sensors.data.items.length === 0 ? <Empty>No sensors yet: they appear when the device reports a new key, or add one.</Empty> : null}
      {sensors.data && sensors.data.items.length > 0 ? (
        <table className="table" data-testid="sensors">
          <thead>
            <tr>
              <th>Key</th>
              <th>Measures</th>
              <th>Latest</th>
              <th>Calibration</th>
              <th>Plant</th>
            </tr>
          </thead>
          <tbody>
            {sensors.data.items.map((s) => {
              const now = valueOf(s.id);
              return (
                <tr key={s.id} data-testid="sensor-row" data-key={s.key}>
                  <td>
                    <code>{s.key}</code>
                    {s.name ? <small className="muted"> {s.name}</small> : null}
                  </td>
                  <td>
                    {metricLabel(s.metric)} <small>{s.unit}</small>
                  </td>
                  <td className={now?.stale ? "muted" : undefined}>
                    {now?.ts !== null && now ? `${formatValue(now.value, s.unit)} · ${relativeTime(now.ts)}` : "–"}
                  </td>
                  <td>
                    {s.calibration ? (
                      <small>
                        {s.calibration.rawLow}→{s.calibration.valueLow}, {s.calibration.rawHigh}→{s.calibration.valueHigh}
                      </small>
                    ) : (
                      <small className="muted">none</small>
                    )}{" "}
                    {site.canEdit ? (
                      <button type="button" className="small" onClick={() => setCalibrating(s)}>
                        Calibrate
                      </button>
                    ) : null}
                  </td>
                  <td>
                    {site.canEdit ? (
                      <PlantSelect label={`Plant of ${s.key}`} value={s.plantId} onChange={(plantId) => assign.mutate({ sensorId: s.id, plantId })} disabled={assign.isPending} />
                    ) : s.plantId ? (
                      plantName.get(s.plantId) ?? "a plant"
                    ) : (
                      "–"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      <FormError error={assign.error} />
      <Dialog open={calibrating !== null} onClose={() => setCalibrating(null)} title={`Calibrate ${calibrating?.key ?? ""}`}>
        {calibrating ? <CalibrationForm sensor={calibrating} onDone={() => setCalibrating(null)} /> : null}
      </Dialog>
      <Dialog open={adding} onClose={() => setAdding(false)} title="Add a sensor">
        <AddSensor device={device} onDone={() => setAdding(false)} />
      </Dialog>
    </Section>
  );
}

function AddSensor({ device, onDone }: { device: Device; onDone: () => void }) {
  const site = useSite();
  const [key, setKey] = useState("");
  const [metric, setMetric] = useState<string>("soil_moisture");
  const [plantId, setPlantId] = useState<string | null>(null);
  const create = useApiMutation(() => api.sensors.create.mutate({ siteId: site.id, deviceId: device.id, key, metric, plantId }), {
    invalidate: [["sensors"], ["plants"], ["analytics"]],
    onSuccess: onDone,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Add a sensor">
      <Field label="Key (what the device calls it)" error={fieldError(create.error, "key")} hint="e.g. soil1">
        <input value={key} onChange={(e) => setKey(e.target.value)} />
      </Field>
      <Field label="Measures" error={fieldError(create.error, "metric")}>
        <select value={metric} onChange={(e) => setMetric(e.target.value)}>
          {METRICS.map((m) => (
            <option key={m} value={m}>
              {metricLabel(m)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Plant" error={fieldError(create.error, "plantId")}>
        <PlantSelect label="Plant" value={plantId} onChange={setPlantId} />
      </Field>
      <FormError error={create.error} fields={["key", "metric", "plantId"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add sensor
        </button>
      </div>
    </form>
  );
}

function ActuatorsSection({ device }: { device: Device }) {
  const site = useSite();
  const actuators = useQuery({
    queryKey: ["actuators", "list", site.id, { deviceId: device.id }],
    queryFn: () => api.actuators.list.query({ siteId: site.id, deviceId: device.id, limit: 100 }),
  });
  const plants = usePlantsList(site.id);
  const plantName = new Map(plants.data?.map((p) => [p.id, p.name]));
  const [editing, setEditing] = useState<Actuator | "new" | null>(null);
  const assign = useApiMutation(
    ({ actuatorId, plantId }: { actuatorId: string; plantId: string | null }) =>
      plantId ? api.actuators.assign.mutate({ siteId: site.id, actuatorId, plantId }) : api.actuators.unassign.mutate({ siteId: site.id, actuatorId }),
    { invalidate: [["actuators"], ["plants"]] },
  );
  return (
    <Section
      title="Actuators"
      id="actuators"
      actions={
        site.canEdit ? (
          <button type="button" className="small" onClick={() => setEditing("new")}>
            Add actuator
          </button>
        ) : null
      }
    >
      {actuators.data && actuators.data.items.length === 0 ? <Empty>No pumps, lamps or relays on this device.</Empty> : null}
      {actuators.data && actuators.data.items.length > 0 ? (
        <table className="table" data-testid="actuators">
          <thead>
            <tr>
              <th>Key</th>
              <th>Kind</th>
              <th>Limits</th>
              <th>Plant</th>
            </tr>
          </thead>
          <tbody>
            {actuators.data.items.map((a) => (
              <tr key={a.id}>
                <td>
                  <code>{a.key}</code> {a.name ? <small className="muted">{a.name}</small> : null}
                </td>
                <td>{a.kind}</td>
                <td>
                  {a.kind === "pump" ? (
                    <small>
                      {a.flowRateMlPerSecond ? `${a.flowRateMlPerSecond} ml/s` : "no flow rate"}, at most {a.maxRunSeconds ?? 60} s
                    </small>
                  ) : (
                    "–"
                  )}{" "}
                  {site.canEdit ? (
                    <button type="button" className="small" onClick={() => setEditing(a)}>
                      Edit
                    </button>
                  ) : null}
                </td>
                <td>
                  {site.canEdit ? (
                    <PlantSelect label={`Plant of ${a.key}`} value={a.plantId} onChange={(plantId) => assign.mutate({ actuatorId: a.id, plantId })} />
                  ) : a.plantId ? (
                    plantName.get(a.plantId) ?? "a plant"
                  ) : (
                    "–"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <FormError error={assign.error} />
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "Add an actuator" : `Edit ${editing?.key ?? ""}`}>
        {editing ? <ActuatorForm device={device} actuator={editing === "new" ? null : editing} onDone={() => setEditing(null)} /> : null}
      </Dialog>
    </Section>
  );
}

function ActuatorForm({ device, actuator, onDone }: { device: Device; actuator: Actuator | null; onDone: () => void }) {
  const site = useSite();
  const [key, setKey] = useState(actuator?.key ?? "");
  const [kind, setKind] = useState<(typeof ACTUATOR_KINDS)[number]>(actuator?.kind ?? "pump");
  const [name, setName] = useState(actuator?.name ?? "");
  const [flow, setFlow] = useState(actuator?.flowRateMlPerSecond != null ? String(actuator.flowRateMlPerSecond) : "");
  const [maxRun, setMaxRun] = useState(actuator?.maxRunSeconds != null ? String(actuator.maxRunSeconds) : "60");
  const [plantId, setPlantId] = useState<string | null>(actuator?.plantId ?? null);
  const pump = kind === "pump";
  const save = useApiMutation(
    () =>
      actuator
        ? api.actuators.update.mutate({
            siteId: site.id,
            actuatorId: actuator.id,
            name: name || null,
            ...(pump ? { flowRateMlPerSecond: numberField(flow) ?? null, maxRunSeconds: numberField(maxRun) } : {}),
          })
        : api.actuators.create.mutate({
            siteId: site.id,
            deviceId: device.id,
            key,
            kind,
            name: name || null,
            plantId,
            ...(pump ? { flowRateMlPerSecond: numberField(flow) ?? null, maxRunSeconds: numberField(maxRun) } : {}),
          }),
    { invalidate: [["actuators"], ["plants"]], onSuccess: onDone },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Actuator">
      {!actuator ? (
        <>
          <Field label="Key (what the device calls it)" error={fieldError(save.error, "key")} hint="e.g. pump1">
            <input value={key} onChange={(e) => setKey(e.target.value)} />
          </Field>
          <Field label="Kind" error={fieldError(save.error, "kind")}>
            <select value={kind} onChange={(e) => setKind(e.target.value as (typeof ACTUATOR_KINDS)[number])}>
              {ACTUATOR_KINDS.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </Field>
        </>
      ) : null}
      <Field label="Name" error={fieldError(save.error, "name")}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="optional" />
      </Field>
      {pump ? (
        <div className="row">
          <Field label="Flow rate (ml/s)" error={fieldError(save.error, "flowRateMlPerSecond")} hint="measure it once: ml in 10 s ÷ 10">
            <input inputMode="decimal" value={flow} onChange={(e) => setFlow(e.target.value)} />
          </Field>
          <Field label="Longest run (s)" error={fieldError(save.error, "maxRunSeconds")} hint="the device stops by itself">
            <input inputMode="numeric" value={maxRun} onChange={(e) => setMaxRun(e.target.value)} />
          </Field>
        </div>
      ) : null}
      {!actuator ? (
        <Field label="Plant" error={fieldError(save.error, "plantId")}>
          <PlantSelect label="Plant" value={plantId} onChange={setPlantId} />
        </Field>
      ) : null}
      <FormError error={save.error} fields={["key", "kind", "name", "flowRateMlPerSecond", "maxRunSeconds", "plantId"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save
        </button>
      </div>
    </form>
  );
}

function DeviceForm({ device }: { device: Device }) {
  const site = useSite();
  const [values, setValues] = useState({
    name: device.name,
    kind: device.kind,
    location: device.location ?? "",
    hardwareId: device.hardwareId ?? "",
    firmware: device.firmware ?? "",
    expectedReportIntervalSeconds: String(device.expectedReportIntervalSeconds),
  });
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) => setValues({ ...values, [name]: event.target.value });
  const save = useApiMutation(
    () =>
      api.devices.update.mutate({
        siteId: site.id,
        deviceId: device.id,
        name: values.name,
        kind: values.kind,
        location: values.location || null,
        hardwareId: values.hardwareId || null,
        firmware: values.firmware || null,
        expectedReportIntervalSeconds: numberField(values.expectedReportIntervalSeconds),
      }),
    { invalidate: [["devices"], ["analytics"]] },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const fields = Object.keys(values);
  return (
    <Section title="Device details" id="device-details">
      <form className="grid-form" onSubmit={submit} aria-label="Device details">
        <Field label="Name" error={fieldError(save.error, "name")}>
          <input value={values.name} onChange={set("name")} />
        </Field>
        <Field label="Kind" error={fieldError(save.error, "kind")}>
          <select value={values.kind} onChange={set("kind")}>
            {DEVICE_KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </Field>
        <Field label="Location" error={fieldError(save.error, "location")}>
          <input value={values.location} onChange={set("location")} />
        </Field>
        <Field label="Hardware id (e.g. MAC)" error={fieldError(save.error, "hardwareId")}>
          <input value={values.hardwareId} onChange={set("hardwareId")} />
        </Field>
        <Field label="Firmware" error={fieldError(save.error, "firmware")}>
          <input value={values.firmware} onChange={set("firmware")} />
        </Field>
        <Field label="Reports every (s)" error={fieldError(save.error, "expectedReportIntervalSeconds")} hint="how staleness and offline are judged">
          <input inputMode="numeric" value={values.expectedReportIntervalSeconds} onChange={set("expectedReportIntervalSeconds")} />
        </Field>
        <FormError error={save.error} fields={fields} />
        <div className="actions">
          {save.isSuccess ? <span className="saved">Saved</span> : null}
          <button type="submit" className="primary" disabled={save.isPending}>
            Save details
          </button>
        </div>
      </form>
      <p className="hint">
        Created {formatDateTime(device.createdAt, site.timezone, true)}.{" "}
        <button type="button" className="link" onClick={() => navigate(sitePath(site.id, "automation"))}>
          Offline and battery alerts
        </button>{" "}
        are rules under Automation.
      </p>
    </Section>
  );
}
