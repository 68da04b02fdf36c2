import { type ChangeEvent, type ReactNode, useId, useState } from "react";
import { Badge } from "../../components/feedback.tsx";
import { FieldMessage, FieldShell, SelectField, TextField } from "../../components/field.tsx";
import type { FieldValue, SecretStatus } from "./provider-form-state.ts";
import type { KindField } from "./provider-kinds.ts";
import "./kind-fields.css";

/** What every input of a kind's form gets: its metadata, its value, and an error from the last save or test. */
export interface FieldProps {
  field: KindField;
  value: FieldValue;
  onChange(value: FieldValue): void;
  error: string | undefined;
}

/** How a secret field stands: kept (shown as set, with Replace), or to be entered, and why. */
export interface SecretState {
  status: SecretStatus;
  /** The labels of the destination fields changed since the save: the stored secret is void. */
  changed: string[];
  replacing: boolean;
  onReplace(replacing: boolean): void;
}

const text = (value: FieldValue) => (typeof value === "string" ? value : "");

const describedBy = (id: string, hint: ReactNode, error: string | undefined) =>
  [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;

/**
 * A label after "the" in a sentence: "the client secret", "the private key (PEM)" for "Its private key
 * (PEM)", but "the SMTP host" (an acronym keeps its case).
 */
export function inSentence(label: string): string {
  const noun = label.replace(/^(its|your|the) /i, "");
  return /^.[a-z]/.test(noun) ? noun.charAt(0).toLowerCase() + noun.slice(1) : noun;
}

/** "A", "A or B", "A, B or C". */
export function orList(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

function TextInput({ field, value, onChange, error }: FieldProps) {
  return (
    <TextField
      label={field.label}
      optional={!field.required}
      name={field.name}
      type={field.input === "date" || field.input === "password" ? field.input : "text"}
      inputMode={field.input === "number" ? "numeric" : undefined}
      autoComplete={field.autocomplete ?? "off"}
      spellCheck={false}
      placeholder={field.placeholder}
      value={text(value)}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      hint={field.help}
    />
  );
}

function SelectInput({ field, value, onChange, error }: FieldProps) {
  const options = field.options ?? [];
  const chosen = options.find((o) => o.value === value);
  return (
    <SelectField
      label={field.label}
      name={field.name}
      value={text(value)}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      hint={chosen?.help ?? field.help}
      options={options}
    />
  );
}

/** Radio buttons, each option with its own help: for a choice that needs explaining (SMTP or Graph). */
function ChoiceInput({ field, value, onChange, error }: FieldProps) {
  const id = useId();
  return (
    <fieldset
      className={`field fieldset-plain${error ? " field-invalid" : ""}`}
      aria-describedby={describedBy(id, field.help, error)}
    >
      <legend className="field-label">{field.label}</legend>
      <div className="kind-choice">
        {(field.options ?? []).map((option) => (
          <label key={option.value} className="choice-card kind-choice-option">
            <input
              type="radio"
              name={field.name}
              value={option.value}
              checked={value === option.value}
              onChange={() => onChange(option.value)}
              aria-invalid={error ? true : undefined}
            />
            <span className="choice-card-text">
              <span className="kind-choice-label">{option.label}</span>
              {option.help && <span className="field-hint">{option.help}</span>}
            </span>
          </label>
        ))}
      </div>
      <FieldMessage id={id} hint={field.help} error={error} />
    </fieldset>
  );
}

function CheckboxInput({ field, value, onChange, error }: FieldProps) {
  const id = useId();
  return (
    <div className={`field${error ? " field-invalid" : ""}`}>
      <label className="checkbox">
        <input
          type="checkbox"
          name={field.name}
          checked={value === true}
          onChange={(e) => onChange(e.target.checked)}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, field.help, error)}
        />
        <span>
          <span className="checkbox-label">{field.label}</span>
          {field.help && (
            <span className="field-hint" id={`${id}-hint`}>
              {field.help}
            </span>
          )}
        </span>
      </label>
      <FieldMessage id={id} error={error} />
    </div>
  );
}

// A PEM certificate chain or key is a few kilobytes; anything much larger is the wrong file.
const MAX_PEM_BYTES = 64 * 1024;

