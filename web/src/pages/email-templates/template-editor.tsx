import { useEffect, useId, useRef, useState } from "react";
import { ApiError, api, toApiError } from "../../api/client.ts";
import type { EmailTemplate, TemplatePart, TemplateProblem, TemplateSample } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { Badge, ErrorNotice, FormError, Loading, Notice } from "../../components/feedback.tsx";
import { FieldMessage } from "../../components/field.tsx";
import { Tabs } from "../../components/tabs.tsx";
import { useResource } from "../../use-resource.ts";
import type { BrandingDraft } from "./branding-form.tsx";
import { CodeEditor, type CodeEditorHandle } from "./code-editor.tsx";
import { EmailPreview } from "./email-preview.tsx";
import { type Draft, draftOf, sameDraft, sourceOf } from "./template-draft.ts";
import { TestEmailStatus, useTemplateTest } from "./test-email.tsx";
import { useLivePreview } from "./use-live-preview.ts";
import "./template-editor.css";

type Busy = "save" | "reset" | "test";

/** One locale's template: the parts, checked and previewed as they are typed, saved, reset or tested. */
export function TemplateEditor({
  appId,
  appBase,
  locale,
  known,
  baseLocale,
  branding,
  accountEmail,
  disabled,
  onDirtyChange,
  onSaved,
}: {
  appId: string;
  /** The app's dashboard path, for links to its delivery log. */
  appBase: string;
  locale: string;
  /** The locale is built in or the app has a template for it; otherwise it is being added. */
  known: boolean;
  /** Where a new locale's first draft comes from. */
  baseLocale: string;
  branding: BrandingDraft;
  accountEmail: string;
  disabled: boolean;
  onDirtyChange(dirty: boolean): void;
  onSaved(): void;
}) {
  const loaded = useResource(`template:${appId}:${locale}`, async (): Promise<EmailTemplate> => {
    const at = "/api/apps/{appId}/email-templates/{locale}";
    if (known) return api.get(at, { path: { appId, locale } });
    const base = await api.get(at, { path: { appId, locale: baseLocale } });
    return {
      ...base,
      locale,
      customized: false,
      builtIn: false,
      version: 0,
      updatedAt: null,
      updatedBy: null,
    };
  });
  const template = loaded.data;

  if (loaded.loading && !template) return <Loading label="Loading the template…" rows={6} />;
  if (!template)
    return loaded.error ? <ErrorNotice error={loaded.error} onRetry={() => void loaded.reload()} /> : null;
  return (
    <LoadedEditor
      key={template.locale}
      appId={appId}
      appBase={appBase}
      locale={locale}
      template={template}
      isNew={!known}
      baseLocale={baseLocale}
      branding={branding}
      accountEmail={accountEmail}
      disabled={disabled}
      onDirtyChange={onDirtyChange}
      onChanged={(next) => {
        if (next) loaded.set(next);
        else void loaded.reload();
        onSaved();
      }}
    />
  );
}

