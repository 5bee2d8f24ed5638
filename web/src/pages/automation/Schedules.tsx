import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Dialog, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { allPages, api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime } from "../../lib/format";
import { WEEKDAYS, WEEKDAY_NAMES, buildRrule, describeSchedule, parseRrule, type Weekday } from "../../lib/rrule";
import { useSite } from "../../lib/site";
import { usePlantsList } from "../../lib/queries";
import { ActionFields, actionOf, actionStateOf, describeAction, emptyAction, useActuators, type ActionState } from "./ActionFields";

type Schedule = Outputs["schedules"]["list"]["items"][number];

export function SchedulesSection() {
  const site = useSite();
  const schedules = useQuery({
    queryKey: ["schedules", "list", site.id],
    queryFn: () => allPages((cursor) => api.schedules.list.query({ siteId: site.id, limit: 100, cursor })),
  });
  const [editing, setEditing] = useState<Schedule | "new" | null>(null);
  return (
    <Section
      title="Schedules"
      id="schedules"
      actions={
        site.canEdit ? (
          <button type="button" className="small primary" onClick={() => setEditing("new")}>
            New schedule
          </button>
        ) : null
      }
    >
      {schedules.data && schedules.data.length === 0 ? <Empty>No schedules. A schedule acts on the clock: water every morning, switch a grow lamp on at 06:00.</Empty> : null}
      <ul className="rules" data-testid="schedules">
        {schedules.data?.map((schedule) => <ScheduleRow key={schedule.id} schedule={schedule} onEdit={() => setEditing(schedule)} />)}
      </ul>
      <Dialog open={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New schedule" : `Edit ${editing?.name ?? ""}`} wide>
        {editing ? <ScheduleForm schedule={editing === "new" ? null : editing} onDone={() => setEditing(null)} /> : null}
      </Dialog>
    </Section>
  );
}

function ScheduleRow({ schedule, onEdit }: { schedule: Schedule; onEdit: () => void }) {
  const site = useSite();
  const actuators = useActuators();
  const names = new Map(actuators.data?.map((a) => [a.id, a.name ?? a.key]));
  const simple = parseRrule(schedule.rrule);
  const upcoming = useQuery({
    queryKey: ["schedules", "upcoming", site.id, schedule.id, schedule.updatedAt.getTime()],
    queryFn: () => api.schedules.upcoming.query({ siteId: site.id, scheduleId: schedule.id, from: new Date(), count: 3 }),
    enabled: schedule.enabled,
  });
  const toggle = useApiMutation((enabled: boolean) => api.schedules.setEnabled.mutate({ siteId: site.id, scheduleId: schedule.id, enabled }), { invalidate: [["schedules"]] });
  const remove = useApiMutation(() => api.schedules.delete.mutate({ siteId: site.id, scheduleId: schedule.id }), { invalidate: [["schedules"]] });
  return (
    <li className={schedule.enabled ? undefined : "disabled"} data-testid="schedule">
      <div>
        <strong>{schedule.name}</strong> {schedule.enabled ? null : <Badge tone="muted">off</Badge>}
        <br />
        <small>{simple ? describeSchedule(simple) : "custom rule"}</small> <code className="rrule">{schedule.rrule}</code>
        <br />
        <small className="muted">then {schedule.actions.map((a) => describeAction(a, a.type === "command" ? names.get(a.actuatorId) : undefined)).join("; ")}</small>
        {upcoming.data && upcoming.data.length > 0 ? (
          <>
            <br />
            <small>next: {upcoming.data.map((d) => formatDateTime(d, site.timezone)).join(", ")}</small>
          </>
        ) : null}
        <FormError error={toggle.error ?? remove.error} />
      </div>
      {site.canEdit ? (
        <div className="row-actions">
          <label className="check">
            <input type="checkbox" checked={schedule.enabled} onChange={(e) => toggle.mutate(e.target.checked)} aria-label={`${schedule.name} enabled`} /> on
          </label>
          <button type="button" className="small" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="small danger" onClick={() => confirm(`Delete the schedule “${schedule.name}”?`) && remove.mutate()}>
            Delete
          </button>
        </div>
      ) : null}
    </li>
  );
}

function ScheduleForm({ schedule, onDone }: { schedule: Schedule | null; onDone: () => void }) {
  const site = useSite();
  const plants = usePlantsList(site.id);
  const actuators = useActuators();
  const parsed = schedule ? parseRrule(schedule.rrule) : { times: ["07:00"], days: [...WEEKDAYS] };
  const [name, setName] = useState(schedule?.name ?? "");
  const [plantId, setPlantId] = useState(schedule?.plantId ?? "");
  const [times, setTimes] = useState<string[]>(parsed?.times ?? ["07:00"]);
  const [days, setDays] = useState<Weekday[]>(parsed?.days ?? [...WEEKDAYS]);
  // A rule the simple form cannot show is edited as text (and anyone may switch to text).
  const [expert, setExpert] = useState(parsed === null);
  const [raw, setRaw] = useState(schedule?.rrule ?? "");
  const [missed, setMissed] = useState<"skip" | "catch_up">(schedule?.missedRunPolicy ?? "skip");
  const [action, setAction] = useState<ActionState>(() =>
    schedule?.actions[0] ? actionStateOf(schedule.actions[0]) : { ...emptyAction("Time to water {plant}"), type: "command" },
  );
  const built = buildRrule({ times, days });
  const rrule = expert ? raw : built.ok ? built.rrule : "";
  const actuatorKind = actuators.data?.find((a) => a.id === action.actuatorId)?.kind;
  const save = useApiMutation(
    () => {
      const fields = {
        name,
        plantId: plantId || null,
        rrule,
        missedRunPolicy: missed,
        actions: [actionOf(action, actuatorKind), ...(schedule?.actions.slice(1) ?? [])],
      };
      return schedule
        ? api.schedules.update.mutate({ siteId: site.id, scheduleId: schedule.id, ...fields, ...(rrule !== schedule.rrule ? { startsAt: new Date() } : {}) })
        : api.schedules.create.mutate({ siteId: site.id, startsAt: new Date(), ...fields });
    },
    { invalidate: [["schedules"]], onSuccess: onDone },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!expert && !built.ok) return;
    save.mutate();
  };
  const toggleDay = (day: Weekday) => setDays(days.includes(day) ? days.filter((d) => d !== day) : [...days, day]);
  return (
    <form className="stack" onSubmit={submit} aria-label="Schedule">
      <Field label="Name" error={fieldError(save.error, "name")}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Morning watering" />
      </Field>
      <Field label="For plant (optional)" error={fieldError(save.error, "plantId")}>
        <select value={plantId} onChange={(e) => setPlantId(e.target.value)}>
          <option value="">– none –</option>
          {plants.data?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </Field>
      {!expert ? (
        <>
          <Field label={`At (${site.timezone})`} error={!built.ok && built.field === "times" ? built.message : undefined}>
            <div className="times">
              {times.map((t, i) => (
                <span key={i} className="time-chip">
                  <input type="time" value={t} aria-label={`Time ${i + 1}`} onChange={(e) => setTimes(times.map((x, j) => (j === i ? e.target.value : x)))} />
                  {times.length > 1 ? (
                    <button type="button" className="icon" aria-label="Remove time" onClick={() => setTimes(times.filter((_, j) => j !== i))}>
                      ×
                    </button>
                  ) : null}
                </span>
              ))}
              <button type="button" className="small" onClick={() => setTimes([...times, times.at(-1) ? `${String((Number(times.at(-1)!.slice(0, 2)) + 12) % 24).padStart(2, "0")}${times.at(-1)!.slice(2)}` : "07:00"])}>
                + time
              </button>
            </div>
          </Field>
          <Field label="On" error={!built.ok && built.field === "days" ? built.message : undefined}>
            <div className="weekdays" role="group" aria-label="Weekdays">
              {WEEKDAYS.map((d) => (
                <button key={d} type="button" className={days.includes(d) ? "active" : undefined} aria-pressed={days.includes(d)} onClick={() => toggleDay(d)}>
                  {WEEKDAY_NAMES[d]}
                </button>
              ))}
            </div>
          </Field>
          <p className="hint">
            {built.ok ? (
              <>
                Runs {describeSchedule({ times, days })}. As an RRULE: <code data-testid="rrule">{built.rrule}</code>{" "}
              </>
            ) : null}
            <button type="button" className="link" onClick={() => (setRaw(rrule || raw), setExpert(true))}>
              Edit the RRULE by hand
            </button>
          </p>
        </>
      ) : (
        <Field label="RRULE (RFC 5545, in the site's time zone)" error={fieldError(save.error, "rrule")} hint="e.g. FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=7;BYMINUTE=0;BYSECOND=0">
          <input value={raw} onChange={(e) => setRaw(e.target.value)} spellCheck={false} className="mono" />
        </Field>
      )}
      {expert && parseRrule(raw) ? (
        <button type="button" className="link" onClick={() => (setTimes(parseRrule(raw)!.times), setDays(parseRrule(raw)!.days), setExpert(false))}>
          Back to the simple form
        </button>
      ) : null}
      {!expert && fieldError(save.error, "rrule") ? <p className="form-error">{fieldError(save.error, "rrule")}</p> : null}
      <Field label="If the server was down at run time" error={fieldError(save.error, "missedRunPolicy")}>
        <select value={missed} onChange={(e) => setMissed(e.target.value as "skip" | "catch_up")}>
          <option value="skip">skip the missed run</option>
          <option value="catch_up">run it once when back</option>
        </select>
      </Field>
      <ActionFields value={action} onChange={setAction} error={save.error} path="actions.0" />
      <FormError error={save.error} fields={["name", "plantId", "rrule", "startsAt", "missedRunPolicy", "actions.0"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {schedule ? "Save schedule" : "Create schedule"}
        </button>
      </div>
    </form>
  );
}
