import { useId } from "react";
import { api } from "../../api/client.ts";
import type { EmailSettings, EmailSettingsPatch, TemplateLocale } from "../../api/types.ts";
import { DraftNotice, FormError } from "../../components/feedback.tsx";
import { FieldMessage, FieldShell, SelectField, SubmitActions, TextField } from "../../components/field.tsx";
import { Card } from "../../components/layout.tsx";
import { useKeepOnExpiry } from "../../drafts.ts";
import { useFormSubmit } from "../../use-form-submit.ts";
import "./branding-form.css";

export interface BrandingDraft {
  defaultLocale: string;
  logoUrl: string;
  accentColor: string;
  replyTo: string;
  footer: string;
}

export const draftFrom = (settings: EmailSettings): BrandingDraft => ({
  defaultLocale: settings.defaultLocale,
  logoUrl: settings.logoUrl ?? "",
  accentColor: settings.accentColor ?? "",
  replyTo: settings.replyTo ?? "",
  footer: settings.footer ?? "",
});

/** What changed, with emptied fields as null (cleared). */
export function patchFrom(draft: BrandingDraft, settings: EmailSettings): EmailSettingsPatch {
  const saved = draftFrom(settings);
  const patch: EmailSettingsPatch = {};
  if (draft.defaultLocale !== saved.defaultLocale) patch.defaultLocale = draft.defaultLocale;
  for (const key of ["logoUrl", "accentColor", "replyTo", "footer"] as const) {
    if (draft[key].trim() !== saved[key]) patch[key] = draft[key].trim() === "" ? null : draft[key].trim();
  }
  return patch;
}

const fields = new Set(["defaultLocale", "logoUrl", "accentColor", "replyTo", "footer"]);

/** The app's look in its login emails and the language they fall back to. */
export function BrandingForm({
  appId,
  settings,
  locales,
  draft,
  restored,
  onDraftChange,
  onSaved,
  disabled,
}: {
  appId: string;
  settings: EmailSettings;
  locales: TemplateLocale[];
  draft: BrandingDraft;
  /** The draft came back from before a re-sign-in (web/src/drafts.ts). */
  restored: boolean;
  onDraftChange(draft: BrandingDraft): void;
  onSaved(settings: EmailSettings): void;
  disabled: boolean;
}) {
  const colorId = useId();
  const patch = patchFrom(draft, settings);
  const dirty = Object.keys(patch).length > 0;
  useKeepOnExpiry("branding", draft, dirty);
  const form = useFormSubmit({
    send: () => api.patch("/api/apps/{appId}/email-settings", { path: { appId }, body: patch }),
    onDone: onSaved,
    inlineFields: [...fields],
  });
  const errors = form.fieldErrors;

  const update = (change: Partial<BrandingDraft>) => {
    onDraftChange({ ...draft, ...change });
    form.edited();
  };

  const accent = /^#[0-9a-fA-F]{6}$/.test(draft.accentColor)
    ? draft.accentColor
    : settings.defaultAccentColor;
  return (
    <Card
      title="Branding and language"
      id="email-branding"
      description="How this app's login emails look in every language, where replies go, and the language for users whose language Postern cannot tell."
    >
      <DraftNotice restored={restored} />
      <form className="form branding-form" onSubmit={form.onSubmit} noValidate ref={form.formRef}>
        <fieldset className="fieldset-plain" disabled={disabled}>
          <div className="field-row">
            <SelectField
              label="Default language"
              hint="Used when neither your app's request nor the user's browser names a language this app has."
              value={draft.defaultLocale}
              onChange={(e) => update({ defaultLocale: e.target.value })}
              options={locales.map((l) => ({ value: l.locale, label: `${l.name} (${l.locale})` }))}
              error={errors.defaultLocale}
            />
            <TextField
              label="Reply-to address"
              optional
              type="email"
              placeholder="support@example.com"
              hint="Replies to login emails go here instead of to the sender."
              value={draft.replyTo}
              onChange={(e) => update({ replyTo: e.target.value })}
              error={errors.replyTo}
            />
          </div>
          <div className="field-row">
            <TextField
              label="Logo URL"
              optional
              type="url"
              placeholder="https://example.com/logo.png"
              hint="HTTPS only; shown 48 px high above the code."
              value={draft.logoUrl}
              onChange={(e) => update({ logoUrl: e.target.value })}
              error={errors.logoUrl}
            />
            <FieldShell label="Accent colour" id={colorId} optional error={errors.accentColor}>
              <div className="color-field">
                <input
                  type="color"
                  className="color-swatch"
                  aria-label="Pick the accent colour"
                  value={accent.toLowerCase()}
                  onChange={(e) => update({ accentColor: e.target.value })}
                />
                <input
                  id={colorId}
                  className="input"
                  placeholder={settings.defaultAccentColor}
                  value={draft.accentColor}
                  aria-invalid={errors.accentColor ? true : undefined}
                  aria-describedby={errors.accentColor ? `${colorId}-error` : undefined}
                  onChange={(e) => update({ accentColor: e.target.value })}
                />
              </div>
            </FieldShell>
          </div>
          <div className="field">
            <label className="field-label" htmlFor={`${colorId}-footer`}>
              Footer <span className="field-optional">(optional)</span>
            </label>
            <textarea
              id={`${colorId}-footer`}
              className="input textarea"
              rows={3}
              maxLength={500}
              placeholder={"Acme Inc.\n1 Main Street, Springfield"}
              value={draft.footer}
              aria-invalid={errors.footer ? true : undefined}
              aria-describedby={`${colorId}-footer-hint ${colorId}-footer-error`}
              onChange={(e) => update({ footer: e.target.value })}
            />
            <FieldMessage
              id={`${colorId}-footer`}
              hint="Up to 6 lines, such as your postal address (some countries require one)."
              error={errors.footer}
            />
          </div>
        </fieldset>
        <FormError error={form.formLevelError} />
        {!disabled && (
          <SubmitActions
            label="Save branding"
            busy={form.busy}
            disabled={!dirty}
            status={form.saved ? "Saved" : dirty ? "Unsaved changes: the preview below shows them" : ""}
          />
        )}
      </form>
    </Card>
  );
}
