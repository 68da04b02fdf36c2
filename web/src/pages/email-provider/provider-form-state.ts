import type { ProviderInput } from "../../api/types.ts";
import {
  isOfKind,
  type KindField,
  type ProviderKind,
  type ProviderView,
  viewValue,
} from "./provider-kinds.ts";

/** A field's value as the form holds it: text as typed (numbers too), a checkbox as a boolean. */
export type FieldValue = string | boolean;

/** What the form edits: the common sender fields, kept across a change of kind, and the kind's own fields. */
export interface ProviderForm {
  kindId: string;
  senderEmail: string;
  senderName: string;
  fallbackToDefault: boolean;
  /** The kind's fields by name, display-only ones (`certificate`) left out. */
  values: Record<string, FieldValue>;
  /** Secret fields the user chose to type again although the stored one could be kept. */
  replacing: Record<string, boolean>;
}

/** The common fields every kind's body has; rendered by the form shell, not listed in the metadata. */
export const commonFieldNames = ["senderEmail", "senderName", "fallbackToDefault"] as const;

/** Fields with something to enter (a certificate is only shown). */
const editable = (field: KindField) => field.input !== "certificate";

/** The saved provider, if it is of this kind (the form then starts from its values). */
export const savedOfKind = (kind: ProviderKind, saved: ProviderView | null): ProviderView | undefined =>
  saved && isOfKind(kind, saved) ? saved : undefined;

function initialValue(field: KindField, saved: ProviderView | undefined): FieldValue {
  const stored = saved && !field.secret ? viewValue(saved, field.name) : undefined;
  const value = stored ?? field.default;
  if (field.input === "checkbox") return value === true;
  if (value !== undefined && value !== null) return String(value);
  // A drop-down or radio group always has a choice: the first one unless the kind names a default.
  return field.input === "select" || field.input === "choice" ? (field.options?.[0]?.value ?? "") : "";
}

export function formFromProvider(kind: ProviderKind, saved: ProviderView | null): ProviderForm {
  const own = savedOfKind(kind, saved);
  return {
    kindId: kind.id,
    senderEmail: saved?.senderEmail ?? "",
    senderName: saved?.senderName ?? "",
    fallbackToDefault: saved?.fallbackToDefault ?? false,
    values: Object.fromEntries(
      kind.fields.filter(editable).map((field) => [field.name, initialValue(field, own)]),
    ),
    replacing: {},
  };
}

/** Whether a field is shown (and sent): its `when` names another field's value. */
export function isVisible(field: KindField, values: Record<string, FieldValue>): boolean {
  return !field.when || field.when.in.includes(String(values[field.when.field] ?? ""));
}

/** The value as the server will store it, for comparing with the saved view. */
function normalised(field: KindField, value: unknown): string {
  const text = typeof value === "string" ? value.trim() : String(value ?? "");
  return field.lowercase ? text.toLowerCase() : text;
}

/**
 * The destination fields changed since the provider was saved. The server voids every stored secret
 * then (`secret_required`): a saved password must never be replayed to a different server or tenant.
 */
export function changedDestinations(kind: ProviderKind, form: ProviderForm, saved: ProviderView | null) {
  const own = savedOfKind(kind, saved);
  if (!own) return [];
  return kind.fields.filter(
    (field) =>
      field.destination &&
      isVisible(field, form.values) &&
      normalised(field, form.values[field.name]) !== normalised(field, viewValue(own, field.name)),
  );
}

export interface SecretStatus {
  /** One is stored on the server (the view's `setFlag`). */
  stored: boolean;
  /** The stored one is used: the form sends none and shows it as set. */
  kept: boolean;
}

/** Every secret field of the kind, by name: left empty, a stored one is kept while no destination changed. */
export function secretStatuses(
  kind: ProviderKind,
  form: ProviderForm,
  saved: ProviderView | null,
): Record<string, SecretStatus> {
  const own = savedOfKind(kind, saved);
  const destinationChanged = changedDestinations(kind, form, saved).length > 0;
  return Object.fromEntries(
    kind.fields
      .filter((field) => field.secret)
      .map((field) => {
        const stored =
          own !== undefined && field.setFlag !== undefined && viewValue(own, field.setFlag) === true;
        return [field.name, { stored, kept: stored && !destinationChanged && !form.replacing[field.name] }];
      }),
  );
}

