import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Field, FormError, Loading, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, numberField } from "../../lib/format";
import { useSite } from "../../lib/site";
import { instantOf } from "../../lib/zoned";

type Plant = Outputs["plants"]["get"];
type Safety = Outputs["wateringSafety"]["get"];

const safetyKey = (siteId: string, plantId: string) => ["wateringSafety", "get", siteId, plantId] as const;
/** What a pause or a resume changes: the settings, the automation log, and the plant's status (cards, plant page). */
const PAUSE_CHANGES = [["wateringSafety"], ["automationLog"], ["plants", "status"]];

/**
 * Automatic watering's limits for this plant, and its pause: a person pauses it (a holiday, a
 * repotting; with a reason, and optionally until when it resumes by itself), and the automation
 * pauses it when a pump run did not raise the soil's moisture (an empty tank, a loose hose); a
 * person resumes it.
 */
export function SafetyPanel({ plant }: { plant: Plant }) {
  const site = useSite();
  const safety = useQuery({ queryKey: safetyKey(site.id, plant.id), queryFn: () => api.wateringSafety.get.query({ siteId: site.id, plantId: plant.id }) });
  const resume = useApiMutation(() => api.wateringSafety.resume.mutate({ siteId: site.id, plantId: plant.id }), { invalidate: PAUSE_CHANGES });
  const [pausing, setPausing] = useState(false);
  const s = safety.data;
  return (
    <Section title="Automatic watering" id="safety">
      {safety.isPending ? <Loading /> : null}
      {s ? (
        <>
          <p data-testid="watering-pause" data-paused={s.autoWateringPaused}>
            {s.autoWateringPaused ? (
              <>
                <Badge tone="warn">paused</Badge> {s.pausedBy === "user" ? "by a person" : "by the automation"} since {formatDateTime(s.pausedAt, site.timezone)}
                {s.pausedUntil ? `, until ${formatDateTime(s.pausedUntil, site.timezone)}` : ""}: {s.pausedReason ?? "no reason given"}
                {site.canEdit ? (
                  <button type="button" className="small primary" onClick={() => resume.mutate()} disabled={resume.isPending}>
                    Resume
                  </button>
                ) : null}
              </>
            ) : (
              <>
                <Badge tone="ok">active</Badge> rules and schedules may water this plant within the limits below.
                {site.canEdit && !pausing && plant.archivedAt === null ? (
                  <button type="button" className="small" onClick={() => setPausing(true)}>
                    Pause
                  </button>
                ) : null}
              </>
            )}
          </p>
          <FormError error={resume.error} />
          {pausing && !s.autoWateringPaused ? <PauseForm plant={plant} onDone={() => setPausing(false)} /> : null}
          <SafetyForm plant={plant} safety={s} />
        </>
      ) : null}
    </Section>
  );
}

/** Why, and until when (optional, in the site's time zone): without an end it holds until someone resumes it. */
function PauseForm({ plant, onDone }: { plant: Plant; onDone: () => void }) {
  const site = useSite();
  const [reason, setReason] = useState("");
  const [date, setDate] = useState("");
  const [time, setTime] = useState("09:00");
  const pause = useApiMutation(
    () =>
      api.wateringSafety.pause.mutate({
        siteId: site.id,
        plantId: plant.id,
        reason,
        until: date ? instantOf(date, time || "00:00", site.timezone) : undefined,
      }),
    { invalidate: PAUSE_CHANGES, onSuccess: onDone },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    pause.mutate();
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Pause automatic watering">
      <Field label="Why" error={fieldError(pause.error, "reason")} hint="shown on the plant's card and page">
        <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. on holiday, repotted" />
      </Field>
      <div className="row">
        <Field label={`Until (${site.timezone}, optional)`} error={fieldError(pause.error, "until")} hint="empty: until someone resumes it">
          <input type="date" value={date} onChange={(e) => setDate(e.target.value)} />
        </Field>
        <Field label="At">
          <input type="time" value={time} onChange={(e) => setTime(e.target.value)} />
        </Field>
      </div>
      <FormError error={pause.error} fields={["reason", "until"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={pause.isPending}>
          Pause automatic watering
        </button>
      </div>
    </form>
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
