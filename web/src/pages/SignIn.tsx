import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { api, useApiMutation } from "../lib/api";
import { Field, FormError, fieldError } from "../components/ui";

/**
 * Signing in, and creating an account. On a new installation (no account yet) the page opens on
 * the first-run form: the first account also becomes the owner of the demo site.
 */
export function SignIn({ firstRun, demoSite }: { firstRun: boolean; demoSite: boolean }) {
  const [mode, setMode] = useState<"login" | "register">(firstRun ? "register" : "login");
  return (
    <main className="signin">
      <div className="signin-card">
        <h1 className="brand-title">
          <img src="/favicon.svg" alt="" width={36} height={36} /> Verdant
        </h1>
        {firstRun ? (
          <div className="welcome" data-testid="first-run">
            <h2>Welcome to your new Verdant</h2>
            <p>
              Create the first account of this installation.{" "}
              {demoSite ? "It will own the demo site, “Demo balcony”, so you can look around with its plants and readings, and invite others later." : "You can invite others later."}
            </p>
          </div>
        ) : null}
        {mode === "login" ? <LoginForm /> : <RegisterForm />}
        <p className="switch">
          {mode === "login" ? (
            <>
              No account yet?{" "}
              <button type="button" className="link" onClick={() => setMode("register")}>
                Create one
              </button>
            </>
          ) : (
            <>
              Already have an account?{" "}
              <button type="button" className="link" onClick={() => setMode("login")}>
                Sign in
              </button>
            </>
          )}
        </p>
      </div>
    </main>
  );
}

function useSignedIn() {
  const queryClient = useQueryClient();
  // Everything cached belonged to nobody (or to the previous account): start afresh.
  return () => void queryClient.resetQueries();
}

function LoginForm() {
  const signedIn = useSignedIn();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useApiMutation((input: { email: string; password: string }) => api.auth.login.mutate({ ...input, client: "web" }), { onSuccess: signedIn });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ email, password });
  };
  return (
    <form onSubmit={submit} aria-label="Sign in">
      <Field label="Email" error={fieldError(login.error, "email")}>
        <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} required />
      </Field>
      <Field label="Password" error={fieldError(login.error, "password")}>
        <input type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      </Field>
      <FormError error={login.error} fields={["email", "password"]} />
      <button type="submit" className="primary wide" disabled={login.isPending}>
        {login.isPending ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

function RegisterForm() {
  const signedIn = useSignedIn();
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const register = useApiMutation(
    (input: { displayName: string; email: string; password: string }) => api.auth.register.mutate({ ...input, timezone, client: "web" }),
    { onSuccess: signedIn },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    register.mutate({ displayName, email, password });
  };
  return (
    <form onSubmit={submit} aria-label="Create account">
      <Field label="Your name" error={fieldError(register.error, "displayName")}>
        <input autoComplete="name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
      </Field>
      <Field label="Email" error={fieldError(register.error, "email")}>
        <input type="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <Field label="Password" error={fieldError(register.error, "password")} hint="At least 10 characters; a few words make a good one.">
        <input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
      </Field>
      <FormError error={register.error} fields={["displayName", "email", "password", "timezone"]} />
      <button type="submit" className="primary wide" disabled={register.isPending}>
        {register.isPending ? "Creating…" : "Create account"}
      </button>
      <p className="hint">Your garden's time zone: {timezone} (change it per site in Settings).</p>
    </form>
  );
}