/** The control of a secret field that is to be entered: a one-line password, or PEM text. */
function SecretControl({
  field,
  value,
  onChange,
  error,
  id,
  hint,
  focus,
}: FieldProps & { id: string; hint: ReactNode; focus: boolean }) {
  const props = {
    id,
    name: field.name,
    value: text(value),
    "aria-invalid": error ? (true as const) : undefined,
    "aria-describedby": describedBy(id, hint, error),
    // Focus follows the user's click on Replace.
    autoFocus: focus,
  };
  return field.input === "pem" ? (
    <PemControl {...props} field={field} onText={onChange} />
  ) : (
    <input
      {...props}
      className="input"
      type="password"
      autoComplete={field.autocomplete ?? "new-password"}
      placeholder={field.placeholder}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

/** PEM text: pasted, or read from a file the user picks (read in the browser, sent only on save). */
function PemControl({
  field,
  onText,
  ...textarea
}: {
  field: KindField;
  onText(value: string): void;
  id: string;
  name: string;
  value: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
  autoFocus?: boolean;
}) {
  const [fileProblem, setFileProblem] = useState<string>();
  const readFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = "";
    if (!file) return;
    if (file.size > MAX_PEM_BYTES) {
      setFileProblem(
        `${file.name} is larger than a PEM file of this kind (${MAX_PEM_BYTES / 1024} KB at most).`,
      );
      return;
    }
    setFileProblem(undefined);
    onText(await file.text());
  };
  return (
    <>
      <textarea
        {...textarea}
        className="input textarea input-mono pem-text"
        rows={6}
        spellCheck={false}
        placeholder={field.placeholder ?? "-----BEGIN …-----"}
        onChange={(e) => onText(e.target.value)}
      />
      <div className="pem-file">
        <label className="btn btn-secondary btn-sm pem-file-pick">
          <input
            type="file"
            className="visually-hidden"
            accept=".pem,.crt,.cer,.key,text/plain,application/x-pem-file"
            aria-label={`${field.label}: read from a file`}
            onChange={(e) => void readFile(e)}
          />
          Read from a file
        </label>
        {fileProblem && <span className="text-warning">{fileProblem}</span>}
      </div>
    </>
  );
}

/** A PEM field that is not secret (a certificate the developer uploads): text or a file. */
function PemInput({ field, value, onChange, error }: FieldProps) {
  const id = useId();
  return (
    <FieldShell label={field.label} id={id} hint={field.help} error={error} optional={!field.required}>
      <PemControl
        field={field}
        id={id}
        name={field.name}
        value={text(value)}
        onText={onChange}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, field.help, error)}
      />
    </FieldShell>
  );
}

/**
 * A write-only secret: once stored it shows as set, with Replace; a changed destination field asks for
 * it again, as the server does (`secret_required`): a stored secret never goes to a new destination.
 */
export function SecretInput({ secret, ...props }: FieldProps & { secret: SecretState }) {
  const { field, error } = props;
  const id = useId();
  const name = inSentence(field.label);
  if (secret.status.kept) {
    return (
      <fieldset className={`field fieldset-plain${error ? " field-invalid" : ""}`}>
        <legend className="field-label">{field.label}</legend>
        <div className="secret-set">
          <span className="secret-dots" aria-hidden="true">
            ••••••••••
          </span>
          <Badge tone="success">Set</Badge>
          <button
            type="button"
            className="btn btn-secondary btn-sm"
            aria-label={`Replace the saved ${name}`}
            onClick={() => secret.onReplace(true)}
          >
            Replace
          </button>
        </div>
        <FieldMessage
          id={id}
          hint="Saved encrypted. Postern never shows it again, and keeps it while you edit other fields."
          error={error}
        />
      </fieldset>
    );
  }
  const hint =
    secret.status.stored && secret.changed.length > 0 ? (
      <span className="text-warning">
        You changed the {orList(secret.changed.map(inSentence))}, so enter the {name} again: a saved secret is
        never sent to a different destination.
      </span>
    ) : secret.status.stored && secret.replacing ? (
      <>
        The new {name} replaces the saved one when you save.{" "}
        <button type="button" className="btn btn-link btn-inline" onClick={() => secret.onReplace(false)}>
          Keep the saved one
        </button>
      </>
    ) : (
      field.help
    );
  return (
    <FieldShell label={field.label} id={id} hint={hint} error={error}>
      <SecretControl {...props} id={id} hint={hint} focus={secret.replacing} />
    </FieldShell>
  );
}

/**
 * One renderer per input type; a kind's metadata picks them, the form never names a kind. A secret
 * field of any input goes through SecretInput; a certificate is the view's (CertificatePanel).
 */
export const fieldRenderers: Record<
  Exclude<KindField["input"], "certificate">,
  (props: FieldProps) => ReactNode
> = {
  text: TextInput,
  password: TextInput,
  number: TextInput,
  date: TextInput,
  select: SelectInput,
  choice: ChoiceInput,
  checkbox: CheckboxInput,
  pem: PemInput,
};
