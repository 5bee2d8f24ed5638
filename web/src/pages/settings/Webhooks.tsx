import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, CopyBlock, Dialog, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime } from "../../lib/format";
import { useSite } from "../../lib/site";

type Webhook = Outputs["notifications"]["webhooks"][number];
const EVENTS = ["alert.raised", "alert.resolved", "notification"] as const;
const SEVERITIES = ["info", "warning", "critical"] as const;
const DELIVERY_TONE = { pending: "info", delivered: "ok", failed: "bad" } as const;

/** Webhook endpoints (owners manage them; editors see them and their delivery log). */
export function Webhooks() {
  const site = useSite();
  const hooks = useQuery({ queryKey: ["notifications", "webhooks", site.id], queryFn: () => api.notifications.webhooks.query({ siteId: site.id }) });
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  return (
    <Section
      title="Webhooks"
      id="webhooks"
      actions={
        site.isOwner ? (
          <button type="button" className="small primary" onClick={() => setCreating(true)}>
            Add webhook
          </button>
        ) : null
      }
    >
      <p className="hint">Alerts and notifications are POSTed as signed JSON to these URLs (a chat webhook, Home Assistant, ntfy…).</p>
      {hooks.data && hooks.data.length === 0 ? <Empty>No webhooks: alerts stay in the inbox.</Empty> : null}
      <ul className="webhooks">
        {hooks.data?.map((hook) => <WebhookRow key={hook.id} hook={hook} onSecret={setSecret} />)}
      </ul>
      <Dialog open={creating} onClose={() => setCreating(false)} title="Add a webhook" wide>
        <WebhookForm onDone={(newSecret) => (setCreating(false), newSecret && setSecret(newSecret))} />
      </Dialog>
      <Dialog open={secret !== null} onClose={() => setSecret(null)} title="Signing secret">
        {secret ? (
          <div className="stack">
            <p>
              Shown <strong>only now</strong>. The receiver checks each delivery's <code>x-verdant-signature</code> with it.
            </p>
            <CopyBlock label="Secret" text={secret} testId="webhook-secret" />
            <div className="actions">
              <button type="button" className="primary" onClick={() => setSecret(null)}>
                Done
              </button>
            </div>
          </div>
        ) : null}
      </Dialog>
    </Section>
  );
}

