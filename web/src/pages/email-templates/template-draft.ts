import type { TemplateSource } from "../../api/types.ts";
import type { BrandingDraft } from "./branding-form.tsx";

/** The editor's state of one template, and what it sends. */
export interface Draft {
  subject: string;
  html: string;
  text: string;
  /** The text part is derived from the HTML when the email is sent. */
  deriveText: boolean;
}

export const draftOf = (t: TemplateSource): Draft => ({
  subject: t.subject,
  html: t.html,
  text: t.text ?? "",
  deriveText: t.text === null,
});
export const sourceOf = (d: Draft): TemplateSource => ({
  subject: d.subject,
  html: d.html,
  text: d.deriveText ? null : d.text,
});
export const sameDraft = (a: Draft, b: Draft) =>
  a.subject === b.subject &&
  a.html === b.html &&
  a.deriveText === b.deriveText &&
  (a.deriveText || a.text === b.text);

export const looksLikeEmail = (s: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s);

/** The unsaved branding the preview can show: only values the API would accept (the form names the rest). */
export function previewBranding(branding: BrandingDraft) {
  const out: Record<string, string | null> = {};
  const logo = branding.logoUrl.trim();
  if (logo === "" || /^https:\/\/\S+$/.test(logo)) out.logoUrl = logo || null;
  const color = branding.accentColor.trim();
  if (color === "" || /^#[0-9a-fA-F]{6}$/.test(color)) out.accentColor = color || null;
  const replyTo = branding.replyTo.trim();
  if (replyTo === "" || looksLikeEmail(replyTo)) out.replyTo = replyTo || null;
  const footer = branding.footer.trim();
  if (footer.length <= 500 && footer.split("\n").length <= 6 && !/[^\P{Cc}\n]/u.test(footer))
    out.footer = footer || null;
  return out;
}
