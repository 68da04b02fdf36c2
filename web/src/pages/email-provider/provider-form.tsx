import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import {
  asProviderState,
  type EmailProviderState,
  type SmtpSecurity,
  type TestResult,
  type TestStepName,
} from "../../api/types.ts";
import { Badge, FormError, Notice } from "../../components/feedback.tsx";
import { FieldMessage, FieldShell, SelectField, TextField } from "../../components/field.tsx";
import { Tabs } from "../../components/tabs.tsx";
import { MicrosoftGuide } from "./microsoft-guide.tsx";
import {
  formFromProvider,
  isDirty,
  localErrors,
  type ProviderForm,
  type ProviderType,
  providerInput,
  secretField,
  secretStatus,
} from "./provider-form-state.ts";
import { expectedSteps, TestResultView, TestRunning } from "./test-result.tsx";
import "./provider-form.css";

const tabs: { key: ProviderType; label: string }[] = [
  { key: "smtp_basic", label: "Basic Auth" },
  { key: "smtp_oauth", label: "OAuth" },
];

const kindNames: Record<ProviderType, string> = { smtp_basic: "Basic Auth", smtp_oauth: "OAuth" };

type Busy = "save" | "test" | "send";

/** Field errors of a test's `config` come back as `config.senderEmail`: same inputs, same place. */
function fieldErrorsOf(error: ApiError | undefined): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, message] of Object.entries(error?.fieldErrors() ?? {})) {
    errors[field.replace(/^config\./, "")] ??= message;
  }
  return errors;
}

const formFields = new Set([
  "senderEmail",
  "senderName",
  "host",
  "port",
  "security",
  "username",
  "password",
  "provider",
  "clientId",
  "clientSecret",
  "tenantId",
]);

