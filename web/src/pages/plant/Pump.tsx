import { useQuery } from "@tanstack/react-query";
import { useCallback, useState, type FormEvent } from "react";
import { Badge, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, formatNumber, numberField } from "../../lib/format";
import { useLiveCommands, type LiveCommand } from "../../lib/live";
import { useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];
type Actuator = Outputs["actuators"]["list"]["items"][number];
type Command = Outputs["commands"]["list"]["items"][number];

/** The device stops a pump after this long when its actuator has no limit of its own (server default). */
const DEFAULT_MAX_RUN_SECONDS = 60;

export const COMMAND_STATES: Record<string, { label: string; tone: "info" | "ok" | "bad" | "muted" }> = {
  pending: { label: "queued, waiting for the device", tone: "info" },
  sent: { label: "sent to the device", tone: "info" },
  acknowledged: { label: "device is running it", tone: "info" },
  succeeded: { label: "done", tone: "ok" },
  failed: { label: "failed", tone: "bad" },
  expired: { label: "expired: the device did not pick it up", tone: "bad" },
  cancelled: { label: "cancelled", tone: "muted" },
};
const OPEN = new Set(["pending", "sent"]);

/** Running the plant's pump by hand, in seconds or millilitres, within what the pump allows. */
export function PumpPanel({ plant }: { plant: Plant }) {
  const site = useSite();
  const pumps = useQuery({
    queryKey: ["actuators", "list", site.id, { plantId: plant.id }],
    queryFn: () => api.actuators.list.query({ siteId: site.id, plantId: plant.id, limit: 100 }),
    select: (page) => page.items.filter((a) => a.kind === "pump"),
  });
  return (
    <Section title="Pump" id="pump">
      {pumps.data && pumps.data.length === 0 ? <Empty>No pump waters this plant. Add one to a device under Devices and assign it here.</Empty> : null}
      {pumps.data?.map((pump) => <PumpControl key={pump.id} pump={pump} />)}
    </Section>
  );
}

function PumpControl({ pump }: { pump: Actuator }) {
  const site = useSite();
  const maxRun = pump.maxRunSeconds ?? DEFAULT_MAX_RUN_SECONDS;
  const flow = pump.flowRateMlPerSecond;
  const [amount, setAmount] = useState("");
  const [unit, setUnit] = useState<"seconds" | "ml">("seconds");
  const [local, setLocal] = useState<string | undefined>();
  const [running, setRunning] = useState<{ id: string; status: string; detail: string | null } | null>(null);
  const recent = useQuery({
    queryKey: ["commands", "list", site.id, pump.id],
    queryFn: () => api.commands.list.query({ siteId: site.id, actuatorId: pump.id, limit: 5 }),
  });

  // The command's state follows the device live: queued → sent → running → done (or failed, expired).
  const follow = useCallback((change: LiveCommand) => {
    setRunning((current) => (current && current.id === change.commandId ? { ...current, status: change.status, detail: change.detail } : current));
  }, []);
  useLiveCommands(follow);

  const start = useApiMutation(
    (command: { action: "pump"; seconds?: number; ml?: number }) =>
      api.commands.create.mutate({ siteId: site.id, actuatorId: pump.id, command, idempotencyKey: crypto.randomUUID() }),
    { invalidate: [["commands"], ["waterings"]], onSuccess: ({ command }) => setRunning({ id: command.id, status: command.status, detail: command.detail }) },
  );
  const cancel = useApiMutation((commandId: string) => api.commands.cancel.mutate({ siteId: site.id, commandId }), {
    invalidate: [["commands"], ["waterings"]],
    onSuccess: (command) => setRunning({ id: command.id, status: command.status, detail: command.detail }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = numberField(amount);
    setLocal(undefined);
    // Said before asking: the server refuses the same (and is the one that decides).
    if (value === undefined || !(value > 0)) return setLocal("give a positive amount");
    const seconds = unit === "seconds" ? value : flow ? value / flow : undefined;
    if (unit === "ml" && !flow) return setLocal("this pump has no flow rate: set one under Devices to pump by volume");
    if (seconds !== undefined && seconds > maxRun) {
      return setLocal(unit === "seconds" ? `at most ${maxRun} s for this pump` : `at most ${formatNumber(maxRun * flow!)} ml (${maxRun} s at ${flow} ml/s)`);
    }
    start.mutate(unit === "seconds" ? { action: "pump", seconds: value } : { action: "pump", ml: value });
  };

  const state = running ? COMMAND_STATES[running.status] : undefined;
  return (
    <div className="pump" data-testid="pump">
      <h3>{pump.name ?? pump.key}</h3>
      <p className="hint">
        Runs at most {maxRun} s{flow ? ` ≈ ${formatNumber(maxRun * flow)} ml at ${flow} ml/s` : " (no flow rate set: seconds only)"}. The device stops it by itself after that.
      </p>
      {site.canEdit ? (
        <form className="inline" onSubmit={submit} aria-label={`Run ${pump.name ?? pump.key}`}>
          <Field label="Amount" error={local ?? fieldError(start.error, "command.seconds", "command.ml", "command")}>
            <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder={unit === "seconds" ? "e.g. 5" : "e.g. 100"} />
          </Field>
          <Field label="In">
            <select value={unit} onChange={(e) => setUnit(e.target.value as "seconds" | "ml")}>
              <option value="seconds">seconds</option>
              <option value="ml" disabled={!flow}>
                ml
              </option>
            </select>
          </Field>
          <button type="submit" className="primary" disabled={start.isPending || (running !== null && OPEN.has(running.status))}>
            Run pump
          </button>
          <FormError error={start.error} fields={["command"]} />
        </form>
      ) : null}
      {running && state ? (
        <p className="command-state" data-testid="command-state" data-status={running.status}>
          <Badge tone={state.tone}>{running.status}</Badge> {state.label}
          {running.detail ? `: ${running.detail}` : ""}
          {site.canEdit && OPEN.has(running.status) ? (
            <button type="button" className="small" onClick={() => cancel.mutate(running.id)} disabled={cancel.isPending}>
              Cancel
            </button>
          ) : null}
        </p>
      ) : null}
      {recent.data && recent.data.items.length > 0 ? <RecentCommands commands={recent.data.items} /> : null}
    </div>
  );
}

function RecentCommands({ commands }: { commands: Command[] }) {
  const site = useSite();
  return (
    <table className="table compact">
      <caption>Recent runs</caption>
      <tbody>
        {commands.map((c) => (
          <tr key={c.id}>
            <td>{formatDateTime(c.createdAt, site.timezone)}</td>
            <td>
              {c.durationSeconds !== null ? `${formatNumber(c.durationSeconds)} s` : ""}
              {c.volumeMl !== null ? ` (${formatNumber(c.volumeMl)} ml)` : ""}
            </td>
            <td>
              <Badge tone={COMMAND_STATES[c.status]?.tone ?? "muted"}>{c.status}</Badge>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
