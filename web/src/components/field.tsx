import { type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes, useId } from "react";
import "./field.css";

interface FieldShellProps {
  label: ReactNode;
  /** The control's id; the label points at it. */
  id: string;
  hint?: ReactNode;
  error?: string | undefined;
  optional?: boolean;
  children: ReactNode;
}

/**
 * The hint and the error share one reserved place: an error covers the hint instead of pushing the
 * fields below it down, and a field without a hint keeps one line free for its error.
 */
export function FieldMessage({
  id,
  hint,
  error,
}: {
  id: string;
  hint?: ReactNode;
  error?: string | undefined;
}) {
  return (
    <div className="field-message">
      {hint && (
        <div className="field-hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      <div className="field-error" id={`${id}-error`} role={error ? "alert" : undefined}>
        {error ?? ""}
      </div>
    </div>
  );
}

/** Label, control, then the hint or the error in a place reserved for them. */
export function FieldShell({ label, id, hint, error, optional, children }: FieldShellProps) {
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label className="field-label" htmlFor={id}>
        {label}
        {optional && <span className="field-optional"> (optional)</span>}
      </label>
      {children}
      <FieldMessage id={id} hint={hint} error={error} />
    </div>
  );
}

function describedBy(id: string, hint: ReactNode, error: string | undefined): string {
  return [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
}

type TextFieldProps = Omit<InputHTMLAttributes<HTMLInputElement>, "id"> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  optional?: boolean;
  id?: string;
};

export function TextField({ label, hint, error, optional, id: givenId, ...input }: TextFieldProps) {
  const generated = useId();
  const id = givenId ?? generated;
  return (
    <FieldShell label={label} id={id} hint={hint} error={error} optional={optional}>
      <input
        id={id}
        className="input"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error) || undefined}
        {...input}
      />
    </FieldShell>
  );
}

/** The name of an app or a workspace: required, and at most the server's 100 characters. */
export function NameField({
  value,
  onChange,
  ...field
}: Omit<TextFieldProps, "name" | "required" | "maxLength" | "value" | "onChange"> & {
  value: string;
  onChange(value: string): void;
}) {
  return (
    <TextField
      name="name"
      required
      maxLength={100}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      {...field}
    />
  );
}

type SelectFieldProps = Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> & {
  label: ReactNode;
  hint?: ReactNode;
  error?: string | undefined;
  id?: string;
  options: { value: string; label: string }[];
};

export function SelectField({ label, hint, error, id: givenId, options, ...select }: SelectFieldProps) {
  const generated = useId();
  const id = givenId ?? generated;
  return (
    <FieldShell label={label} id={id} hint={hint} error={error}>
      <select
        id={id}
        className="input select"
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, hint, error) || undefined}
        {...select}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </FieldShell>
  );
}

/** A form's submit button, its label saying so while the form sends, and the outcome ("Saved") beside it. */
export function SubmitActions({
  label,
  busy,
  busyLabel = "Saving…",
  disabled = false,
  status,
  buttonClassName = "btn btn-primary",
  statusClassName = "form-status",
}: {
  label: string;
  busy: boolean;
  busyLabel?: string;
  /** Besides while busy, such as when nothing has changed. */
  disabled?: boolean;
  /** Announced politely: "Saved", "Unsaved changes", or nothing. */
  status: string;
  buttonClassName?: string;
  statusClassName?: string;
}) {
  return (
    <div className="form-actions">
      <button type="submit" className={buttonClassName} disabled={busy || disabled}>
        {busy ? busyLabel : label}
      </button>
      <span className={statusClassName} role="status">
        {status}
      </span>
    </div>
  );
}
