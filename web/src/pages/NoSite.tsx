import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Field, FormError, fieldError } from "../components/ui";
import { api, useApiMutation, type Outputs } from "../lib/api";
import { navigate } from "../lib/router";
import { sitePath } from "../lib/site";

/** Someone who left (or was removed from) every site: make a new one, or sign out. */
export function NoSite({ me }: { me: Outputs["auth"]["me"] }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(`${me.user.displayName}'s plants`);
  const create = useApiMutation(() => api.sites.create.mutate({ name, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone }), {
    invalidate: [["sites"]],
    onSuccess: (site) => navigate(sitePath(site.id)),
  });
  const logout = useApiMutation(() => api.auth.logout.mutate(), { onSuccess: () => void queryClient.resetQueries() });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <main className="signin">
      <div className="signin-card">
        <h1 className="brand-title">
          <img src="/favicon.svg" alt="" width={36} height={36} /> Verdant
        </h1>
        <p>You are not a member of any site. Ask an owner to invite you ({me.user.email}), or start a site of your own.</p>
        <form onSubmit={submit} aria-label="New site">
          <Field label="Site name" error={fieldError(create.error, "name")}>
            <input value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <FormError error={create.error} fields={["name"]} />
          <button type="submit" className="primary wide" disabled={create.isPending}>
            Create site
          </button>
        </form>
        <p className="switch">
          <button type="button" className="link" onClick={() => logout.mutate()}>
            Log out
          </button>
        </p>
      </div>
    </main>
  );
}
