import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Dialog, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { allPages, api, useApiMutation, type Inputs, type Outputs } from "../../lib/api";
// Types only: the shared schemas bring zod, which the bundle does without.
import type { ThresholdMetric } from "../../../../shared/schemas/plants";
import { metricLabel, numberField } from "../../lib/format";
import { useSite } from "../../lib/site";
import { useDevices, usePlantsList } from "../../lib/queries";
import { ActionFields, actionOf, actionStateOf, describeAction, emptyAction, useActuators, type ActionState } from "./ActionFields";

type Rule = Outputs["rules"]["list"]["items"][number];
type Kind = Rule["kind"];

const KIND_LABELS: Record<Kind, string> = {
  threshold: "a reading crosses a limit",
  aggregate: "an average (or low, or high) over a while crosses a limit",
  offline: "a device goes silent",
  battery: "a battery will soon be empty",
  daily_light: "the day's light (DLI) is too low or too high",
};
/** Metrics a plant has a range for (THRESHOLD_METRICS): a rule on a plant may use its minimum or maximum. */
const THRESHOLD_METRICS = ["soil_moisture", "temperature", "humidity", "light", "ec", "ph", "water_level"] as const satisfies readonly ThresholdMetric[];
// The compiler checks the list is complete: a metric added to the server's ranges must be added here.
const _everyRange: Exclude<ThresholdMetric, (typeof THRESHOLD_METRICS)[number]> extends never ? true : never = true;
const RANGE_METRICS: readonly string[] = THRESHOLD_METRICS;
/** The daily light integral's unit (shared/schemas/plant-status.ts DLI_UNIT). */
const DLI_UNIT = "mol/m²/d";

interface RuleState {
  name: string;
  kind: Kind;
  targetType: "plant" | "sensor" | "device";
  targetId: string;
  metric: string;
  comparison: "below" | "above";
  thresholdMode: "min" | "max" | "value";
  threshold: string;
  hysteresis: string;
  minDurationMinutes: string;
  aggregate: "avg" | "min" | "max";
  windowMinutes: string;
  staleFactor: string;
  batteryDays: string;
  action: ActionState;
}

const newRule = (): RuleState => ({
  name: "",
  kind: "threshold",
  targetType: "plant",
  targetId: "",
  metric: "soil_moisture",
  comparison: "below",
  thresholdMode: "min",
  threshold: "",
  hysteresis: "5",
  minDurationMinutes: "15",
  aggregate: "avg",
  windowMinutes: "60",
  staleFactor: "3",
  batteryDays: "7",
  action: emptyAction("{plant} is dry"),
});

function stateOf(rule: Rule): RuleState {
  const t = rule.target;
  const threshold = rule.threshold;
  return {
    name: rule.name,
    kind: rule.kind,
    targetType: t.type,
    targetId: t.type === "plant" ? t.plantId : t.type === "sensor" ? t.sensorId : t.deviceId,
    metric: rule.metric ?? "soil_moisture",
    comparison: rule.comparison ?? "below",
    thresholdMode: typeof threshold === "object" && threshold ? threshold.plantRange : "value",
    threshold: typeof threshold === "number" ? String(threshold) : "",
    hysteresis: String(rule.hysteresis),
    minDurationMinutes: String(rule.minDurationSeconds / 60),
    aggregate: rule.aggregate ?? "avg",
    windowMinutes: String(rule.windowMinutes ?? 60),
    staleFactor: String(rule.staleFactor ?? 3),
    batteryDays: String(rule.batteryDays ?? 7),
    action: rule.actions[0] ? actionStateOf(rule.actions[0]) : emptyAction(),
  };
}

type RuleFields = Omit<Inputs["rules"]["create"], "siteId">;

