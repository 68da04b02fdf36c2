import { type FormEvent, Fragment, useEffect, useRef, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import {
  asProviderState,
  type EmailProviderState,
  type TestResult,
  type TestStepName,
} from "../../api/types.ts";
import { DraftNotice, FormError, Notice } from "../../components/feedback.tsx";
import { Tabs } from "../../components/tabs.tsx";
import { takeDraft, useKeepOnExpiry } from "../../drafts.ts";
import { CertificatePanel } from "./certificate-panel.tsx";
import { type FieldProps, fieldRenderers, SecretInput } from "./kind-fields.tsx";
import { kindGuides } from "./kind-guides.tsx";
import { type Busy, ProviderActions } from "./provider-actions.tsx";
import {
  changedDestinations,
  commonFieldNames,
  type FieldValue,
  formFromProvider,
  isDirty,
  isVisible,
  localErrors,
  type ProviderForm,
  providerInput,
  savedOfKind,
  secretStatuses,
  withoutSecrets,
} from "./provider-form-state.ts";
import { type KindField, kindOfProvider, type ProviderKind, type ProviderView } from "./provider-kinds.ts";
import { FallbackField, SenderFields } from "./sender-fields.tsx";
import { expectedSteps, TestResultView, TestRunning } from "./test-result.tsx";
import "./provider-form.css";

/**
 * Unsaved edits of this page's provider form, kept across a re-sign-in (never its secrets): the first
 * provider's under "email-provider" (as before there could be several), a saved one's under its id, a
 * fallback being added under "new".
 */
export const draftKey = (providerId: string | null, adding: boolean) =>
  providerId ? `email-provider:${providerId}` : adding ? "email-provider:new" : "email-provider";

/** Field errors of a test's `config` come back as `config.senderEmail`: same inputs, same place. */
function fieldErrorsOf(error: ApiError | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(error?.fieldErrors() ?? {})) {
    errors[field.replace(/^config\./, "")] ??= message;
  }
  return errors;
}

/**
 * The custom provider's form. Every kind's fields, labels, help, secrets and destinations come from
 * the registry (GET /api/email-provider-kinds): this component knows input types, never a kind.
 */
