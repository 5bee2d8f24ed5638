import { useQuery } from "@tanstack/react-query";
import type { AutomationAction } from "../../../../shared/schemas/automation";
import { Field, fieldError } from "../../components/ui";
import { api } from "../../lib/api";
import { numberField } from "../../lib/format";
import { useSite } from "../../lib/site";

/** What a rule or schedule does, as a form: raise an alert, notify (webhooks), run a pump or switch a lamp. */
export interface ActionState {
  type: "alert" | "notify" | "command";
  severity: "info" | "warning" | "critical";
  title: string;
  message: string;
  actuatorId: string;
  unit: "seconds" | "ml";
  amount: string;
  switchState: "on" | "off";
  minutes: string;
}

export const emptyAction = (title = "{plant}: {metric} {value}{unit}"): ActionState => ({
  type: "alert",
  severity: "warning",
  title,
  message: "",
  actuatorId: "",
  unit: "seconds",
  amount: "",
  switchState: "on",
  minutes: "",
});

export function actionStateOf(action: AutomationAction): ActionState {
  const base = emptyAction("");
  if (action.type !== "command") return { ...base, type: action.type, severity: action.severity, title: action.title, message: action.message ?? "" };
  const c = action.command;
  if (c.action === "pump") return { ...base, type: "command", actuatorId: action.actuatorId, unit: c.ml !== undefined ? "ml" : "seconds", amount: String(c.ml ?? c.seconds ?? "") };
  return { ...base, type: "command", actuatorId: action.actuatorId, switchState: c.state, minutes: c.minutes !== undefined ? String(c.minutes) : "" };
}

/** The action to send; numbers the person left empty go as NaN so the server names the field. */
export function actionOf(state: ActionState, actuatorKind: string | undefined): AutomationAction {
  if (state.type !== "command") {
    return { type: state.type, severity: state.severity, title: state.title, ...(state.message.trim() ? { message: state.message } : {}) };
  }
  if (actuatorKind === "pump" || actuatorKind === undefined) {
    const amount = numberField(state.amount) ?? Number.NaN;
    return { type: "command", actuatorId: state.actuatorId, command: { action: "pump", ...(state.unit === "ml" ? { ml: amount } : { seconds: amount }) } };
  }
  const minutes = numberField(state.minutes);
  return { type: "command", actuatorId: state.actuatorId, command: { action: "switch", state: state.switchState, ...(minutes !== undefined && state.switchState === "on" ? { minutes } : {}) } };
}

export function useActuators() {
  const site = useSite();
  return useQuery({
    queryKey: ["actuators", "list", site.id, "all"],
    queryFn: () => api.actuators.list.query({ siteId: site.id, limit: 100 }),
    select: (page) => page.items,
  });
}

export function ActionFields({ value, onChange, error, path }: { value: ActionState; onChange: (next: ActionState) => void; error: unknown; path: string }) {
  const actuators = useActuators();
  const set = <K extends keyof ActionState>(key: K, v: ActionState[K]) => onChange({ ...value, [key]: v });
  const actuator = actuators.data?.find((a) => a.id === value.actuatorId);
  const err = (name: string) => fieldError(error, `${path}.${name}`);
  return (
    <fieldset className="action">
      <legend>Then</legend>
      <Field label="Do" error={err("type")}>
        <select value={value.type} onChange={(e) => set("type", e.target.value as ActionState["type"])}>
          <option value="alert">raise an alert (inbox and webhooks)</option>
          <option value="notify">send a notification (webhooks only)</option>
          <option value="command">run a pump or switch a lamp</option>
        </select>
      </Field>
      {value.type !== "command" ? (
        <>
          <div className="row">
            <Field label="Severity" error={err("severity")}>
              <select value={value.severity} onChange={(e) => set("severity", e.target.value as ActionState["severity"])}>
                <option value="info">info</option>
                <option value="warning">warning</option>
                <option value="critical">critical</option>
              </select>
            </Field>
            <Field label="Title" error={err("title")} hint="{plant}, {value}, {unit}, {threshold}, {metric}, {sensor}, {device} are filled in">
              <input value={value.title} onChange={(e) => set("title", e.target.value)} />
            </Field>
          </div>
          <Field label="Message (optional)" error={err("message")}>
            <input value={value.message} onChange={(e) => set("message", e.target.value)} />
          </Field>
        </>
      ) : (
        <>
          <Field label="Actuator" error={err("actuatorId")}>
            <select value={value.actuatorId} onChange={(e) => set("actuatorId", e.target.value)}>
              <option value="">– choose –</option>
              {actuators.data?.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name ?? a.key} ({a.kind})
                </option>
              ))}
            </select>
          </Field>
          {!actuator || actuator.kind === "pump" ? (
            <div className="row">
              <Field label="Amount" error={err("command.seconds") ?? err("command.ml") ?? err("command")}>
                <input inputMode="decimal" value={value.amount} onChange={(e) => set("amount", e.target.value)} />
              </Field>
              <Field label="In">
                <select value={value.unit} onChange={(e) => set("unit", e.target.value as ActionState["unit"])}>
                  <option value="seconds">seconds</option>
                  <option value="ml" disabled={actuator ? !actuator.flowRateMlPerSecond : false}>
                    ml
                  </option>
                </select>
              </Field>
            </div>
          ) : (
            <div className="row">
              <Field label="Switch" error={err("command.state")}>
                <select value={value.switchState} onChange={(e) => set("switchState", e.target.value as "on" | "off")}>
                  <option value="on">on</option>
                  <option value="off">off</option>
                </select>
              </Field>
              {value.switchState === "on" ? (
                <Field label="for (minutes, optional)" error={err("command.minutes")}>
                  <input inputMode="numeric" value={value.minutes} onChange={(e) => set("minutes", e.target.value)} />
                </Field>
              ) : null}
            </div>
          )}
        </>
      )}
    </fieldset>
  );
}

/** One line for a list: "alert (warning): {plant} is dry", "pump 5 s". */
export function describeAction(action: AutomationAction, actuatorName?: string): string {
  if (action.type !== "command") return `${action.type} (${action.severity}): ${action.title}`;
  const c = action.command;
  const who = actuatorName ?? "actuator";
  if (c.action === "pump") return `run ${who} ${c.ml !== undefined ? `${c.ml} ml` : `${c.seconds} s`}`;
  return `switch ${who} ${c.state}${c.minutes ? ` for ${c.minutes} min` : ""}`;
}