export function ProviderFormSection({
  appId,
  state,
  accountEmail,
  memberEmails,
  disabled,
  onSaved,
  onTested,
}: {
  appId: string;
  state: EmailProviderState;
  accountEmail: string;
  /** Where a test email may go: the workspace's members (the server refuses anyone else). */
  memberEmails: string[];
  disabled: boolean;
  onSaved(next: EmailProviderState): void;
  onTested(): void;
}) {
  const saved = state.provider;
  const [form, setForm] = useState<ProviderForm>(() => formFromProvider(saved));
  const [busy, setBusy] = useState<Busy>();
  const [error, setError] = useState<ApiError>();
  const [local, setLocal] = useState<Record<string, string>>({});
  const [savedNote, setSavedNote] = useState(false);
  const [test, setTest] = useState<{ result: TestResult; sent: boolean; to: string }>();
  const [running, setRunning] = useState<{ steps: TestStepName[]; sending: boolean }>();
  // The form as it was when a test of unsaved values passed: saving exactly that is checked again as
  // the saved provider, so the card above does not say "Not checked yet" over a test that just passed.
  const passedUnsaved = useRef<string | undefined>(undefined);

  const secret = secretStatus(form, saved);
  const dirty = isDirty(form, saved);
  const errors = { ...fieldErrorsOf(error), ...local };
  const inlineShown = Object.keys(errors).some((f) => formFields.has(f));
  const [recipient, setRecipient] = useState(accountEmail);
  const recipientId = useId();
  const formRef = useRef<HTMLFormElement>(null);
  const errorKey = Object.keys(errors).join(",");
  // After a save or test that found errors, focus goes to the first invalid field, in the form's order.
  useEffect(() => {
    if (!errorKey) return;
    const first = [...formFields].find((f) => errorKey.split(",").includes(f));
    const input = first ? formRef.current?.querySelector<HTMLElement>(`[name="${first}"]`) : null;
    input?.focus();
  }, [errorKey]);

  const update = (patch: Partial<ProviderForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    setSavedNote(false);
  };

  const switchType = (type: ProviderType) => {
    if (type === form.type) return;
    // The sender is the same whichever way the mail is authenticated: carry it over.
    const next = formFromProvider(saved?.type === type ? saved : null, type);
    setForm({
      ...next,
      senderEmail: form.senderEmail,
      senderName: form.senderName,
      fallbackToDefault: form.fallbackToDefault,
    });
    setError(undefined);
    setLocal({});
    setTest(undefined);
  };

  const checkLocally = (): boolean => {
    const found = localErrors(form);
    setLocal(found);
    return Object.keys(found).length === 0;
  };

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    setSavedNote(false);
    // The local check shows its errors, and the server's one pass adds the ones only it can find.
    checkLocally();
    setBusy("save");
    try {
      const next = asProviderState(
        await api.put("/api/apps/{appId}/email-provider", {
          path: { appId },
          body: providerInput(form, saved),
        }),
      );
      const savedWhatPassed = passedUnsaved.current === JSON.stringify(form);
      passedUnsaved.current = undefined;
      setForm(formFromProvider(next.provider));
      setSavedNote(true);
      onSaved(next);
      if (savedWhatPassed) {
        // No email: the connection steps only. Its result becomes the saved provider's health.
        await api
          .post("/api/apps/{appId}/email-provider/test", { path: { appId }, body: {} })
          .catch(() => undefined);
        onTested();
      }
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(undefined);
    }
  };

  const runTest = async (sendTo: string | undefined) => {
    setError(undefined);
    if (dirty && !checkLocally()) return;
    const sending = sendTo !== undefined;
    setBusy(sending ? "send" : "test");
    setTest(undefined);
    setRunning({ steps: expectedSteps(form.type, sending), sending });
    try {
      const result = await api.post("/api/apps/{appId}/email-provider/test", {
        path: { appId },
        body: {
          ...(dirty ? { config: providerInput(form, saved) } : {}),
          ...(sending ? { sendTo } : {}),
        },
      });
      setTest({ result, sent: sending, to: sendTo ?? "" });
      passedUnsaved.current = dirty && result.ok ? JSON.stringify(form) : undefined;
      onTested();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setRunning(undefined);
      setBusy(undefined);
    }
  };

  const secretName = secretField[form.type];
  return (
    <Tabs
      label="How Postern signs in to your mail server"
      tabs={tabs}
      selected={form.type}
      onSelect={switchType}
      disabled={disabled}
    >
      <form className="form provider-form" onSubmit={save} noValidate ref={formRef}>
        {saved && saved.type !== form.type && !disabled && (
          <Notice tone="info">Saving replaces the {kindNames[saved.type]} provider that is saved now.</Notice>
        )}
        <fieldset className="fieldset-plain" disabled={disabled}>
          <legend className="visually-hidden">{kindNames[form.type]} settings</legend>
          <TextField
            label="Sender email"
            type="email"
            name="senderEmail"
            autoComplete="off"
            value={form.senderEmail}
            onChange={(e) => update({ senderEmail: e.target.value })}
            error={errors.senderEmail}
            placeholder="no-reply@yourcompany.com"
            hint={
              <ul className="field-notes">
                <li>The address your app's login emails are sent from.</li>
                <li>
                  <strong>Note:</strong> do not use your dashboard account email as the sender email.
                </li>
                <li>
                  <strong>Note:</strong> do not try to log in with the sender email, to the dashboard or to
                  this app.
                </li>
              </ul>
            }
          />
          <TextField
            label="Sender name"
            optional
            name="senderName"
            autoComplete="off"
            maxLength={100}
            value={form.senderName}
            onChange={(e) => update({ senderName: e.target.value })}
            error={errors.senderName}
            placeholder={form.senderEmail.trim() || "Defaults to the sender email"}
            hint={
              <>
                The name on the From line of the login email. Defaults to the sender email.
                {form.senderEmail.trim() && (
                  <span className="from-preview">
                    {" "}
                    Recipients see: <code>{fromLine(form)}</code>
                  </span>
                )}
              </>
            }
          />
          {form.type === "smtp_basic" ? (
            <>
              <TextField
                label="Host"
                name="host"
                autoComplete="off"
                spellCheck={false}
                value={form.host}
                onChange={(e) => update({ host: e.target.value })}
                error={errors.host}
                placeholder="smtp.postmarkapp.com"
                hint="Hostname of your SMTP server, without smtp:// or a port."
              />
              <div className="field-row">
                <TextField
                  label="Port"
                  name="port"
                  inputMode="numeric"
                  autoComplete="off"
                  value={form.port}
                  onChange={(e) => update({ port: e.target.value })}
                  error={errors.port}
                  placeholder="587"
                />
                <SelectField
                  label="Security"
                  name="security"
                  value={form.security}
                  onChange={(e) => update({ security: securityOf(e.target.value) })}
                  error={errors.security}
                  hint={
                    form.security === "none"
                      ? "No encryption: only for servers on the operator's allowlist, such as a local relay."
                      : undefined
                  }
                  options={[
                    { value: "starttls", label: "STARTTLS (usually port 587)" },
                    { value: "tls", label: "TLS (usually port 465)" },
                    { value: "none", label: "None (allowlisted hosts only)" },
                  ]}
                />
              </div>
              <TextField
                label="Username"
                name="username"
                autoComplete="off"
                spellCheck={false}
                value={form.username}
                onChange={(e) => update({ username: e.target.value })}
                error={errors.username}
              />
            </>
          ) : (
            <>
              <SelectField
                label="Provider"
                name="provider"
                value={form.provider}
                onChange={() => update({ provider: "microsoft" })}
                error={errors.provider}
                hint="Currently, only the Microsoft provider is supported for OAuth."
                options={[{ value: "microsoft", label: "Microsoft" }]}
              />
              <TextField
                label="Client ID"
                name="clientId"
                autoComplete="off"
                spellCheck={false}
                value={form.clientId}
                onChange={(e) => update({ clientId: e.target.value })}
                error={errors.clientId}
                placeholder="00000000-0000-0000-0000-000000000000"
                hint="The Application (client) ID of your app registration in Microsoft Entra."
              />
            </>
          )}
          <SecretInput
            label={form.type === "smtp_basic" ? "Password" : "Client secret"}
            name={secretName}
            value={form.type === "smtp_basic" ? form.password : form.clientSecret}
            onChange={(value) =>
              update(form.type === "smtp_basic" ? { password: value } : { clientSecret: value })
            }
            error={errors[secretName]}
            kept={secret.kept}
            stored={secret.stored}
            destinationChanged={secret.destinationChanged}
            replacing={form.replacingSecret}
            onReplace={(replacingSecret) =>
              update(
                form.type === "smtp_basic"
                  ? { replacingSecret, password: "" }
                  : { replacingSecret, clientSecret: "" },
              )
            }
            changedWhat={
              form.type === "smtp_basic" ? "host, port, security or username" : "client ID or tenant ID"
            }
            hint={
              form.type === "smtp_oauth"
                ? "The secret's Value (not its ID) from Certificates & secrets."
                : undefined
            }
          />
          {form.type === "smtp_oauth" && (
            <TextField
              label="Tenant ID"
              name="tenantId"
              autoComplete="off"
              spellCheck={false}
              value={form.tenantId}
              onChange={(e) => update({ tenantId: e.target.value })}
              error={errors.tenantId}
              placeholder="contoso.onmicrosoft.com or a directory ID"
              hint={
                <>
                  Your Microsoft Entra tenant: its Directory (tenant) ID or a verified domain.{" "}
                  <strong>Note:</strong> this field is required because the provider is Microsoft.
                </>
              }
            />
          )}
          <label className="checkbox">
            <input
              type="checkbox"
              checked={form.fallbackToDefault}
              onChange={(e) => update({ fallbackToDefault: e.target.checked })}
            />
            <span>
              <span className="checkbox-label">Fall back to the default sender</span>
              <span className="field-hint">
                While this provider is failing, send login emails from {state.defaultSender} instead of
                retrying.
              </span>
            </span>
          </label>
        </fieldset>
        <FormError error={inlineShown ? undefined : error} />
        {!disabled && (
          <div className="form-actions provider-actions">
            <button type="submit" className="btn btn-primary" disabled={busy !== undefined}>
              {busy === "save" ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy !== undefined}
              onClick={() => void runTest(undefined)}
            >
              {busy === "test" ? "Testing…" : "Test connection"}
            </button>
            <span className="test-recipient">
              <label htmlFor={recipientId} className="field-label">
                Test email to
              </label>
              <select
                id={recipientId}
                name="sendTo"
                className="input"
                value={recipient}
                onChange={(e) => setRecipient(e.target.value)}
              >
                {[...new Set([accountEmail, ...memberEmails])].map((email) => (
                  <option key={email} value={email}>
                    {email}
                  </option>
                ))}
              </select>
            </span>
            <button
              type="button"
              className="btn btn-secondary"
              disabled={busy !== undefined}
              onClick={() => void runTest(recipient)}
            >
              {busy === "send" ? "Sending…" : "Send test email"}
            </button>
            <span className="form-status" role="status">
              {savedNote
                ? "Saved"
                : dirty && saved
                  ? "Unsaved changes: tests use the values in the form."
                  : ""}
            </span>
          </div>
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
      {form.type === "smtp_oauth" && (
        <MicrosoftGuide
          appId={appId}
          open={!(saved?.type === "smtp_oauth" && saved.health.status === "working")}
          values={{ clientId: form.clientId, tenantId: form.tenantId, senderEmail: form.senderEmail }}
        />
      )}
    </Tabs>
  );
}

const securityOf = (value: string): SmtpSecurity =>
  value === "tls" || value === "none" ? value : "starttls";

function fromLine(form: ProviderForm): string {
  const email = form.senderEmail.trim();
  return `"${form.senderName.trim() || email}" <${email}>`;
}

/** A write-only secret: once saved it shows as set, with Replace; a new destination asks for it again. */
function SecretInput({
  label,
  name,
  value,
  onChange,
  error,
  kept,
  stored,
  destinationChanged,
  replacing,
  onReplace,
  changedWhat,
  hint,
}: {
  label: string;
  name: string;
  value: string;
  onChange(value: string): void;
  error: string | undefined;
  kept: boolean;
  stored: boolean;
  destinationChanged: boolean;
  replacing: boolean;
  onReplace(replacing: boolean): void;
  changedWhat: string;
  hint?: ReactNode;
}) {
  const id = useId();
  if (kept) {
    return (
      <fieldset className={`field fieldset-plain${error ? " field-invalid" : ""}`}>
        <legend className="field-label">{label}</legend>
        <div className="secret-set">
          <span className="secret-dots" aria-hidden="true">
            ••••••••••
          </span>
          <Badge tone="success">Set</Badge>
          <button
            type="button"
            className="btn btn-secondary btn-sm"
            aria-label={`Replace the saved ${label.toLowerCase()}`}
            onClick={() => onReplace(true)}
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
  const note =
    stored && destinationChanged ? (
      <span className="text-warning">
        You changed the {changedWhat}, so enter the {label.toLowerCase()} again: a saved secret is never sent
        to a different destination.
      </span>
    ) : stored && replacing ? (
      <>
        The new {label.toLowerCase()} replaces the saved one when you save.{" "}
        <button type="button" className="btn btn-link btn-inline" onClick={() => onReplace(false)}>
          Keep the saved one
        </button>
      </>
    ) : (
      hint
    );
  return (
    <FieldShell label={label} id={id} hint={note} error={error}>
      <input
        id={id}
        name={name}
        className="input"
        type="password"
        autoComplete="new-password"
        // biome-ignore lint/a11y/noAutofocus: focus follows the user's click on Replace.
        autoFocus={replacing}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={
          [note ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined
        }
      />
    </FieldShell>
  );
}
