import { useState } from "react";
import { api, enc } from "../api/client.ts";
import type { App, AppWithSecret, WorkspaceSummary } from "../api/types.ts";
import { Badge, EmptyState, ErrorNotice, FormError, Loading } from "../components/feedback.tsx";
import { NameField } from "../components/field.tsx";
import { Card, PageHeader } from "../components/layout.tsx";
import { cleanUrls, RedirectUrlsField } from "../components/redirect-urls-field.tsx";
import { SecretKeyReveal } from "../components/secret-key-reveal.tsx";
import { Time } from "../components/time.tsx";
import { canManage } from "../roles.ts";
import { Link, navigate } from "../router.tsx";
import { useFormSubmit } from "../use-form-submit.ts";
import { useResource } from "../use-resource.ts";
import "./apps.css";

export function AppsPage({ workspace }: { workspace: WorkspaceSummary }) {
  const apps = useResource(`apps:${workspace.id}`, () =>
    api.get("/api/workspaces/{workspaceId}/apps", { path: { workspaceId: workspace.id } }),
  );
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<AppWithSecret | undefined>();
  const manage = canManage(workspace.role);
  const appPath = (app: App) => `/w/${enc(workspace.id)}/apps/${enc(app.id)}`;

  if (created) {
    return (
      <>
        <PageHeader
          eyebrow="New app"
          title={created.name}
          description="Your app is ready. Save its keys now."
        />
        <Card>
          <SecretKeyReveal
            app={created}
            doneLabel="I have saved the secret key"
            onDone={() => navigate(appPath(created))}
          />
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Apps"
        description={`Each app has its own keys, redirect URLs, email provider and delivery log.`}
        actions={
          manage &&
          !creating && (
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              New app
            </button>
          )
        }
      />
      <div className="stack">
        {creating && (
          <CreateAppForm
            workspaceId={workspace.id}
            onCancel={() => setCreating(false)}
            onCreated={(app) => {
              setCreating(false);
              setCreated(app);
            }}
          />
        )}
        {apps.error && <ErrorNotice error={apps.error} onRetry={() => void apps.reload()} />}
        {apps.loading && !apps.data ? (
          <Loading label="Loading apps…" />
        ) : apps.data && apps.data.apps.length === 0 ? (
          !creating && (
            <EmptyState
              title="No apps yet"
              action={
                manage ? (
                  <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
                    Create your first app
                  </button>
                ) : undefined
              }
            >
              {manage
                ? "Create an app to get a publishable key for your login form."
                : "An owner or admin of this workspace can create one."}
            </EmptyState>
          )
        ) : (
          apps.data && (
            <ul className="app-grid" aria-label="Apps">
              {apps.data.apps.map((app) => (
                <li key={app.id}>
                  <Link to={appPath(app)} className="app-card">
                    <span className="app-card-name">{app.name}</span>
                    <span className="app-card-key">
                      <code>{app.publishableKey}</code>
                    </span>
                    <span className="app-card-meta">
                      {app.redirectUrls.length === 1
                        ? "1 redirect URL"
                        : `${app.redirectUrls.length} redirect URLs`}{" "}
                      · created <Time iso={app.createdAt} />
                    </span>
                    {app.emailProviderHealth?.status === "failing" &&
                      app.emailProviderHealth.enabled !== false && (
                        <span className="app-card-meta">
                          <Badge tone="danger">Email provider failing</Badge>
                          {app.emailProviderHealth.since && (
                            <>
                              {" "}
                              since <Time iso={app.emailProviderHealth.since} />
                            </>
                          )}
                        </span>
                      )}
                  </Link>
                </li>
              ))}
            </ul>
          )
        )}
      </div>
    </>
  );
}

function CreateAppForm({
  workspaceId,
  onCancel,
  onCreated,
}: {
  workspaceId: string;
  onCancel(): void;
  onCreated(app: AppWithSecret): void;
}) {
  const [name, setName] = useState("");
  const [redirectUrls, setRedirectUrls] = useState<string[]>([]);
  const form = useFormSubmit({
    check: () => ({ name: name.trim() ? undefined : "Give the app a name." }),
    send: () => {
      const urls = cleanUrls(redirectUrls);
      setRedirectUrls(urls);
      return api.post("/api/workspaces/{workspaceId}/apps", {
        path: { workspaceId },
        body: { name, redirectUrls: urls },
      });
    },
    onDone: onCreated,
    inlineFields: ["name", "redirectUrls"],
  });

  return (
    <Card title="New app" id="new-app">
      <form className="form form-narrow" onSubmit={form.onSubmit} noValidate ref={form.formRef}>
        <NameField
          label="App name"
          autoFocus
          value={name}
          onChange={setName}
          error={form.fieldErrors.name}
          hint="Your users see it in login emails: “Your <name> login code is …”."
        />
        <RedirectUrlsField value={redirectUrls} onChange={setRedirectUrls} errors={form.fieldErrors} />
        <FormError error={form.formLevelError} />
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={form.busy}>
            {form.busy ? "Creating…" : "Create app"}
          </button>
          <button type="button" className="btn btn-secondary" onClick={onCancel} disabled={form.busy}>
            Cancel
          </button>
        </div>
      </form>
    </Card>
  );
}