/** The fields shown and sent now: editable, and their `when` met. */
export const activeFields = (kind: ProviderKind, form: ProviderForm) =>
  kind.fields.filter((field) => editable(field) && isVisible(field, form.values));

const WHOLE_NUMBER = /^\d+$/;

/** Checks the browser can make without the server: a number must be one before it can be sent. */
export function localErrors(kind: ProviderKind, form: ProviderForm): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of activeFields(kind, form)) {
    const value = form.values[field.name];
    if (field.input !== "number" || typeof value !== "string") continue;
    const text = value.trim();
    if (text === "" && !field.required) continue;
    if (!WHOLE_NUMBER.test(text)) {
      errors[field.name] = field.placeholder
        ? `Enter a whole number, such as ${field.placeholder}.`
        : "Enter a whole number.";
    }
  }
  return errors;
}

/** A field's value in the body: numbers as numbers, text trimmed, an empty optional field left out. */
function bodyValue(field: KindField, value: FieldValue): FieldValue | number | undefined {
  if (typeof value === "boolean") return value;
  // Secrets go as typed: a password may begin or end with a space.
  const text = field.secret ? value : value.trim();
  if (text === "") return field.required ? text : undefined;
  if (field.input === "number") return WHOLE_NUMBER.test(text) ? Number(text) : undefined;
  return text;
}

/**
 * The PUT body (also the test's `config`): the kind's `match`, the common fields and the fields shown,
 * with a secret only when the user typed one (an empty one keeps the stored secret).
 */
export function providerInput(
  kind: ProviderKind,
  form: ProviderForm,
  saved: ProviderView | null,
): ProviderInput {
  const secrets = secretStatuses(kind, form, saved);
  const senderName = form.senderName.trim();
  const body: Record<string, unknown> = {
    ...kind.match,
    senderEmail: form.senderEmail.trim(),
    ...(senderName ? { senderName } : {}),
    fallbackToDefault: form.fallbackToDefault,
  };
  for (const field of activeFields(kind, form)) {
    const secret = secrets[field.name];
    const typed = form.values[field.name] ?? "";
    // A stored secret left empty is not sent: kept, or, after a destination change, the server's
    // `secret_required` says why it must be entered again.
    if (secret?.kept || (secret?.stored && typed === "")) continue;
    const value = bodyValue(field, typed);
    if (value !== undefined) body[field.name] = value;
  }
  // The body is the kind's, checked by the server against the kind's schema in one pass.
  return body as unknown as ProviderInput;
}

/** Whether the form says something other than what is saved (then tests run on the form's values). */
export function isDirty(kind: ProviderKind, form: ProviderForm, saved: ProviderView | null): boolean {
  const own = savedOfKind(kind, saved);
  if (!own) return true;
  const secrets = secretStatuses(kind, form, saved);
  // A secret changes the provider when one is typed, or when the stored one cannot be kept.
  const secretChanged = (field: KindField) => {
    const status = secrets[field.name];
    return (form.values[field.name] ?? "") !== "" || (status?.stored === true && !status.kept);
  };
  const active = activeFields(kind, form);
  if (active.some((field) => field.secret && secretChanged(field))) return true;
  const pristine = formFromProvider(kind, own);
  return (
    form.senderEmail.trim() !== pristine.senderEmail ||
    form.senderName.trim() !== pristine.senderName ||
    form.fallbackToDefault !== pristine.fallbackToDefault ||
    active.some(
      (field) =>
        !field.secret &&
        normalised(field, form.values[field.name]) !== normalised(field, pristine.values[field.name]),
    )
  );
}

/** The form without what must never be written to storage: secrets. */
export const withoutSecrets = (kind: ProviderKind, form: ProviderForm): ProviderForm => ({
  ...form,
  values: Object.fromEntries(
    Object.entries(form.values).filter(([name]) => !kind.fields.find((f) => f.name === name)?.secret),
  ),
  replacing: {},
});
