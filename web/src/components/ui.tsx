import { cloneElement, isValidElement, useEffect, useId, useRef, type ReactElement, type ReactNode } from "react";
import { issuesOf, messageOf } from "../lib/api";

/** The message of the issue on this field (or inside it: "thresholds.soil_moisture" covers its min and max). */
export function fieldError(error: unknown, ...paths: string[]): string | undefined {
  const issue = issuesOf(error).find((i) => paths.some((p) => i.path === p || i.path.startsWith(`${p}.`)));
  return issue?.message;
}

/**
 * A labelled form control with its hint or its error under it. The label names the control (and
 * only it: a wrapping label would fold the options of a select into the name), and the note is
 * the control's description, so screen readers read the error with the field.
 */
export function Field(props: { label: ReactNode; error?: string | undefined; hint?: ReactNode; children: ReactNode; className?: string }) {
  const id = useId();
  const note = props.error || props.hint ? `${id}-note` : undefined;
  const child = isValidElement<{ id?: string }>(props.children)
    ? cloneElement(props.children as ReactElement<Record<string, unknown>>, {
        id: props.children.props.id ?? id,
        "aria-invalid": props.error ? true : undefined,
        "aria-describedby": note,
      })
    : props.children;
  return (
    <div className={`field ${props.error ? "invalid" : ""} ${props.className ?? ""}`}>
      <label className="field-label" htmlFor={isValidElement<{ id?: string }>(props.children) ? (props.children.props.id ?? id) : undefined}>
        {props.label}
      </label>
      {child}
      {props.error ? (
        <span className="field-error" role="alert" id={note}>
          {props.error}
        </span>
      ) : props.hint ? (
        <span className="hint" id={note}>
          {props.hint}
        </span>
      ) : null}
    </div>
  );
}

/**
 * What a failed call says that no field of the form shows: its message when no issue names a
 * field here, and issues on fields the form does not have.
 */
export function FormError({ error, fields = [] }: { error: unknown; fields?: string[] }) {
  if (!error) return null;
  const issues = issuesOf(error);
  const shown = (path: string) => fields.some((f) => path === f || path.startsWith(`${f}.`));
  const rest = issues.filter((i) => !shown(i.path));
  if (issues.length > 0 && rest.length === 0) return null;
  return (
    <p className="form-error" role="alert">
      {rest.length > 0 ? rest.map((i) => `${i.path}: ${i.message}`).join("; ") : messageOf(error)}
    </p>
  );
}

export function Badge({ tone = "neutral", children, title }: { tone?: "ok" | "warn" | "bad" | "info" | "neutral" | "muted"; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

export function Section({ title, actions, children, id }: { title: ReactNode; actions?: ReactNode; children: ReactNode; id?: string }) {
  return (
    <section className="panel" id={id} aria-labelledby={id ? `${id}-title` : undefined}>
      <header className="panel-head">
        <h2 id={id ? `${id}-title` : undefined}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="loading" aria-busy="true">
      {label}
    </p>
  );
}

export function QueryError({ error }: { error: unknown }) {
  return (
    <p className="form-error" role="alert">
      {messageOf(error)}
    </p>
  );
}

/** A modal dialog (the native element: focus trapping and Escape come with it). */
export function Dialog({ open, onClose, title, children, wide }: { open: boolean; onClose: () => void; title: ReactNode; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog ref={ref} className={wide ? "wide" : undefined} onClose={onClose} aria-label={typeof title === "string" ? title : undefined}>
      {open ? (
        <>
          <header className="dialog-head">
            <h2>{title}</h2>
            <button type="button" className="icon" onClick={onClose} aria-label="Close">
              ×
            </button>
          </header>
          {children}
        </>
      ) : null}
    </dialog>
  );
}

/** A text to copy (a device token, a snippet) with a copy button. */
export function CopyBlock({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const copy = () => void navigator.clipboard?.writeText(text).catch(() => {});
  return (
    <div className="copy-block">
      <div className="copy-head">
        <span>{label}</span>
        <button type="button" className="small" onClick={copy}>
          Copy
        </button>
      </div>
      <pre data-testid={testId}>{text}</pre>
    </div>
  );
}