/** The rule as the server takes it; fields that do not apply to the kind are left out. */
function fieldsOf(s: RuleState, actuatorKind: string | undefined, otherActions: Rule["actions"]): RuleFields {
  const target =
    s.targetType === "plant" ? { type: "plant" as const, plantId: s.targetId } : s.targetType === "sensor" ? { type: "sensor" as const, sensorId: s.targetId } : { type: "device" as const, deviceId: s.targetId };
  const measures = s.kind === "threshold" || s.kind === "aggregate" || s.kind === "daily_light";
  const num = (text: string) => numberField(text) ?? Number.NaN;
  return {
    name: s.name,
    kind: s.kind,
    target,
    ...(measures
      ? {
          metric: s.kind === "daily_light" ? "light" : s.targetType === "sensor" ? null : (s.metric as RuleFields["metric"]),
          comparison: s.comparison,
          threshold: s.thresholdMode === "value" ? num(s.threshold) : { plantRange: s.thresholdMode },
          hysteresis: numberField(s.hysteresis) ?? 0,
          // A daily light rule judges whole days: a duration within the day means nothing to it.
          minDurationSeconds: s.kind === "daily_light" ? 0 : Math.round((numberField(s.minDurationMinutes) ?? 0) * 60),
        }
      : {}),
    ...(s.kind === "aggregate" ? { aggregate: s.aggregate, windowMinutes: num(s.windowMinutes) } : {}),
    ...(s.kind === "offline" ? { staleFactor: num(s.staleFactor) } : {}),
    ...(s.kind === "battery" ? { batteryDays: num(s.batteryDays) } : {}),
    actions: [actionOf(s.action, actuatorKind), ...otherActions],
  };
}

export function RulesSection() {
  const site = useSite();
  const rules = useQuery({ queryKey: ["rules", "list", site.id], queryFn: () => allPages((cursor) => api.rules.list.query({ siteId: site.id, limit: 100, cursor })) });
  const names = useNames();
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const own = rules.data?.filter((r) => !r.builtIn);
  const builtIn = rules.data?.filter((r) => r.builtIn);
  return (
    <>
      <Section
        title="Rules"
        id="rules"
        actions={
          site.canEdit ? (
            <button type="button" className="small primary" onClick={() => setEditing("new")}>
              New rule
            </button>
          ) : null
        }
      >
        {own && own.length === 0 ? <Empty>No rules of your own yet. A rule watches readings or devices and raises an alert, notifies or waters.</Empty> : null}
        <ul className="rules" data-testid="rules">
          {own?.map((rule) => <RuleRow key={rule.id} rule={rule} names={names} onEdit={() => setEditing(rule)} />)}
        </ul>
        <Dialog open={editing !== null} onClose={() => setEditing(null)} title={editing === "new" ? "New rule" : `Edit ${editing?.name ?? ""}`} wide>
          {editing ? <RuleForm rule={editing === "new" ? null : editing} onDone={() => setEditing(null)} /> : null}
        </Dialog>
      </Section>
      <BuiltInSection rules={builtIn} names={names} onEdit={setEditing} />
    </>
  );
}

/**
 * The rules every plant with sensors gets from its ranges in force (server/rules/built-in.ts): they
 * can be switched off or tuned one by one, not deleted; the site's switch removes them all.
 */
function BuiltInSection({ rules, names, onEdit }: { rules: Rule[] | undefined; names: Names; onEdit: (rule: Rule) => void }) {
  const site = useSite();
  const siteRow = useQuery({ queryKey: ["sites", "get", site.id], queryFn: () => api.sites.get.query({ siteId: site.id }) });
  const toggle = useApiMutation((enabled: boolean) => api.rules.setBuiltIn.mutate({ siteId: site.id, enabled }), { invalidate: [["rules"], ["sites"]] });
  const on = siteRow.data?.builtInRules;
  return (
    <Section
      title="Built-in watching"
      id="built-in-rules"
      actions={
        site.canEdit && on !== undefined ? (
          <label className="check">
            <input type="checkbox" checked={on} disabled={toggle.isPending} onChange={(e) => toggle.mutate(e.target.checked)} aria-label="Built-in watching" /> on
          </label>
        ) : null
      }
    >
      <p className="hint">
        Every plant with sensors is watched against its ranges without anyone writing a rule; a rule of your own for the same plant, measurement and
        direction replaces the built-in one.
      </p>
      <FormError error={toggle.error} />
      {on === false ? <Empty>Built-in watching is off for {site.name}.</Empty> : null}
      {on && rules && rules.length === 0 ? <Empty>No plant with sensors to watch yet.</Empty> : null}
      <ul className="rules" data-testid="built-in-rules">
        {rules?.map((rule) => <RuleRow key={rule.id} rule={rule} names={names} onEdit={() => onEdit(rule)} />)}
      </ul>
    </Section>
  );
}