function WebhookRow({ hook, onSecret }: { hook: Webhook; onSecret: (secret: string) => void }) {
  const site = useSite();
  const [open, setOpen] = useState(false);
  const invalidate = [["notifications"]];
  const test = useApiMutation(() => api.notifications.sendTest.mutate({ siteId: site.id, webhookId: hook.id }), { invalidate, onSuccess: () => setOpen(true) });
  const toggle = useApiMutation((enabled: boolean) => api.notifications.updateWebhook.mutate({ siteId: site.id, webhookId: hook.id, enabled }), { invalidate });
  const rotate = useApiMutation(() => api.notifications.rotateSecret.mutate({ siteId: site.id, webhookId: hook.id }), { invalidate, onSuccess: (r) => onSecret(r.secret) });
  const remove = useApiMutation(() => api.notifications.deleteWebhook.mutate({ siteId: site.id, webhookId: hook.id }), { invalidate });
  const deliveries = useQuery({
    queryKey: ["notifications", "deliveries", site.id, hook.id],
    queryFn: () => api.notifications.deliveries.query({ siteId: site.id, webhookId: hook.id, limit: 20 }),
    enabled: open,
    refetchInterval: open ? 5_000 : false,
  });
  return (
    <li data-testid="webhook">
      <div className="webhook-head">
        <div>
          <strong>{hook.name}</strong> {hook.enabled ? null : <Badge tone="muted">off</Badge>}
          <br />
          <small className="muted">
            {hook.url} · {hook.events.join(", ")} · {hook.minSeverity}+ · secret {hook.secretHint}
            {hook.quietStart ? ` · quiet ${hook.quietStart}–${hook.quietEnd}` : ""}
            {hook.digestTime ? ` · digest at ${hook.digestTime}` : ""}
          </small>
        </div>
        <div className="row-actions">
          {site.isOwner ? (
            <>
              <button type="button" className="small" onClick={() => test.mutate()} disabled={test.isPending}>
                Send test
              </button>
              <label className="check">
                <input type="checkbox" checked={hook.enabled} onChange={(e) => toggle.mutate(e.target.checked)} aria-label={`${hook.name} enabled`} /> on
              </label>
              <button type="button" className="small" onClick={() => confirm("Issue a new signing secret? The old one stops being used at once.") && rotate.mutate()}>
                Rotate secret
              </button>
              <button type="button" className="small danger" onClick={() => confirm(`Delete the webhook “${hook.name}”?`) && remove.mutate()}>
                Delete
              </button>
            </>
          ) : null}
          <button type="button" className="small" onClick={() => setOpen(!open)} aria-expanded={open}>
            Deliveries
          </button>
        </div>
      </div>
      <FormError error={test.error ?? toggle.error ?? rotate.error ?? remove.error} />
      {open ? (
        deliveries.data && deliveries.data.items.length > 0 ? (
          <table className="table compact" data-testid="deliveries">
            <tbody>
              {deliveries.data.items.map((d) => (
                <tr key={d.id}>
                  <td>{formatDateTime(d.createdAt, site.timezone)}</td>
                  <td>{d.event}</td>
                  <td>
                    <Badge tone={DELIVERY_TONE[d.status]}>{d.status}</Badge>
                  </td>
                  <td>
                    <small>
                      {d.attempts} attempt{d.attempts === 1 ? "" : "s"}
                      {d.lastStatus ? ` · HTTP ${d.lastStatus}` : ""}
                      {d.lastError ? ` · ${d.lastError}` : ""}
                      {d.heldUntil && d.status === "pending" ? ` · held until ${formatDateTime(d.heldUntil, site.timezone)}` : ""}
                    </small>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Empty>No deliveries yet.</Empty>
        )
      ) : null}
    </li>
  );
}

function WebhookForm({ onDone }: { onDone: (secret?: string) => void }) {
  const site = useSite();
  const members = useQuery({ queryKey: ["sites", "members", site.id], queryFn: () => api.sites.members.query({ siteId: site.id }) });
  const [v, setV] = useState({
    name: "",
    url: "",
    events: [...EVENTS] as string[],
    minSeverity: "warning" as (typeof SEVERITIES)[number],
    quietStart: "",
    quietEnd: "",
    criticalBypassesQuiet: true,
    digestTime: "",
    recipientUserId: "",
  });
  const create = useApiMutation(
    () =>
      api.notifications.createWebhook.mutate({
        siteId: site.id,
        name: v.name,
        url: v.url,
        events: v.events as (typeof EVENTS)[number][],
        minSeverity: v.minSeverity,
        quietStart: v.quietStart || null,
        quietEnd: v.quietEnd || null,
        criticalBypassesQuiet: v.criticalBypassesQuiet,
        digestTime: v.digestTime || null,
        recipientUserId: v.recipientUserId || null,
      }),
    { invalidate: [["notifications"]], onSuccess: (r) => onDone(r.secret) },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const err = (path: string) => fieldError(create.error, path);
  return (
    <form className="stack" onSubmit={submit} aria-label="Webhook">
      <div className="row">
        <Field label="Name" error={err("name")}>
          <input value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} placeholder="e.g. My phone" />
        </Field>
        <Field label="URL" error={err("url")}>
          <input value={v.url} onChange={(e) => setV({ ...v, url: e.target.value })} placeholder="https://…" />
        </Field>
      </div>
      <Field label="Send" error={err("events")}>
        <div className="checks">
          {EVENTS.map((event) => (
            <label key={event} className="check">
              <input
                type="checkbox"
                checked={v.events.includes(event)}
                onChange={(e) => setV({ ...v, events: e.target.checked ? [...v.events, event] : v.events.filter((x) => x !== event) })}
              />{" "}
              {event}
            </label>
          ))}
        </div>
      </Field>
      <div className="row">
        <Field label="From severity" error={err("minSeverity")}>
          <select value={v.minSeverity} onChange={(e) => setV({ ...v, minSeverity: e.target.value as (typeof SEVERITIES)[number] })}>
            {SEVERITIES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="Daily digest at" error={err("digestTime")} hint="optional">
          <input type="time" value={v.digestTime} onChange={(e) => setV({ ...v, digestTime: e.target.value })} />
        </Field>
      </div>
      <div className="row">
        <Field label="Quiet from" error={err("quietStart")}>
          <input type="time" value={v.quietStart} onChange={(e) => setV({ ...v, quietStart: e.target.value })} />
        </Field>
        <Field label="until" error={err("quietEnd")}>
          <input type="time" value={v.quietEnd} onChange={(e) => setV({ ...v, quietEnd: e.target.value })} />
        </Field>
      </div>
      <label className="check">
        <input type="checkbox" checked={v.criticalBypassesQuiet} onChange={(e) => setV({ ...v, criticalBypassesQuiet: e.target.checked })} /> critical alerts come through
        quiet hours
      </label>
      <Field label="Reaches (their own quiet hours apply too)" error={err("recipientUserId")}>
        <select value={v.recipientUserId} onChange={(e) => setV({ ...v, recipientUserId: e.target.value })}>
          <option value="">– nobody in particular –</option>
          {members.data?.map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.displayName} ({m.email})
            </option>
          ))}
        </select>
      </Field>
      <FormError error={create.error} fields={["name", "url", "events", "minSeverity", "quietStart", "quietEnd", "digestTime", "recipientUserId"]} />
      <div className="actions">
        <button type="button" onClick={() => onDone()}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          Add webhook
        </button>
      </div>
    </form>
  );
}
