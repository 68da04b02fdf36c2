import { useState } from "react";
import { type ApiError, api, enc, toApiError } from "../../api/client.ts";
import type { App } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { DraftNotice, FormError, Notice } from "../../components/feedback.tsx";
import { NameField, SubmitActions } from "../../components/field.tsx";
import { Card } from "../../components/layout.tsx";
import { cleanUrls, RedirectUrlsField } from "../../components/redirect-urls-field.tsx";
import { useDraftState } from "../../drafts.ts";
import { canManage } from "../../roles.ts";
import { navigate } from "../../router.tsx";
import { useFormSubmit } from "../../use-form-submit.ts";
import type { AppFormProps, AppPageProps } from "./app-layout.tsx";
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
      <GeneralForm key={app.id} app={app} onAppChange={onAppChange} disabled={!manage} />
      <HostedPageSettings app={app} onAppChange={onAppChange} disabled={!manage} />
      {manage && <DeleteApp app={app} />}
    </div>
  );
}

function GeneralForm({ app, onAppChange, disabled }: AppFormProps) {
  const name = useDraftState("name", app.name);
  const redirectUrls = useDraftState("redirectUrls", app.redirectUrls);
  const form = useFormSubmit({
    check: () => ({ name: name.value.trim() ? undefined : "Give the app a name." }),
    send: () => {
      const urls = cleanUrls(redirectUrls.value);
      redirectUrls.setValue(urls);
      return api.patch("/api/apps/{appId}", {
        path: { appId: app.id },
        body: { name: name.value, redirectUrls: urls },
      });
    },
    onDone: (updated) => {
      onAppChange(updated);
      name.clear(updated.name);
      redirectUrls.clear(updated.redirectUrls);
    },
    inlineFields: ["name", "redirectUrls"],
  });

  return (
    <Card title="General" id="general">
      <DraftNotice restored={name.restored || redirectUrls.restored} />
      <form className="form form-narrow" onSubmit={form.onSubmit} noValidate ref={form.formRef}>
        <fieldset className="fieldset-plain" disabled={disabled}>
          <NameField
            label="App name"
            value={name.value}
            onChange={(value) => {
              name.setValue(value);
              form.edited();
            }}
            error={form.fieldErrors.name}
          />
          <RedirectUrlsField
            value={redirectUrls.value}
            onChange={(next) => {
              redirectUrls.setValue(next);
              form.edited();
            }}
            errors={form.fieldErrors}
          />
        </fieldset>
        <FormError error={form.formLevelError} />
        {!disabled && (
          <SubmitActions label="Save changes" busy={form.busy} status={form.saved ? "Saved" : ""} />
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
            await api.delete("/api/apps/{appId}", { path: { appId: app.id } });
            navigate(`/w/${enc(app.workspaceId)}`);
          } catch (err) {
            setError(toApiError(err));
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
