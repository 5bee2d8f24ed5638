import { useState, type FormEvent } from "react";
import { Badge, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Inputs, type Outputs } from "../../lib/api";
import { metricLabel, numberField } from "../../lib/format";
import { useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];
type Metric = keyof Plant["thresholds"];
type Side = "min" | "max";
type Overrides = NonNullable<Inputs["plants"]["update"]["thresholds"]>;

const SOURCE = {
  plant: { label: "this plant", tone: "info" },
  species: { label: "species", tone: "muted" },
  none: { label: "not set", tone: "neutral" },
} as const;

/**
 * The ranges in force and where each bound comes from: the plant's own override, else its
 * species'. An empty field means "the species' value"; clearing an override sends null.
 */
export function ThresholdsEditor({ plant }: { plant: Plant }) {
  const site = useSite();
  const metrics = Object.keys(plant.thresholds) as Metric[];
  const initial = () =>
    Object.fromEntries(
      metrics.flatMap((m) => (["min", "max"] as const).map((side) => [`${m}.${side}`, plant.thresholds[m][side].source === "plant" ? String(plant.thresholds[m][side].value) : ""])),
    ) as Record<string, string>;
  const [values, setValues] = useState(initial);
  const [editing, setEditing] = useState(false);
  const save = useApiMutation((thresholds: Overrides) => api.plants.update.mutate({ siteId: site.id, plantId: plant.id, thresholds }), {
    invalidate: [["plants"], ["analytics", "plantMetrics"]],
    onSuccess: () => setEditing(false),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const patch: Overrides = {};
    for (const m of metrics) {
      const range: { min?: number | null; max?: number | null } = {};
      for (const side of ["min", "max"] as const) {
        const text = values[`${m}.${side}`] ?? "";
        const own = plant.thresholds[m][side].source === "plant";
        const parsed = numberField(text);
        if (parsed === undefined) {
          if (own) range[side] = null; // back to the species' value
        } else if (!own || parsed !== plant.thresholds[m][side].value) range[side] = parsed;
      }
      if (Object.keys(range).length > 0) patch[m] = range;
    }
    save.mutate(patch);
  };
  const cancel = () => {
    setValues(initial());
    setEditing(false);
    save.reset();
  };

  const cell = (m: Metric, side: Side) => {
    const bound = plant.thresholds[m][side];
    const key = `${m}.${side}`;
    const error = fieldError(save.error, `thresholds.${m}.${side}`) ?? (side === "max" ? fieldError(save.error, `thresholds.${m}`) : undefined);
    return (
      <td className={error ? "invalid" : undefined}>
        {editing ? (
          <input
            aria-label={`${metricLabel(m)} ${side}`}
            inputMode="decimal"
            value={values[key] ?? ""}
            placeholder={bound.source === "species" ? String(bound.value) : "species value"}
            onChange={(e) => setValues({ ...values, [key]: e.target.value })}
          />
        ) : (
          <span data-testid={`threshold-${m}-${side}`}>{bound.value ?? "–"}</span>
        )}{" "}
        <Badge tone={SOURCE[bound.source].tone} title={`in force: ${bound.value ?? "none"}, from ${SOURCE[bound.source].label}`}>
          {SOURCE[bound.source].label}
        </Badge>
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </td>
    );
  };

  return (
    <Section
      title="Ranges in force"
      id="thresholds"
      actions={
        site.canEdit && !editing ? (
          <button type="button" className="small" onClick={() => setEditing(true)}>
            Edit overrides
          </button>
        ) : null
      }
    >
      <form onSubmit={submit} aria-label="Threshold overrides">
        <table className="table thresholds">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Minimum</th>
              <th>Maximum</th>
            </tr>
          </thead>
          <tbody>
            {metrics.map((m) => (
              <tr key={m}>
                <th scope="row">
                  {metricLabel(m)} <small>{plant.thresholds[m].unit}</small>
                </th>
                {cell(m, "min")}
                {cell(m, "max")}
              </tr>
            ))}
          </tbody>
        </table>
        {editing ? (
          <>
            <p className="hint">Leave a field empty to use the species' value. Rules that follow “the plant's range” use these at once.</p>
            <FormError error={save.error} fields={["thresholds"]} />
            <div className="actions">
              <button type="button" onClick={cancel}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={save.isPending}>
                Save ranges
              </button>
            </div>
          </>
        ) : null}
      </form>
    </Section>
  );
}
