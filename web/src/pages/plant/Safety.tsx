import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Field, FormError, Loading, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, numberField } from "../../lib/format";
import { useSite } from "../../lib/site";
import { safetyKey } from "../../status/plant-status";

type Plant = Outputs["plants"]["get"];
type Safety = Outputs["wateringSafety"]["get"];

/**
 * Automatic watering's limits for this plant, and its pause: the automation pauses watering when
 * a pump run did not raise the soil's moisture (an empty tank, a loose hose); a person resumes it.
 */
export function SafetyPanel({ plant }: { plant: Plant }) {
  const site = useSite();
  const safety = useQuery({ queryKey: safetyKey(site.id, plant.id), queryFn: () => api.wateringSafety.get.query({ siteId: site.id, plantId: plant.id }) });
  const resume = useApiMutation(() => api.wateringSafety.resume.mutate({ siteId: site.id, plantId: plant.id }), { invalidate: [["wateringSafety"], ["automationLog"]] });
  return (
    <Section title="Automatic watering" id="safety">
      {safety.isPending ? <Loading /> : null}
      {safety.data ? (
        <>
          <p data-testid="watering-pause">
            {safety.data.autoWateringPaused ? (
              <>
                <Badge tone="warn">paused</Badge> since {formatDateTime(safety.data.pausedAt, site.timezone)}: {safety.data.pausedReason ?? "no reason given"}
                {site.canEdit ? (
                  <button type="button" className="small primary" onClick={() => resume.mutate()} disabled={resume.isPending}>
                    Resume
                  </button>
                ) : null}
              </>
            ) : (
              <>
                <Badge tone="ok">active</Badge> rules and schedules may water this plant within the limits below.
              </>
            )}
          </p>
          <FormError error={resume.error} />
          <SafetyForm plant={plant} safety={safety.data} />
        </>
      ) : null}
    </Section>
  );
}

function SafetyForm({ plant, safety }: { plant: Plant; safety: Safety }) {
  const site = useSite();
  if (!site.canEdit) {
    return (
      <dl className="facts">
        <dt>Cooldown</dt>
        <dd>{safety.cooldownMinutes} min after any watering</dd>
        <dt>Daily cap</dt>
        <dd>{safety.dailyVolumeCapMl === null ? "none" : `${safety.dailyVolumeCapMl} ml`}</dd>
        <dt>Moisture check</dt>
        <dd>
          +{safety.minRise} points within {safety.riseWindowMinutes} min of a pump run
        </dd>
        <dt>Detected waterings</dt>
        <dd>a jump of {safety.detectJump} points</dd>
      </dl>
    );
  }
  return <SafetyEditor plant={plant} safety={safety} />;
}

function SafetyEditor({ plant, safety }: { plant: Plant; safety: Safety }) {
  const site = useSite();
  const [values, setValues] = useState({
    cooldownMinutes: String(safety.cooldownMinutes),
    dailyVolumeCapMl: safety.dailyVolumeCapMl === null ? "" : String(safety.dailyVolumeCapMl),
    riseWindowMinutes: String(safety.riseWindowMinutes),
    minRise: String(safety.minRise),
    detectJump: String(safety.detectJump),
  });
  const save = useApiMutation(
    () =>
      api.wateringSafety.update.mutate({
        siteId: site.id,
        plantId: plant.id,
        cooldownMinutes: numberField(values.cooldownMinutes),
        dailyVolumeCapMl: numberField(values.dailyVolumeCapMl) ?? null,
        riseWindowMinutes: numberField(values.riseWindowMinutes),
        minRise: numberField(values.minRise),
        detectJump: numberField(values.detectJump),
      }),
    { invalidate: [["wateringSafety"]] },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const field = (name: keyof typeof values, label: string, hint: string) => (
    <Field label={label} hint={hint} error={fieldError(save.error, name)}>
      <input inputMode="decimal" value={values[name]} onChange={(e) => setValues({ ...values, [name]: e.target.value })} />
    </Field>
  );
  return (
    <form className="stack" onSubmit={submit} aria-label="Watering limits">
      {field("cooldownMinutes", "Cooldown (minutes)", "after any watering, automation waits this long")}
      {field("dailyVolumeCapMl", "Daily cap (ml)", "automatic and scheduled watering per day; empty: no cap")}
      {field("riseWindowMinutes", "Check after (minutes)", "how long after a pump run soil moisture must have risen…")}
      {field("minRise", "…by at least (points of %)", "else automatic watering pauses")}
      {field("detectJump", "Detect waterings (jump in %)", "a rise this big without a pump run is logged as a watering")}
      <FormError error={save.error} fields={Object.keys(values)} />
      <div className="actions">
        {save.isSuccess ? <span className="saved">Saved</span> : null}
        <button type="submit" className="primary" disabled={save.isPending}>
          Save limits
        </button>
      </div>
    </form>
  );
}