function useNames() {
  const site = useSite();
  const plants = usePlantsList(site.id);
  const devices = useDevices(site.id);
  const sensors = useSensors();
  const actuators = useActuators();
  return {
    plant: new Map(plants.data?.map((p) => [p.id, p.name])),
    device: new Map(devices.data?.map((d) => [d.id, d.name])),
    sensor: new Map(sensors.data?.map((s) => [s.id, `${s.key} (${metricLabel(s.metric)})`])),
    actuator: new Map(actuators.data?.map((a) => [a.id, a.name ?? a.key])),
  };
}
type Names = ReturnType<typeof useNames>;

function useSensors() {
  const site = useSite();
  return useQuery({ queryKey: ["sensors", "list", site.id, "all"], queryFn: () => allPages((cursor) => api.sensors.list.query({ siteId: site.id, limit: 100, cursor })) });
}

/** The rule in words: "When Basil's soil moisture stays below its minimum for 15 min". */
export function describeRule(rule: Rule, names: Names): string {
  const t = rule.target;
  const who = t.type === "plant" ? (names.plant.get(t.plantId) ?? "a plant") : t.type === "sensor" ? `sensor ${names.sensor.get(t.sensorId) ?? ""}` : (names.device.get(t.deviceId) ?? "a device");
  const limit =
    typeof rule.threshold === "object" && rule.threshold ? `its ${rule.threshold.plantRange === "min" ? "minimum" : "maximum"}` : String(rule.threshold);
  const lasting = rule.minDurationSeconds ? ` for ${Math.round(rule.minDurationSeconds / 60)} min` : "";
  const clears = rule.hysteresis ? `; clears ${rule.hysteresis} back inside` : "";
  switch (rule.kind) {
    case "threshold":
      return `When ${who}'s ${metricLabel(rule.metric ?? "").toLowerCase()} stays ${rule.comparison} ${limit}${lasting}${clears}`;
    case "aggregate":
      return `When the ${rule.aggregate} of ${who}'s ${metricLabel(rule.metric ?? "").toLowerCase()} over ${rule.windowMinutes} min is ${rule.comparison} ${limit}${lasting}${clears}`;
    case "offline":
      return `When ${who} misses ${rule.staleFactor ?? 3} expected reports`;
    case "battery":
      return `When ${who}'s battery will be empty within ${rule.batteryDays} days`;
    case "daily_light": {
      const dli = typeof rule.threshold === "number" ? `${rule.threshold} ${DLI_UNIT}` : `its daily light ${limit.replace("its ", "")}`;
      return `When ${who}'s daily light integral is ${rule.comparison} ${dli}${clears}`;
    }
  }
}

function RuleRow({ rule, names, onEdit }: { rule: Rule; names: Names; onEdit: () => void }) {
  const site = useSite();
  const toggle = useApiMutation((enabled: boolean) => api.rules.setEnabled.mutate({ siteId: site.id, ruleId: rule.id, enabled }), { invalidate: [["rules"]] });
  const remove = useApiMutation(() => api.rules.delete.mutate({ siteId: site.id, ruleId: rule.id }), { invalidate: [["rules"]] });
  return (
    <li className={rule.enabled ? undefined : "disabled"} data-testid="rule">
      <div>
        <strong>{rule.name}</strong> {rule.builtIn ? <Badge tone="info">built-in</Badge> : null} {rule.enabled ? null : <Badge tone="muted">off</Badge>}
        <br />
        <small>{describeRule(rule, names)}</small>
        <br />
        <small className="muted">then {rule.actions.map((a) => describeAction(a, a.type === "command" ? names.actuator.get(a.actuatorId) : undefined)).join("; ")}</small>
        <FormError error={toggle.error ?? remove.error} />
      </div>
      {site.canEdit ? (
        <div className="row-actions">
          <label className="check">
            <input type="checkbox" checked={rule.enabled} onChange={(e) => toggle.mutate(e.target.checked)} aria-label={`${rule.name} enabled`} /> on
          </label>
          <button type="button" className="small" onClick={onEdit}>
            Edit
          </button>
          {rule.builtIn ? null : (
            <button type="button" className="small danger" onClick={() => confirm(`Delete the rule “${rule.name}”?`) && remove.mutate()}>
              Delete
            </button>
          )}
        </div>
      ) : null}
    </li>
  );
}