export function ProviderFormSection({
  appId,
  providerId,
  state,
  kinds,
  accountEmail,
  memberEmails,
  disabled,
  onSaved,
  onTested,
}: {
  appId: string;
  /** The saved provider this form edits; null: a new one, the first or a fallback after the others. */
  providerId: string | null;
  state: EmailProviderState;
  /** The registry's kinds, in the order they are offered (at least one). */
  kinds: ProviderKind[];
  accountEmail: string;
  /** Where a test email may go: the workspace's members (the server refuses anyone else). */
  memberEmails: string[];
  disabled: boolean;
  /** `savedId`: the provider saved (for a new one, its id from now on). */
  onSaved(next: EmailProviderState, savedId: string | undefined): void;
  onTested(): void;
}) {
  const providers: ProviderView[] = state.providers;
  const saved: ProviderView | null = providers.find((p) => p.id === providerId) ?? null;
  // A fallback is added after the others; the very first provider is saved as the primary.
  const adding = providerId === null && providers.length > 0;
  const DRAFT = draftKey(providerId, adding);
  const kindById = (id: string) => kinds.find((k) => k.id === id);
  const [draft] = useState(() => {
    const kept = takeDraft<ProviderForm>(DRAFT);
    return kept && kindById(kept.kindId) ? kept : undefined;
  });
  const [restored, setRestored] = useState(draft !== undefined);
  const [form, setForm] = useState<ProviderForm>(
    () => draft ?? formFromProvider(kindOfProvider(kinds, saved) ?? kinds[0]!, saved),
  );
  const kind = kindById(form.kindId) ?? kinds[0]!;
  const own = savedOfKind(kind, saved);
  const [busy, setBusy] = useState<Busy>();
  const [error, setError] = useState<ApiError>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [attempt, setAttempt] = useState(0);
  const [savedNote, setSavedNote] = useState(false);
  const [test, setTest] = useState<{ result: TestResult; sent: boolean; to: string }>();
  const [running, setRunning] = useState<{ steps: TestStepName[]; sending: boolean }>();
  // The form as it was when a test of unsaved values passed: saving exactly that is checked again as
  // the saved provider, so the card above does not say "Not checked yet" over a test that just passed.
  const passedUnsaved = useRef<string | undefined>(undefined);
  const formRef = useRef<HTMLFormElement>(null);

  const shown = kind.fields.filter((field) => isVisible(field, form.values));
  const secrets = secretStatuses(kind, form, saved);
  const changed = changedDestinations(kind, form, saved).map((field) => field.label);
  const dirty = isDirty(kind, form, saved);
  useKeepOnExpiry(DRAFT, withoutSecrets(kind, form), dirty);

  const errors = { ...fieldErrorsOf(error), ...local };
  const inline = new Set<string>([...commonFieldNames, ...shown.map((field) => field.name)]);
  const inlineShown = Object.keys(errors).some((field) => inline.has(field));
  // After a save or test that found errors, focus goes to the first invalid field, in the form's order.
  useEffect(() => {
    if (attempt === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [attempt]);

  // The saved provider's warnings (a secret about to expire): beside their field, or above the form.
  const warnings = own?.warnings ?? [];
  const besideField = (field: KindField) => warnings.filter((w) => w.field === field.name);
  const aboveForm = warnings.filter((w) => !w.field || !shown.some((field) => field.name === w.field));

  const update = (patch: Partial<ProviderForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setSavedNote(false);
  };
  const setValue = (name: string, value: FieldValue) => {
    setForm((f) => ({ ...f, values: { ...f.values, [name]: value } }));
    setSavedNote(false);
  };
  const setReplacing = (name: string, replacing: boolean) =>
    setForm((f) => ({
      ...f,
      values: { ...f.values, [name]: "" },
      replacing: { ...f.replacing, [name]: replacing },
    }));

  const switchKind = (id: string) => {
    const next = kindById(id);
    if (!next || id === form.kindId) return;
    // The sender is the same whichever way the mail is authenticated: carry it over.
    setForm({
      ...formFromProvider(next, saved),
      senderEmail: form.senderEmail,
      senderName: form.senderName,
      fallbackToDefault: form.fallbackToDefault,
    });
    setError(undefined);
    setLocal({});
    setTest(undefined);
  };

  const checkLocally = (): boolean => {
    const found = localErrors(kind, form);
    setLocal(found);
    return Object.keys(found).length === 0;
  };

  const failed = (err: unknown) => {
    setError(toApiError(err));
    setAttempt((n) => n + 1);
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSavedNote(false);
    // The local check shows its errors, and the server's one pass adds the ones only it can find.
    if (!checkLocally()) setAttempt((n) => n + 1);
    setBusy("save");
    try {
      const body = providerInput(kind, form, saved);
      const answer = saved
        ? await api.put("/api/apps/{appId}/email-providers/{providerId}", {
            path: { appId, providerId: saved.id },
            body,
          })
        : adding
          ? await api.post("/api/apps/{appId}/email-providers", { path: { appId }, body })
          : await api.put("/api/apps/{appId}/email-provider", { path: { appId }, body });
      const next = asProviderState(answer);
      const before = new Set(providers.map((p) => p.id));
      const mine: ProviderView | null = saved
        ? (next.providers.find((p) => p.id === saved.id) ?? null)
        : (next.providers.find((p) => !before.has(p.id)) ?? next.providers.at(-1) ?? null);
      const savedWhatPassed = passedUnsaved.current === JSON.stringify(form);
      passedUnsaved.current = undefined;
      setForm(formFromProvider(kindOfProvider(kinds, mine) ?? kind, mine));
      setRestored(false);
      setSavedNote(true);
      onSaved(next, mine?.id);
      if (savedWhatPassed && mine) {
        // No email: the connection steps only. Its result becomes the saved provider's health.
        await api
          .post("/api/apps/{appId}/email-providers/{providerId}/test", {
            path: { appId, providerId: mine.id },
            body: {},
          })
          .catch(() => undefined);
        onTested();
      }
    } catch (err) {
      failed(err);
    } finally {
      setBusy(undefined);
    }
  };

  const runTest = async (sendTo: string | undefined) => {
    setError(undefined);
    if (dirty && !checkLocally()) {
      setAttempt((n) => n + 1);
      return;
    }
    const sending = sendTo !== undefined;
    setBusy(sending ? "send" : "test");
    setTest(undefined);
    setRunning({ steps: expectedSteps(kind.id, sending, own?.lastTest), sending });
    try {
      const body = {
        ...(dirty ? { config: providerInput(kind, form, saved) } : {}),
        ...(sending ? { sendTo } : {}),
      };
      // A saved provider is tested by its id (unsaved changes to it as `config`); a new one only as `config`.
      const result = saved
        ? await api.post("/api/apps/{appId}/email-providers/{providerId}/test", {
            path: { appId, providerId: saved.id },
            body,
          })
        : await api.post("/api/apps/{appId}/email-provider/test", { path: { appId }, body });
      setTest({ result, sent: sending, to: sendTo ?? "" });
      passedUnsaved.current = dirty && result.ok ? JSON.stringify(form) : undefined;
      onTested();
    } catch (err) {
      failed(err);
    } finally {
      setRunning(undefined);
      setBusy(undefined);
    }
  };

  const renderField = (field: KindField) => {
    if (field.input === "certificate") {
      return (
        <CertificatePanel field={field} certificate={own?.certificate} certificatePem={own?.certificatePem} />
      );
    }
    const props: FieldProps = {
      field,
      value: form.values[field.name] ?? "",
      onChange: (value) => setValue(field.name, value),
      error: errors[field.name],
    };
    const secret = secrets[field.name];
    if (secret) {
      return (
        <SecretInput
          {...props}
          secret={{
            status: secret,
            changed,
            replacing: form.replacing[field.name] === true,
            onReplace: (replacing) => setReplacing(field.name, replacing),
          }}
        />
      );
    }
    const Input = fieldRenderers[field.input];
    return <Input {...props} />;
  };

  const Guide = kindGuides[kind.id];
  const savedLabel = kindOfProvider(kinds, saved)?.label ?? "current";
  return (
    <Tabs
      label="How Postern signs in to your mail server"
      tabs={kinds.map((k) => ({ key: k.id, label: k.label }))}
      selected={kind.id}
      onSelect={switchKind}
      disabled={disabled}
    >
      <form className="form provider-form" onSubmit={save} noValidate ref={formRef}>
        <p className="kind-description">{kind.description}</p>
        <DraftNotice restored={restored} />
        {saved && !own && !disabled && (
          <Notice tone="info">Saving replaces the {savedLabel} provider that is saved now.</Notice>
        )}
        {aboveForm.map((warning) => (
          <Notice key={`${warning.code}:${warning.field ?? ""}`} tone="warning">
            {warning.message}
          </Notice>
        ))}
        <fieldset className="fieldset-plain" disabled={disabled}>
          <legend className="visually-hidden">{kind.label} settings</legend>
          <SenderFields
            senderEmail={form.senderEmail}
            senderName={form.senderName}
            errors={errors}
            onChange={update}
          />
          {shown.map((field) => (
            <Fragment key={field.name}>
              {renderField(field)}
              {besideField(field).map((warning) => (
                <Notice key={`${warning.code}:${warning.field ?? ""}`} tone="warning">
                  {warning.message}
                </Notice>
              ))}
            </Fragment>
          ))}
          <FallbackField
            checked={form.fallbackToDefault}
            defaultSender={state.defaultSender}
            onChange={(fallbackToDefault) => update({ fallbackToDefault })}
          />
        </fieldset>
        <FormError error={inlineShown ? undefined : error} />
        {!disabled && (
          <ProviderActions
            busy={busy}
            recipients={[...new Set([accountEmail, ...memberEmails])]}
            onTest={(sendTo) => void runTest(sendTo)}
            status={
              savedNote ? "Saved" : dirty && saved ? "Unsaved changes: tests use the values in the form." : ""
            }
          />
        )}
      </form>
      <div className="test-area" aria-live="polite">
        {running && <TestRunning steps={running.steps} sending={running.sending} />}
        {test && (
          <TestResultView
            result={test.result}
            title={test.sent ? `Test email to ${test.to}` : "Connection test"}
          />
        )}
      </div>
      {Guide && (
        <Guide
          appId={appId}
          senderEmail={form.senderEmail}
          values={form.values}
          open={own?.health.status !== "working"}
        />
      )}
    </Tabs>
  );
}
