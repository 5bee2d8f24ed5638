import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { applyCalibration } from "../../../../shared/metrics";
import { Field, FormError, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, formatValue, numberField } from "../../lib/format";
import { useSite } from "../../lib/site";

type Sensor = Outputs["sensors"]["list"]["items"][number];

/**
 * Two-point calibration: two raw readings the sensor gave and what they mean (a capacitive soil
 * probe reads about 3100 in dry soil, 0 %, and 1400 in water, 100 %). Readings from now on are
 * stored calibrated; the preview shows what a raw reading becomes.
 */
export function CalibrationForm({ sensor, onDone }: { sensor: Sensor; onDone: () => void }) {
  const site = useSite();
  const c = sensor.calibration;
  const [values, setValues] = useState({
    rawLow: c ? String(c.rawLow) : "",
    valueLow: c ? String(c.valueLow) : "",
    rawHigh: c ? String(c.rawHigh) : "",
    valueHigh: c ? String(c.valueHigh) : "",
  });
  const [raw, setRaw] = useState("");
  const history = useQuery({
    queryKey: ["sensors", "calibrationHistory", site.id, sensor.id],
    queryFn: () => api.sensors.calibrationHistory.query({ siteId: site.id, sensorId: sensor.id }),
  });
  const invalidate = [["sensors"], ["analytics"]];
  const save = useApiMutation(
    () =>
      api.sensors.setCalibration.mutate({
        siteId: site.id,
        sensorId: sensor.id,
        // An empty field is sent as NaN, which the server names as the field to fill.
        rawLow: numberField(values.rawLow) ?? Number.NaN,
        valueLow: numberField(values.valueLow) ?? Number.NaN,
        rawHigh: numberField(values.rawHigh) ?? Number.NaN,
        valueHigh: numberField(values.valueHigh) ?? Number.NaN,
      }),
    { invalidate, onSuccess: onDone },
  );
  const clear = useApiMutation(() => api.sensors.clearCalibration.mutate({ siteId: site.id, sensorId: sensor.id }), { invalidate, onSuccess: onDone });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const numbers = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, numberField(v)])) as Record<keyof typeof values, number | undefined>;
  const complete = Object.values(numbers).every((n) => n !== undefined && Number.isFinite(n)) && numbers.rawLow !== numbers.rawHigh;
  const rawNumber = numberField(raw);
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) => setValues({ ...values, [name]: event.target.value });
  return (
    <form className="stack" onSubmit={submit} aria-label="Calibration">
      <p className="hint">Two readings the sensor gave, and what they mean in {sensor.unit || "its unit"}.</p>
      <div className="row">
        <Field label="Raw reading 1" error={fieldError(save.error, "rawLow")} hint="e.g. in dry soil">
          <input inputMode="decimal" value={values.rawLow} onChange={set("rawLow")} />
        </Field>
        <Field label={`means (${sensor.unit})`} error={fieldError(save.error, "valueLow")}>
          <input inputMode="decimal" value={values.valueLow} onChange={set("valueLow")} />
        </Field>
      </div>
      <div className="row">
        <Field label="Raw reading 2" error={fieldError(save.error, "rawHigh")} hint="e.g. in water">
          <input inputMode="decimal" value={values.rawHigh} onChange={set("rawHigh")} />
        </Field>
        <Field label={`means (${sensor.unit})`} error={fieldError(save.error, "valueHigh")}>
          <input inputMode="decimal" value={values.valueHigh} onChange={set("valueHigh")} />
        </Field>
      </div>
      <div className="row">
        <Field label="Try a raw reading">
          <input inputMode="decimal" value={raw} onChange={(e) => setRaw(e.target.value)} placeholder="e.g. 2200" />
        </Field>
        <p className="preview" data-testid="calibration-preview">
          {complete && rawNumber !== undefined
            ? `→ ${formatValue(applyCalibration(rawNumber, numbers as { rawLow: number; valueLow: number; rawHigh: number; valueHigh: number }), sensor.unit)}`
            : ""}
        </p>
      </div>
      <FormError error={save.error ?? clear.error} fields={["rawLow", "valueLow", "rawHigh", "valueHigh"]} />
      <div className="actions">
        {sensor.calibration ? (
          <button type="button" className="danger" onClick={() => clear.mutate()} disabled={clear.isPending}>
            Remove calibration
          </button>
        ) : null}
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save calibration
        </button>
      </div>
      {history.data && history.data.length > 0 ? (
        <details>
          <summary>History ({history.data.length})</summary>
          <ul className="plain">
            {history.data.map((h) => (
              <li key={h.id}>
                {formatDateTime(h.changedAt, site.timezone, true)}:{" "}
                {h.calibration ? `${h.calibration.rawLow}→${h.calibration.valueLow}, ${h.calibration.rawHigh}→${h.calibration.valueHigh}` : "removed"}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </form>
  );
}
