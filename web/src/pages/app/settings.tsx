import { type FormEvent, useState } from "react";
import { ApiError, api, enc } from "../../api/client.ts";
import type { App } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { FormError, Notice } from "../../components/feedback.tsx";
import { TextField } from "../../components/field.tsx";
import { Card } from "../../components/layout.tsx";
import { cleanUrls, RedirectUrlsField } from "../../components/redirect-urls-field.tsx";
import { canManage } from "../../roles.ts";
import { navigate } from "../../router.tsx";
import type { AppPageProps } from "./app-layout.tsx";
import { HostedPageSettings } from "./hosted-page-settings.tsx";

export function AppSettingsPage({ workspace, app, onAppChange }: AppPageProps) {
  const manage = canManage(workspace.role);
  return (
    <div className="stack">
      {!manage && (
        <Notice tone="neutral">
          You are a member of this workspace: owners and admins change app settings.
        </Notice>
      )}
      <GeneralForm app={app} onAppChange={onAppChange} disabled={!manage} />
      <HostedPageSettings app={app} onAppChange={onAppChange} disabled={!manage} />
      {manage && <DeleteApp app={app} />}
    </div>
  );
}

function GeneralForm({
  app,
  onAppChange,
  disabled,
}: {
  app: App;
  onAppChange(app: App): void;
  disabled: boolean;
}) {
  const [name, setName] = useState(app.name);
  const [redirectUrls, setRedirectUrls] = useState(app.redirectUrls);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const urls = cleanUrls(redirectUrls);
    setRedirectUrls(urls);
    setBusy(true);
    setSaved(false);
    setError(undefined);
    try {
      const updated = await api.patch<App>(`/api/apps/${enc(app.id)}`, { name, redirectUrls: urls });
      onAppChange(updated);
      setName(updated.name);
      setRedirectUrls(updated.redirectUrls);
      setSaved(true);
    } catch (err) {
      if (err instanceof ApiError) setError(err);
    } finally {
      setBusy(false);
    }
  };

  const errors = error?.fieldErrors() ?? {};
  const shownInline = Object.keys(errors).some((f) => f === "name" || f.startsWith("redirectUrls"));
  return (
    <Card title="General" id="general">
      <form className="form form-narrow" onSubmit={submit} noValidate>
        <fieldset className="fieldset-plain" disabled={disabled}>
          <TextField
            label="App name"
            name="name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setSaved(false);
            }}
            error={errors.name}
          />
          <RedirectUrlsField
            value={redirectUrls}
            onChange={(next) => {
              setRedirectUrls(next);
              setSaved(false);
            }}
            errors={errors}
          />
        </fieldset>
        <FormError error={shownInline ? undefined : error} />
        {!disabled && (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
              {busy ? "Saving…" : "Save changes"}
            </button>
            <span className="form-status" role="status">
              {saved ? "Saved" : ""}
            </span>
          </div>
        )}
      </form>
    </Card>
  );
}

function DeleteApp({ app }: { app: App }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  return (
    <Card
      title="Delete app"
      id="delete-app"
      description="Its keys stop working at once, and its email provider, delivery log and signing keys are deleted. Users of your app can no longer log in through it."
    >
      <FormError error={error} />
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)}>
        Delete app
      </button>
      <ConfirmDialog
        open={open}
        title={`Delete ${app.name}?`}
        confirmLabel={busy ? "Deleting…" : "Delete app"}
        busy={busy}
        onCancel={() => setOpen(false)}
        onConfirm={async () => {
          setBusy(true);
          setError(undefined);
          try {
            await api.delete(`/api/apps/${enc(app.id)}`);
            navigate(`/w/${enc(app.workspaceId)}`);
          } catch (err) {
            if (err instanceof ApiError) setError(err);
            setBusy(false);
            setOpen(false);
          }
        }}
      >
        This cannot be undone.
      </ConfirmDialog>
    </Card>
  );
}
