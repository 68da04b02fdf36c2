import { and, eq } from "drizzle-orm";
import type { Db } from "../db/connection.ts";
import { appEmailSettings, apps, emailTemplates } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { catalogueFor } from "../i18n/catalogue.ts";
import { FALLBACK_LOCALE } from "../i18n/locales.ts";
import type { EmailBranding } from "../mail/login-email.ts";
import { builtInTemplate } from "../mail/templates/built-in.ts";
import type { TemplateSource } from "../mail/templates/check.ts";

/** Reads of an app's email content, without access checks: for the login flow and the worker. */

export interface AppEmailSettings {
  defaultLocale: string;
  branding: EmailBranding;
  replyTo: EmailAddress | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

type SettingsRow = typeof appEmailSettings.$inferSelect;

export function settingsFrom(row: SettingsRow | null | undefined): AppEmailSettings {
  return {
    defaultLocale: row?.defaultLocale ?? FALLBACK_LOCALE,
    branding: {
      logoUrl: row?.logoUrl ?? null,
      accentColor: row?.accentColor ?? null,
      footer: row?.footer ?? null,
    },
    replyTo: (row?.replyTo as EmailAddress | null | undefined) ?? null,
    updatedAt: row?.updatedAt ?? null,
    updatedBy: row?.updatedBy ?? null,
  };
}

export async function loadEmailSettings(db: Db, appId: string): Promise<AppEmailSettings> {
  const [row] = await db.select().from(appEmailSettings).where(eq(appEmailSettings.appId, appId));
  return settingsFrom(row);
}

/** The locales an app's login email can be in (built-in translations and its own templates), in one query. */
/** The template an app's login email in `locale` is made from, and the locale its words are in. */
export function effectiveTemplate(
  saved: TemplateSource | undefined,
  locale: string,
): { template: TemplateSource; language: string } {
  if (saved) return { template: saved, language: locale };
  // A template deleted after the login was requested: the built-in words, labelled with the locale they are in.
  return { template: builtInTemplate("login", locale), language: catalogueFor(locale).locale };
}

/** Everything the worker needs to compose one app's login email in `locale`, in one query. */
export async function loadAppEmail(db: Db, appId: string, locale: string) {
  const [row] = await db
    .select({ appName: apps.name, settings: appEmailSettings, template: emailTemplates })
    .from(apps)
    .leftJoin(appEmailSettings, eq(appEmailSettings.appId, apps.id))
    .leftJoin(emailTemplates, and(eq(emailTemplates.appId, apps.id), eq(emailTemplates.locale, locale)))
    .where(eq(apps.id, appId));
  if (!row) return undefined;
  const saved = row.template
    ? { subject: row.template.subject, html: row.template.html, text: row.template.text }
    : undefined;
  return { appName: row.appName, settings: settingsFrom(row.settings), ...effectiveTemplate(saved, locale) };
}
