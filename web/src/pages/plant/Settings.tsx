import { useState, type FormEvent } from "react";
import { Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { numberField } from "../../lib/format";
import { navigate } from "../../lib/router";
import { sitePath, useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];

const MATERIALS = ["plastic", "terracotta", "ceramic", "glazed", "fabric", "wood", "metal", "concrete", "other"] as const;

/** Name, place, pot and watering interval; archiving keeps the history and stops new tasks. */
export function PlantSettings({ plant }: { plant: Plant }) {
  const site = useSite();
  const [values, setValues] = useState({
    name: plant.name,
    location: plant.location ?? "",
    indoor: plant.indoor,
    potSizeCm: plant.potSizeCm === null ? "" : String(plant.potSizeCm),
    potMaterial: plant.potMaterial ?? "",
    wateringIntervalDays: plant.wateringIntervalDays === null ? "" : String(plant.wateringIntervalDays),
    notes: plant.notes ?? "",
  });
  const set = (name: keyof typeof values) => (event: { target: { value: string } }) => setValues({ ...values, [name]: event.target.value });
  const save = useApiMutation(
    () =>
      api.plants.update.mutate({
        siteId: site.id,
        plantId: plant.id,
        name: values.name,
        location: values.location || null,
        indoor: values.indoor,
        potSizeCm: numberField(values.potSizeCm) ?? null,
        potMaterial: (values.potMaterial || null) as (typeof MATERIALS)[number] | null,
        wateringIntervalDays: numberField(values.wateringIntervalDays) ?? null,
        notes: values.notes || null,
      }),
    { invalidate: [["plants"]] },
  );
  const archive = useApiMutation(
    (archived: boolean) => (archived ? api.plants.archive.mutate({ siteId: site.id, plantId: plant.id }) : api.plants.restore.mutate({ siteId: site.id, plantId: plant.id })),
    { invalidate: [["plants"]], onSuccess: (p) => p.archivedAt && navigate(sitePath(site.id)) },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  if (!site.canEdit) {
    return (
      <Section title="About this plant" id="plant-settings">
        <dl className="facts">
          <dt>Pot</dt>
          <dd>{[plant.potSizeCm ? `${plant.potSizeCm} cm` : null, plant.potMaterial].filter(Boolean).join(", ") || "–"}</dd>
          <dt>Watering interval</dt>
          <dd>{plant.watering.intervalDays ? `${plant.watering.intervalDays} days (${plant.watering.intervalSource})` : "–"}</dd>
          <dt>Notes</dt>
          <dd>{plant.notes ?? "–"}</dd>
        </dl>
      </Section>
    );
  }
  return (
    <Section title="Plant settings" id="plant-settings">
      <form className="stack" onSubmit={submit} aria-label="Plant settings">
        <Field label="Name" error={fieldError(save.error, "name")}>
          <input value={values.name} onChange={set("name")} />
        </Field>
        <Field label="Where it stands" error={fieldError(save.error, "location")}>
          <input value={values.location} onChange={set("location")} />
        </Field>
        <label className="check">
          <input type="checkbox" checked={values.indoor} onChange={(e) => setValues({ ...values, indoor: e.target.checked })} /> Indoors
        </label>
        <div className="row">
          <Field label="Pot (cm)" error={fieldError(save.error, "potSizeCm")}>
            <input inputMode="numeric" value={values.potSizeCm} onChange={set("potSizeCm")} />
          </Field>
          <Field label="Material" error={fieldError(save.error, "potMaterial")}>
            <select value={values.potMaterial} onChange={set("potMaterial")}>
              <option value="">–</option>
              {MATERIALS.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <Field
          label="Water every (days)"
          error={fieldError(save.error, "wateringIntervalDays")}
          hint={plant.watering.intervalSource === "species" ? `empty: the species' ${plant.watering.intervalDays} days` : "empty: the species' interval"}
        >
          <input inputMode="numeric" value={values.wateringIntervalDays} onChange={set("wateringIntervalDays")} />
        </Field>
        <Field label="Notes" error={fieldError(save.error, "notes")}>
          <textarea rows={3} value={values.notes} onChange={set("notes")} />
        </Field>
        <FormError error={save.error ?? archive.error} fields={["name", "location", "potSizeCm", "potMaterial", "wateringIntervalDays", "notes"]} />
        <div className="actions">
          {save.isSuccess ? <span className="saved">Saved</span> : null}
          <button type="button" className="danger" onClick={() => confirm(plant.archivedAt ? "Restore this plant?" : "Archive this plant? Its history stays.") && archive.mutate(!plant.archivedAt)}>
            {plant.archivedAt ? "Restore" : "Archive"}
          </button>
          <button type="submit" className="primary" disabled={save.isPending}>
            Save
          </button>
        </div>
      </form>
    </Section>
  );
}