function RuleForm({ rule, onDone }: { rule: Rule | null; onDone: () => void }) {
  const site = useSite();
  const plants = usePlantsList(site.id);
  const devices = useDevices(site.id);
  const sensors = useSensors();
  const actuators = useActuators();
  const [s, setState] = useState<RuleState>(() => (rule ? stateOf(rule) : newRule()));
  const set = <K extends keyof RuleState>(key: K, value: RuleState[K]) => setState((prev) => ({ ...prev, [key]: value }));
  const actuatorKind = actuators.data?.find((a) => a.id === s.action.actuatorId)?.kind;
  const save = useApiMutation(
    () => {
      const fields = fieldsOf(s, actuatorKind, rule?.actions.slice(1) ?? []);
      return rule ? api.rules.update.mutate({ siteId: site.id, ruleId: rule.id, ...fields }) : api.rules.create.mutate({ siteId: site.id, ...fields });
    },
    { invalidate: [["rules"]], onSuccess: onDone },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  const chooseKind = (kind: Kind) =>
    setState((prev) => ({
      ...prev,
      kind,
      ...(kind === "daily_light" ? { metric: "light", hysteresis: "1" } : {}),
      // Offline and battery rules watch devices; readings rules usually a plant.
      targetType: kind === "offline" || kind === "battery" ? "device" : prev.targetType === "device" ? "plant" : prev.targetType,
      targetId: (kind === "offline" || kind === "battery") !== (prev.targetType === "device") ? "" : prev.targetId,
    }));
  const measures = s.kind === "threshold" || s.kind === "aggregate" || s.kind === "daily_light";
  const dli = s.kind === "daily_light";
  // A plant's range: the metric's for a reading, its daily light integral range for daily light.
  const plantRange = s.targetType === "plant" && (dli || RANGE_METRICS.includes(s.metric));
  // What makes a built-in rule built-in stays (the server refuses a change): only its limits and actions are edited.
  const locked = Boolean(rule?.builtIn);
  const err = (...paths: string[]) => fieldError(save.error, ...paths);
  const targets =
    s.targetType === "plant"
      ? plants.data?.map((p) => ({ id: p.id, label: p.name }))
      : s.targetType === "sensor"
        ? sensors.data?.map((x) => ({ id: x.id, label: `${x.key} · ${metricLabel(x.metric)}` }))
        : devices.data?.map((d) => ({ id: d.id, label: d.name }));

  return (
    <form className="stack" onSubmit={submit} aria-label="Rule">
      <Field label="Name" error={err("name")}>
        <input value={s.name} onChange={(e) => set("name", e.target.value)} placeholder="e.g. Basil too dry" />
      </Field>
      <Field label="When" error={err("kind")}>
        <select value={s.kind} disabled={locked} onChange={(e) => chooseKind(e.target.value as Kind)}>
          {(Object.keys(KIND_LABELS) as Kind[]).map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </select>
      </Field>
      <div className="row">
        <Field label="Watching" error={err("target.type")}>
          <select value={s.targetType} disabled={locked} onChange={(e) => (set("targetType", e.target.value as RuleState["targetType"]), set("targetId", ""))}>
            {measures ? <option value="plant">a plant</option> : null}
            {measures ? <option value="sensor">a sensor</option> : null}
            {dli ? null : <option value="device">a device</option>}
          </select>
        </Field>
        <Field label="Which" error={err("target")}>
          <select value={s.targetId} disabled={locked} onChange={(e) => set("targetId", e.target.value)} aria-label="Target">
            <option value="">– choose –</option>
            {targets?.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {measures ? (
        <>
          <div className="row">
            {s.targetType !== "sensor" && !dli ? (
              <Field label="Measurement" error={err("metric")}>
                <select value={s.metric} disabled={locked} onChange={(e) => set("metric", e.target.value)}>
                  {["soil_moisture", "temperature", "humidity", "light", "water_level", "ec", "ph", "battery"].map((m) => (
                    <option key={m} value={m}>
                      {metricLabel(m)}
                    </option>
                  ))}
                </select>
              </Field>
            ) : null}
            {s.kind === "aggregate" ? (
              <>
                <Field label="Taking the" error={err("aggregate")}>
                  <select value={s.aggregate} onChange={(e) => set("aggregate", e.target.value as RuleState["aggregate"])}>
                    <option value="avg">average</option>
                    <option value="min">lowest</option>
                    <option value="max">highest</option>
                  </select>
                </Field>
                <Field label="over the last (min)" error={err("windowMinutes")}>
                  <input inputMode="numeric" value={s.windowMinutes} onChange={(e) => set("windowMinutes", e.target.value)} />
                </Field>
              </>
            ) : null}
          </div>
          <div className="row">
            <Field label="is" error={err("comparison")}>
              <select value={s.comparison} disabled={locked} onChange={(e) => set("comparison", e.target.value as "below" | "above")}>
                <option value="below">below</option>
                <option value="above">above</option>
              </select>
            </Field>
            <Field label="the limit" error={err("threshold")}>
              <select value={s.thresholdMode} onChange={(e) => set("thresholdMode", e.target.value as RuleState["thresholdMode"])}>
                {plantRange ? <option value="min">the plant's minimum</option> : null}
                {plantRange ? <option value="max">the plant's maximum</option> : null}
                <option value="value">a number</option>
              </select>
            </Field>
            {s.thresholdMode === "value" || !plantRange ? (
              <Field label={dli ? `Number (${DLI_UNIT})` : "Number"} error={err("threshold")}>
                <input inputMode="decimal" value={s.threshold} onChange={(e) => (set("threshold", e.target.value), set("thresholdMode", "value"))} />
              </Field>
            ) : null}
          </div>
          {dli ? <p className="hint">Judged once a day, on the day just ended in the site's time zone.</p> : null}
          <div className="row">
            {dli ? null : (
              <Field label="for at least (min)" error={err("minDurationSeconds")} hint="a short blip does not fire">
                <input inputMode="numeric" value={s.minDurationMinutes} onChange={(e) => set("minDurationMinutes", e.target.value)} />
              </Field>
            )}
            <Field label="clears when back by" error={err("hysteresis")} hint="so a value hovering at the limit does not fire again and again">
              <input inputMode="decimal" value={s.hysteresis} onChange={(e) => set("hysteresis", e.target.value)} />
            </Field>
          </div>
        </>
      ) : null}
      {s.kind === "offline" ? (
        <Field label="after missing this many expected reports" error={err("staleFactor")}>
          <input inputMode="decimal" value={s.staleFactor} onChange={(e) => set("staleFactor", e.target.value)} />
        </Field>
      ) : null}
      {s.kind === "battery" ? (
        <Field label="when the battery will be empty within (days)" error={err("batteryDays")} hint="projected from the battery's recent trend">
          <input inputMode="decimal" value={s.batteryDays} onChange={(e) => set("batteryDays", e.target.value)} />
        </Field>
      ) : null}
      <ActionFields value={s.action} onChange={(action) => set("action", action)} error={save.error} path="actions.0" />
      {rule && rule.actions.length > 1 ? <p className="hint">This rule has {rule.actions.length - 1} more action(s), kept as they are.</p> : null}
      <FormError
        error={save.error}
        fields={["name", "kind", "target", "metric", "comparison", "threshold", "hysteresis", "minDurationSeconds", "aggregate", "windowMinutes", "staleFactor", "batteryDays", "actions.0"]}
      />
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {rule ? "Save rule" : "Create rule"}
        </button>
      </div>
    </form>
  );
}