function LoadedEditor({
  appId,
  appBase,
  locale,
  template,
  isNew,
  baseLocale,
  branding,
  accountEmail,
  disabled,
  onDirtyChange,
  onChanged,
}: {
  appId: string;
  appBase: string;
  locale: string;
  template: EmailTemplate;
  isNew: boolean;
  baseLocale: string;
  branding: BrandingDraft;
  accountEmail: string;
  disabled: boolean;
  onDirtyChange(dirty: boolean): void;
  /** Saved (the new state) or reset (reload it). */
  onChanged(next?: EmailTemplate): void;
}) {
  const [draft, setDraft] = useState<Draft>(() => draftOf(template));
  const [part, setPart] = useState<"html" | "text">("html");
  const [sample, setSample] = useState<TemplateSample>({});
  const [busy, setBusy] = useState<Busy>();
  const [error, setError] = useState<ApiError>();
  const [conflict, setConflict] = useState(false);
  const [confirmReset, setConfirmReset] = useState(false);
  const test = useTemplateTest(appId, locale);
  const [savedNote, setSavedNote] = useState(false);
  const editors = { html: useRef<CodeEditorHandle>(null), text: useRef<CodeEditorHandle>(null) };
  const subjectId = useId();
  const deriveId = useId();

  // A saved, reset or reloaded template replaces the draft (after a save they are the same).
  useEffect(() => {
    setDraft(draftOf(template));
    setConflict(false);
  }, [template]);

  const dirty = isNew || !sameDraft(draft, draftOf(template));
  useEffect(() => onDirtyChange(dirty && !disabled), [dirty, disabled, onDirtyChange]);
  useEffect(() => {
    if (!dirty || disabled) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty, disabled]);

  const live = useLivePreview(appId, locale, draft, branding, sample);
  const preview = live.preview;
  const lastGood = live.lastGood;

  // The problems shown: the live check's, or the save's when it refused.
  const problems: TemplateProblem[] =
    (error?.problem.errors?.filter((e) => e.code) as TemplateProblem[] | undefined) ?? preview?.errors ?? [];
  const problemsOf = (p: TemplatePart) => problems.filter((x) => x.field === p);

  const update = (change: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...change }));
    setSavedNote(false);
    if (error && !conflict) setError(undefined);
  };

  const save = async () => {
    setBusy("save");
    setError(undefined);
    setConflict(false);
    try {
      const next = await api.put("/api/apps/{appId}/email-templates/{locale}", {
        path: { appId, locale },
        body: { ...sourceOf(draft), version: template.version },
      });
      setSavedNote(true);
      onChanged(next);
    } catch (err) {
      if (err instanceof ApiError) {
        setError(err);
        setConflict(err.code === "template_changed");
        const first = err.problem.errors?.find((e) => e.line);
        if (first && (first.field === "html" || first.field === "text")) {
          setPart(first.field);
          window.setTimeout(
            () => editors[first.field as "html" | "text"].current?.goTo(first.line!, first.column),
            0,
          );
        }
      } else setError(toApiError(err));
    } finally {
      setBusy(undefined);
    }
  };

  const runTest = async () => {
    setBusy("test");
    setError(undefined);
    const refused = await test.send(sourceOf(draft));
    if (refused) setError(refused);
    setBusy(undefined);
  };

  const reset = async () => {
    setBusy("reset");
    setError(undefined);
    try {
      await api.delete("/api/apps/{appId}/email-templates/{locale}", { path: { appId, locale } });
      setConfirmReset(false);
      onChanged();
    } catch (err) {
      setError(toApiError(err));
      setConfirmReset(false);
    } finally {
      setBusy(undefined);
    }
  };

  const templateProblem = error?.problem.errors?.some((e) => e.code);
  const shownError = error ?? live.error;
  return (
    <div className="template-editor">
      <div className="template-editor-head">
        {isNew ? (
          <Notice tone="info" title={`Adding ${template.name} (${template.locale})`}>
            Postern has no built-in translation for this language, so this draft starts from the {baseLocale}{" "}
            template. Translate it and save: users whose browser asks for {template.locale} then get it.
          </Notice>
        ) : (
          <p className="template-state">
            {template.customized ? (
              <Badge tone="info">Customized</Badge>
            ) : (
              <Badge tone="neutral">Built-in translation</Badge>
            )}{" "}
            {template.customized
              ? "This app sends its own template in this language."
              : "This app sends Postern's built-in template in this language. Edit it to make it yours."}
          </p>
        )}
      </div>
      {conflict && (
        <Notice
          tone="warning"
          title="Someone else saved this template"
          actions={
            <button type="button" className="btn btn-secondary btn-sm" onClick={() => onChanged()}>
              Load their version
            </button>
          }
        >
          Your changes are still here and were not saved. Copy what you need, then load their version.
        </Notice>
      )}
      <fieldset className="fieldset-plain" disabled={disabled}>
        <div className={`field${problemsOf("subject").length > 0 ? " field-invalid" : ""}`}>
          <label className="field-label" htmlFor={subjectId}>
            Subject
          </label>
          <input
            id={subjectId}
            className="input input-mono"
            value={draft.subject}
            aria-invalid={problemsOf("subject").length > 0 ? true : undefined}
            aria-describedby={`${subjectId}-error`}
            onChange={(e) => update({ subject: e.target.value })}
          />
          <FieldMessage
            id={subjectId}
            error={
              problemsOf("subject")
                .map((p) => p.message.replace(/^subject( line \d+(, column \d+)?)?: /, ""))
                .join(" ") || undefined
            }
          />
        </div>
        <Tabs<"html" | "text">
          label="Template part"
          tabs={[
            { key: "html", label: <TabLabel text="HTML" flagged={problemsOf("html").length > 0} /> },
            { key: "text", label: <TabLabel text="Plain text" flagged={problemsOf("text").length > 0} /> },
          ]}
          selected={part}
          onSelect={setPart}
        >
          {part === "html" ? (
            <CodeEditor
              ref={editors.html}
              label="HTML template"
              hint="Mustache: {{variable}} is filled and HTML-escaped; {{#footer}}…{{/footer}} shows only when set. A <style> block is inlined when the email is sent."
              value={draft.html}
              onChange={(html) => update({ html })}
              problems={problemsOf("html")}
              disabled={disabled}
            />
          ) : (
            <div className="stack-tight">
              <label className="checkbox" htmlFor={deriveId}>
                <input
                  id={deriveId}
                  type="checkbox"
                  checked={draft.deriveText}
                  onChange={(e) =>
                    update({
                      deriveText: e.target.checked,
                      text: e.target.checked || draft.text ? draft.text : (lastGood?.text ?? ""),
                    })
                  }
                />
                <span className="checkbox-label">Derive the plain text from the HTML</span>
              </label>
              {draft.deriveText ? (
                <p className="muted">
                  Postern writes the plain-text part from the HTML when it sends the email; the preview shows
                  the result.
                </p>
              ) : (
                <CodeEditor
                  ref={editors.text}
                  label="Plain-text template"
                  hint="Not HTML: variables are written as they are."
                  value={draft.text}
                  onChange={(text) => update({ text })}
                  problems={problemsOf("text")}
                  disabled={disabled}
                />
              )}
            </div>
          )}
        </Tabs>
      </fieldset>
      <FormError error={templateProblem || conflict ? undefined : shownError} />
      {!disabled && (
        <div className="form-actions template-actions">
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => void save()}
            disabled={busy !== undefined || !dirty}
          >
            {busy === "save" ? "Saving…" : "Save template"}
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => void runTest()}
            disabled={busy !== undefined}
          >
            {busy === "test" ? "Sending…" : `Send test email to ${accountEmail}`}
          </button>
          {template.customized && (
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => setConfirmReset(true)}
              disabled={busy !== undefined}
            >
              {template.builtIn ? "Reset to default" : "Remove this language"}
            </button>
          )}
          <span className="form-status" role="status">
            {savedNote ? "Saved" : dirty && !isNew ? "Unsaved changes" : ""}
          </span>
        </div>
      )}
      {test.state && <TestEmailStatus state={test.state} appBase={appBase} />}
      <section className="template-preview" aria-labelledby={`${subjectId}-preview`}>
        <h3 className="card-subtitle" id={`${subjectId}-preview`}>
          Preview
        </h3>
        <EmailPreview
          email={lastGood}
          stale={(preview?.errors.length ?? 0) > 0}
          sample={sample}
          onSampleChange={setSample}
          accountEmail={accountEmail}
        />
      </section>
      <ConfirmDialog
        open={confirmReset}
        title={template.builtIn ? `Reset the ${template.name} template?` : `Remove ${template.name}?`}
        confirmLabel={busy === "reset" ? "Resetting…" : template.builtIn ? "Reset to default" : "Remove"}
        busy={busy === "reset"}
        onCancel={() => setConfirmReset(false)}
        onConfirm={() => void reset()}
      >
        {template.builtIn
          ? "This app's own template for this language is deleted and login emails use Postern's built-in translation again."
          : "This app's template for this language is deleted; users who ask for it get the default language."}
      </ConfirmDialog>
    </div>
  );
}

function TabLabel({ text, flagged }: { text: string; flagged: boolean }) {
  return (
    <>
      {text}
      {flagged && (
        <span className="tab-flag">
          <span aria-hidden="true"> ●</span>
          <span className="visually-hidden"> (has problems)</span>
        </span>
      )}
    </>
  );
}
