import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { api, enc } from "../../api/client.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { ErrorNotice, Loading, Notice } from "../../components/feedback.tsx";
import { FieldMessage } from "../../components/field.tsx";
import { Card } from "../../components/layout.tsx";
import { takeDraft } from "../../drafts.ts";
import { canManage } from "../../roles.ts";
import { useMe } from "../../session.tsx";
import { useResource } from "../../use-resource.ts";
import type { AppPageProps } from "../app/app-layout.tsx";
import { type BrandingDraft, BrandingForm, draftFrom } from "./branding-form.tsx";
import { TemplateEditor } from "./template-editor.tsx";
import "./email-templates-page.css";

/** A language tag as the API keys templates: language, optional script and region. */
function tagFrom(input: string): string | undefined {
  try {
    const [tag] = Intl.getCanonicalLocales(input.trim());
    return tag && /^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|\d{3}))?$/.test(tag) ? tag : undefined;
  } catch {
    return undefined;
  }
}

function nameOf(tag: string): string {
  try {
    return new Intl.DisplayNames([tag], { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** App → Login email: branding, and one template per language with a live preview. */
export function EmailTemplatesPage({ workspace, app }: AppPageProps) {
  const me = useMe();
  const manage = canManage(workspace.role);
  const path = { appId: app.id };
  const list = useResource(`templates:${app.id}`, () =>
    api.get("/api/apps/{appId}/email-templates", { path }),
  );
  const settings = useResource(`email-settings:${app.id}`, () =>
    api.get("/api/apps/{appId}/email-settings", { path }),
  );
  const [branding, setBranding] = useState<BrandingDraft>();
  const [brandingRestored, setBrandingRestored] = useState(false);
  const [locale, setLocale] = useState<string>();
  const [added, setAdded] = useState<string[]>([]);
  const [dirty, setDirty] = useState(false);
  const [pendingLocale, setPendingLocale] = useState<string>();
  const [newTag, setNewTag] = useState("");
  const [newTagError, setNewTagError] = useState<string>();
  const localeId = useId();
  const addId = useId();
  const onDirtyChange = useCallback((next: boolean) => setDirty(next), []);

  useEffect(() => {
    if (settings.data && !branding) {
      const kept = takeDraft<BrandingDraft>("branding");
      setBrandingRestored(kept !== undefined);
      setBranding(kept ?? draftFrom(settings.data));
    }
  }, [settings.data, branding]);

  if ((list.loading && !list.data) || (settings.loading && !settings.data))
    return <Loading label="Loading the login email…" rows={6} />;
  if (!list.data || !settings.data || !branding) {
    const error = list.error ?? settings.error;
    return error ? (
      <ErrorNotice error={error} onRetry={() => void Promise.all([list.reload(), settings.reload()])} />
    ) : null;
  }

  const known = list.data.locales;
  const current = locale ?? list.data.defaultLocale;
  const options = [
    ...known.map((l) => ({
      value: l.locale,
      label: `${l.name} (${l.locale})${l.customized ? " · customized" : ""}`,
    })),
    ...added
      .filter((tag) => !known.some((l) => l.locale === tag))
      .map((tag) => ({ value: tag, label: `${nameOf(tag)} (${tag}) · new` })),
  ];

  const choose = (next: string) => {
    if (next === current) return;
    if (dirty) setPendingLocale(next);
    else setLocale(next);
  };

  const addLocale = (event: FormEvent) => {
    event.preventDefault();
    const tag = tagFrom(newTag);
    if (!tag) {
      setNewTagError("Enter a language tag such as sv, pt-BR or zh-Hant.");
      return;
    }
    setNewTagError(undefined);
    setNewTag("");
    if (!known.some((l) => l.locale === tag)) setAdded((a) => [...new Set([...a, tag])]);
    choose(tag);
  };

  return (
    <div className="stack">
      {!manage && (
        <Notice tone="neutral">
          You are a member of this workspace: owners and admins change the login email. You can read the
          templates and preview them.
        </Notice>
      )}
      <BrandingForm
        appId={app.id}
        settings={settings.data}
        locales={known.filter((l) => l.builtIn || l.customized)}
        draft={branding}
        restored={brandingRestored}
        onDraftChange={setBranding}
        onSaved={(next) => {
          settings.set(next);
          setBranding(draftFrom(next));
          setBrandingRestored(false);
          void list.reload();
        }}
        disabled={!manage}
      />
      <Card
        title="Template"
        id="email-template"
        description={
          <>
            Each language has its own template: Postern's built-in translation until you save your own. A user
            gets the language your app asks for (<code>locale</code>), else their browser's, else the default.
          </>
        }
      >
        <div className="template-toolbar">
          <div className="field template-locale">
            <label className="field-label" htmlFor={localeId}>
              Language
            </label>
            <select
              id={localeId}
              className="input select"
              value={current}
              onChange={(e) => choose(e.target.value)}
            >
              {options.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          {manage && (
            <form className="template-add" onSubmit={addLocale} noValidate>
              <div className={`field${newTagError ? " field-invalid" : ""}`}>
                <label className="field-label" htmlFor={addId}>
                  Add a language
                </label>
                <div className="inline-form">
                  <input
                    id={addId}
                    className="input"
                    placeholder="sv, pt-BR, zh-Hant…"
                    value={newTag}
                    aria-invalid={newTagError ? true : undefined}
                    aria-describedby={`${addId}-error`}
                    onChange={(e) => setNewTag(e.target.value)}
                  />
                  <button type="submit" className="btn btn-secondary" disabled={!newTag.trim()}>
                    Add
                  </button>
                </div>
                <FieldMessage id={addId} error={newTagError} />
              </div>
            </form>
          )}
        </div>
        <details className="template-variables">
          <summary>Variables you can use</summary>
          <dl>
            {list.data.variables.map((v) => (
              <div key={v.name}>
                <dt>
                  <code>{`{{${v.name}}}`}</code>
                </dt>
                <dd>{v.description}</dd>
              </div>
            ))}
          </dl>
        </details>
        <TemplateEditor
          key={current}
          appId={app.id}
          appBase={`/w/${enc(workspace.id)}/apps/${enc(app.id)}`}
          locale={current}
          known={known.some((l) => l.locale === current)}
          baseLocale={list.data.defaultLocale}
          branding={branding}
          accountEmail={me.account.email}
          disabled={!manage}
          onDirtyChange={onDirtyChange}
          onSaved={() => void list.reload()}
        />
      </Card>
      <ConfirmDialog
        open={pendingLocale !== undefined}
        title="Discard your unsaved changes?"
        confirmLabel="Discard and switch"
        onCancel={() => setPendingLocale(undefined)}
        onConfirm={() => {
          setLocale(pendingLocale);
          setPendingLocale(undefined);
          setDirty(false);
        }}
      >
        The template you are editing has changes that are not saved. Switching the language loses them.
      </ConfirmDialog>
    </div>
  );
}
