import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Field, FormError, Section, fieldError } from "../components/ui";
import { api, useApiMutation } from "../lib/api";
import { navigate } from "../lib/router";
import { sitePath, useSite } from "../lib/site";
import { Webhooks } from "./settings/Webhooks";

const ROLES = ["owner", "editor", "viewer"] as const;
const ROLE_HINT = { owner: "everything, members and webhooks", editor: "plants, devices, rules", viewer: "looks only" } as const;

/** The site, its members and roles, webhook endpoints, and the signed-in person's quiet hours. */
export function SettingsPage() {
  const site = useSite();
  return (
    <>
      <div className="page-head">
        <h1>Settings</h1>
      </div>
      <SiteSection />
      <MembersSection />
      {site.canEdit ? <Webhooks /> : null}
      <QuietHoursSection />
      <NewSiteSection />
    </>
  );
}

function SiteSection() {
  const site = useSite();
  const [name, setName] = useState(site.name);
  const [timezone, setTimezone] = useState(site.timezone);
  const save = useApiMutation(() => api.sites.update.mutate({ siteId: site.id, name, timezone }), { invalidate: [["sites"]] });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  if (!site.isOwner) {
    return (
      <Section title="Site" id="site">
        <p>
          <strong>{site.name}</strong> · time zone {site.timezone} · your role: <Badge tone="info">{site.role}</Badge> ({ROLE_HINT[site.role]})
        </p>
      </Section>
    );
  }
  return (
    <Section title="Site" id="site">
      <form className="grid-form" onSubmit={submit} aria-label="Site">
        <Field label="Name" error={fieldError(save.error, "name")}>
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Time zone" error={fieldError(save.error, "timezone")} hint="schedules, tasks and daily figures follow it">
          <input value={timezone} onChange={(e) => setTimezone(e.target.value)} list="timezones" />
        </Field>
        <datalist id="timezones">
          {Intl.supportedValuesOf("timeZone").map((tz) => (
            <option key={tz} value={tz} />
          ))}
        </datalist>
        <FormError error={save.error} fields={["name", "timezone"]} />
        <div className="actions">
          {save.isSuccess ? <span className="saved">Saved</span> : null}
          <button type="submit" className="primary" disabled={save.isPending}>
            Save
          </button>
        </div>
      </form>
    </Section>
  );
}

function MembersSection() {
  const site = useSite();
  const me = useQuery({ queryKey: ["auth", "me"], queryFn: () => api.auth.me.query() });
  const members = useQuery({ queryKey: ["sites", "members", site.id], queryFn: () => api.sites.members.query({ siteId: site.id }) });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<(typeof ROLES)[number]>("viewer");
  const invite = useApiMutation(() => api.sites.invite.mutate({ siteId: site.id, email, role }), { invalidate: [["sites", "members"]], onSuccess: () => setEmail("") });
  const change = useApiMutation(
    (input: { userId: string; role: (typeof ROLES)[number] }) => api.sites.changeRole.mutate({ siteId: site.id, ...input }),
    { invalidate: [["sites"]] },
  );
  const remove = useApiMutation((userId: string) => api.sites.removeMember.mutate({ siteId: site.id, userId }), { invalidate: [["sites", "members"]] });
  const leave = useApiMutation(() => api.sites.leave.mutate({ siteId: site.id }), {
    invalidate: [["sites"]],
    onSuccess: () => navigate("/", { replace: true }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    invite.mutate();
  };
  return (
    <Section title="Members" id="members">
      <table className="table" data-testid="members">
        <thead>
          <tr>
            <th>Who</th>
            <th>Role</th>
            {site.isOwner ? <th /> : null}
          </tr>
        </thead>
        <tbody>
          {members.data?.map((m) => (
            <tr key={m.userId}>
              <td>
                {m.displayName} <small className="muted">{m.email}</small>
              </td>
              <td>
                {site.isOwner ? (
                  <select aria-label={`Role of ${m.email}`} value={m.role} onChange={(e) => change.mutate({ userId: m.userId, role: e.target.value as (typeof ROLES)[number] })}>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                ) : (
                  <Badge tone="muted">{m.role}</Badge>
                )}
              </td>
              {site.isOwner ? (
                <td>
                  {m.userId !== me.data?.user.id ? (
                    <button type="button" className="small danger" onClick={() => confirm(`Remove ${m.email} from ${site.name}?`) && remove.mutate(m.userId)}>
                      Remove
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      <FormError error={change.error ?? remove.error ?? leave.error} />
      {site.isOwner ? (
        <form className="inline" onSubmit={submit} aria-label="Invite a member">
          <Field label="Invite by email" error={fieldError(invite.error, "email")} hint="they need an account on this Verdant">
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
          </Field>
          <Field label="as" error={fieldError(invite.error, "role")} hint={ROLE_HINT[role]}>
            <select value={role} onChange={(e) => setRole(e.target.value as (typeof ROLES)[number])}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" className="primary" disabled={invite.isPending}>
            Invite
          </button>
          <FormError error={invite.error} fields={["email", "role"]} />
        </form>
      ) : null}
      <p>
        <button type="button" className="link" onClick={() => confirm(`Leave ${site.name}? You lose access to it.`) && leave.mutate()}>
          Leave this site
        </button>
      </p>
    </Section>
  );
}

function QuietHoursSection() {
  const quiet = useQuery({ queryKey: ["auth", "quietHours"], queryFn: () => api.auth.quietHours.query() });
  return (
    <Section title="My quiet hours" id="quiet">
      {quiet.data ? <QuietHoursForm initial={quiet.data} /> : null}
    </Section>
  );
}

function QuietHoursForm({ initial }: { initial: { quietStart: string | null; quietEnd: string | null; timezone: string | null } }) {
  const [start, setStart] = useState(initial.quietStart ?? "");
  const [end, setEnd] = useState(initial.quietEnd ?? "");
  const save = useApiMutation(
    () => api.auth.setQuietHours.mutate({ quietStart: start || null, quietEnd: end || null, timezone: initial.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone }),
    { invalidate: [["auth", "quietHours"]] },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="inline" onSubmit={submit} aria-label="Quiet hours">
      <Field label="From" error={fieldError(save.error, "quietStart")}>
        <input type="time" value={start} onChange={(e) => setStart(e.target.value)} />
      </Field>
      <Field label="until" error={fieldError(save.error, "quietEnd")}>
        <input type="time" value={end} onChange={(e) => setEnd(e.target.value)} />
      </Field>
      <button type="submit" className="primary" disabled={save.isPending}>
        Save
      </button>
      {save.isSuccess ? <span className="saved">Saved</span> : null}
      <FormError error={save.error} fields={["quietStart", "quietEnd"]} />
      <p className="hint wide">
        Webhooks that name you as recipient hold non-critical notifications during these hours (in {initial.timezone ?? "your time zone"}); empty both to turn them off.
      </p>
    </form>
  );
}

function NewSiteSection() {
  const [name, setName] = useState("");
  const create = useApiMutation(() => api.sites.create.mutate({ name, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone }), {
    invalidate: [["sites"]],
    onSuccess: (site) => navigate(sitePath(site.id)),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Section title="Another site" id="new-site">
      <form className="inline" onSubmit={submit} aria-label="New site">
        <Field label="Name" error={fieldError(create.error, "name")} hint="a greenhouse, an allotment: each site has its own plants, devices and members">
          <input value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <button type="submit" disabled={create.isPending}>
          Create site
        </button>
        <FormError error={create.error} fields={["name"]} />
      </form>
    </Section>
  );
}
