import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Dialog, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, numberField, relativeTime } from "../../lib/format";
import { useSite } from "../../lib/site";
import { instantOf, localParts } from "../../lib/zoned";

type Plant = Outputs["plants"]["get"];
type Task = Outputs["tasks"]["list"]["items"][number];

const KINDS = ["water", "fertilize", "repot", "prune", "custom"] as const;
const REPEATS: { key: string; label: string; rrule: (n: number) => string | null }[] = [
  { key: "once", label: "Once", rrule: () => null },
  { key: "days", label: "Every N days", rrule: (n) => `FREQ=DAILY;INTERVAL=${n}` },
  { key: "weeks", label: "Every N weeks", rrule: (n) => `FREQ=WEEKLY;INTERVAL=${n}` },
  { key: "months", label: "Every N months", rrule: (n) => `FREQ=MONTHLY;INTERVAL=${n}` },
];

/** Care reminders: complete, skip or snooze the waiting occurrence; add new ones. */
export function TasksPanel({ plant }: { plant: Plant }) {
  const site = useSite();
  const [adding, setAdding] = useState(false);
  const tasks = useQuery({
    queryKey: ["tasks", "list", site.id, plant.id],
    queryFn: () => api.tasks.list.query({ siteId: site.id, plantId: plant.id, state: "open", limit: 50 }),
  });
  return (
    <Section
      title="Care tasks"
      id="tasks"
      actions={
        site.canEdit && !plant.archivedAt ? (
          <button type="button" className="small" onClick={() => setAdding(true)}>
            Add task
          </button>
        ) : null
      }
    >
      {tasks.data && tasks.data.items.length === 0 ? <Empty>No open tasks.</Empty> : null}
      <ul className="tasks">
        {tasks.data?.items.map((task) => <TaskRow key={task.id} task={task} />)}
      </ul>
      <Dialog open={adding} onClose={() => setAdding(false)} title="Add a care task">
        <AddTask plant={plant} onDone={() => setAdding(false)} />
      </Dialog>
    </Section>
  );
}

function TaskRow({ task }: { task: Task }) {
  const site = useSite();
  const now = Date.now();
  const invalidate = [["tasks"], ["waterings"], ["plants"]];
  const complete = useApiMutation(() => api.tasks.complete.mutate({ siteId: site.id, taskId: task.id }), { invalidate });
  const skip = useApiMutation(() => api.tasks.skip.mutate({ siteId: site.id, taskId: task.id }), { invalidate });
  const snooze = useApiMutation((days: number) => api.tasks.snooze.mutate({ siteId: site.id, taskId: task.id, until: new Date(Date.now() + days * 86_400_000) }), {
    invalidate,
  });
  const due = task.dueAt ? task.dueAt.getTime() <= now : false;
  const error = complete.error ?? skip.error ?? snooze.error;
  return (
    <li data-testid="task">
      <div>
        <strong>{task.title}</strong> {task.rrule ? <Badge tone="muted">repeats</Badge> : null}
        <br />
        <small className={due ? "due" : "muted"}>
          {task.dueAt ? `${due ? "overdue, was due" : "due"} ${relativeTime(task.dueAt, now)} · ${formatDateTime(task.dueAt, site.timezone)}` : "done"}
          {task.dueAt && task.occurrenceAt && task.dueAt.getTime() !== task.occurrenceAt.getTime() ? " (snoozed)" : ""}
        </small>
        {error ? <FormError error={error} /> : null}
      </div>
      {site.canEdit ? (
        <div className="row-actions">
          <button type="button" className="small primary" onClick={() => complete.mutate()} disabled={complete.isPending}>
            Done
          </button>
          <button type="button" className="small" onClick={() => skip.mutate()} disabled={skip.isPending}>
            Skip
          </button>
          <select aria-label="Snooze" value="" onChange={(e) => e.target.value && snooze.mutate(Number(e.target.value))}>
            <option value="">Snooze…</option>
            <option value="1">1 day</option>
            <option value="3">3 days</option>
            <option value="7">1 week</option>
          </select>
        </div>
      ) : null}
    </li>
  );
}

function AddTask({ plant, onDone }: { plant: Plant; onDone: () => void }) {
  const site = useSite();
  const start = localParts(Date.now() + 3_600_000, site.timezone);
  const [kind, setKind] = useState<(typeof KINDS)[number]>("water");
  const [title, setTitle] = useState("");
  const [date, setDate] = useState(start.date);
  const [time, setTime] = useState("09:00");
  const [repeat, setRepeat] = useState("days");
  const [every, setEvery] = useState(String(plant.watering.intervalDays ?? 7));
  const create = useApiMutation(
    () =>
      api.tasks.create.mutate({
        siteId: site.id,
        plantId: plant.id,
        kind,
        title: title || undefined,
        startsAt: instantOf(date, time, site.timezone),
        rrule: REPEATS.find((r) => r.key === repeat)!.rrule(numberField(every) ?? 1),
      }),
    { invalidate: [["tasks"]], onSuccess: onDone },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form className="stack" onSubmit={submit} aria-label="Add a care task">
      <Field label="What" error={fieldError(create.error, "kind")}>
        <select value={kind} onChange={(e) => setKind(e.target.value as (typeof KINDS)[number])}>
          {KINDS.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Title" error={fieldError(create.error, "title")} hint={kind === "custom" ? "required for a custom task" : "optional"}>
        <input value={title} onChange={(e) => setTitle(e.target.value)} />
      </Field>
      <div className="row">
        <Field label={`First on (${site.timezone})`} error={fieldError(create.error, "startsAt")}>
          <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
        </Field>
        <Field label="At">
          <input type="time" value={time} onChange={(e) => setTime(e.target.value)} required />
        </Field>
      </div>
      <div className="row">
        <Field label="Repeat" error={fieldError(create.error, "rrule")}>
          <select value={repeat} onChange={(e) => setRepeat(e.target.value)}>
            {REPEATS.map((r) => (
              <option key={r.key} value={r.key}>
                {r.label}
              </option>
            ))}
          </select>
        </Field>
        {repeat !== "once" ? (
          <Field label="N">
            <input inputMode="numeric" value={every} onChange={(e) => setEvery(e.target.value)} />
          </Field>
        ) : null}
      </div>
      <FormError error={create.error} fields={["kind", "title", "startsAt", "rrule"]} />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add task
        </button>
      </div>
    </form>
  );
}
