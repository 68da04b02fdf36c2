import { and, eq, sql } from "drizzle-orm";
import { getAccount } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { appEmailSettings, emailTemplates } from "../db/schema.ts";
import { DomainError } from "../errors.ts";
import { BUILT_IN_LOCALES, isBuiltInLocale, localeName } from "../i18n/locales.ts";
import { DEFAULT_ACCENT_COLOR } from "../mail/login-email.ts";
import { builtInTemplate } from "../mail/templates/built-in.ts";
import { checkTemplate, MAX_TEMPLATE_BYTES, type TemplateSource } from "../mail/templates/check.ts";
import { TEMPLATE_VARIABLES } from "../mail/templates/variables.ts";
import { templateInvalid } from "./errors.ts";
import type { EmailSettingsPatch, TemplateBody } from "./model.ts";
import { type AppEmailSettings, loadEmailSettings } from "./store.ts";

type TemplateRow = typeof emailTemplates.$inferSelect;

async function updatedByView(ctx: Context, accountId: string | null) {
  const account = accountId ? await getAccount(ctx.db, accountId) : undefined;
  return account ? { id: account.id, email: account.email } : null;
}

async function settingsView(ctx: Context, settings: AppEmailSettings) {
  return {
    defaultLocale: settings.defaultLocale,
    logoUrl: settings.branding.logoUrl,
    accentColor: settings.branding.accentColor,
    replyTo: settings.replyTo,
    footer: settings.branding.footer,
    defaultAccentColor: DEFAULT_ACCENT_COLOR,
    updatedAt: settings.updatedAt?.toISOString() ?? null,
    updatedBy: await updatedByView(ctx, settings.updatedBy),
  };
}

async function savedLocales(ctx: Context, appId: string): Promise<TemplateRow[]> {
  return ctx.db.select().from(emailTemplates).where(eq(emailTemplates.appId, appId));
}

async function savedTemplate(ctx: Context, appId: string, locale: string): Promise<TemplateRow | undefined> {
  const [row] = await ctx.db
    .select()
    .from(emailTemplates)
    .where(and(eq(emailTemplates.appId, appId), eq(emailTemplates.locale, locale)));
  return row;
}

const localeUnavailable = (locale: string, field: string) =>
  new DomainError(
    "invalid",
    "locale_not_available",
    `${locale} has no built-in translation and this app has no template for it: save a template for ${locale} first.`,
    { field },
  );

export async function getEmailSettings(ctx: Context, accountId: string, appId: string) {
  await requireApp(ctx.db, accountId, appId);
  return settingsView(ctx, await loadEmailSettings(ctx.db, appId));
}

/** Changes what the patch names; `null` clears a field back to the default. */
export async function updateEmailSettings(
  ctx: Context,
  accountId: string,
  appId: string,
  patch: EmailSettingsPatch,
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  if (patch.defaultLocale !== undefined && !isBuiltInLocale(patch.defaultLocale)) {
    if (!(await savedTemplate(ctx, appId, patch.defaultLocale)))
      throw localeUnavailable(patch.defaultLocale, "defaultLocale");
  }
  const before = await loadEmailSettings(ctx.db, appId);
  const current = {
    defaultLocale: before.defaultLocale,
    logoUrl: before.branding.logoUrl,
    accentColor: before.branding.accentColor,
    replyTo: before.replyTo as string | null,
    footer: before.branding.footer,
  };
  // An emptied field is a cleared one; the default locale is never cleared (the schema refuses null).
  const orNull = (value: string | null | undefined, kept: string | null) =>
    value === undefined ? kept : value === "" ? null : value;
  const next = {
    defaultLocale: patch.defaultLocale ?? current.defaultLocale,
    logoUrl: orNull(patch.logoUrl, current.logoUrl),
    accentColor: orNull(patch.accentColor, current.accentColor),
    replyTo: orNull(patch.replyTo, current.replyTo),
    footer: orNull(patch.footer, current.footer),
  };
  const changes: Record<string, unknown> = {};
  for (const key of Object.keys(next) as (keyof typeof next)[])
    if (next[key] !== current[key]) changes[key] = { from: current[key], to: next[key] };
  if (Object.keys(changes).length === 0) return getEmailSettings(ctx, accountId, appId);

  const now = ctx.now();
  const values = { ...next, updatedAt: now, updatedBy: accountId };
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(appEmailSettings)
      .values({ appId, ...values })
      .onConflictDoUpdate({ target: appEmailSettings.appId, set: values });
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_settings.updated",
        targetType: "app",
        targetId: appId,
        changes,
      },
      now,
    );
  });
  // The default locale is chosen per login from the app's cached locales (src/app-cache/app-cache.ts).
  ctx.appCache.forget(appId);
  return getEmailSettings(ctx, accountId, appId);
}

/** Every locale the app's login email can be in: the built-in translations and the app's own templates. */
export async function listTemplates(ctx: Context, accountId: string, appId: string) {
  await requireApp(ctx.db, accountId, appId);
  const settings = await loadEmailSettings(ctx.db, appId);
  const saved = await savedLocales(ctx, appId);
  const byLocale = new Map(saved.map((row) => [row.locale, row]));
  const locales = [...new Set<string>([...BUILT_IN_LOCALES, ...saved.map((row) => row.locale).sort()])];
  return {
    defaultLocale: settings.defaultLocale,
    locales: locales.map((locale) => ({
      locale,
      name: localeName(locale),
      builtIn: isBuiltInLocale(locale),
      customized: byLocale.has(locale),
      updatedAt: byLocale.get(locale)?.updatedAt.toISOString() ?? null,
    })),
    variables: Object.entries(TEMPLATE_VARIABLES).map(([name, description]) => ({ name, description })),
    maxBytes: MAX_TEMPLATE_BYTES,
  };
}

async function templateView(ctx: Context, locale: string, row: TemplateRow | undefined) {
  const source: TemplateSource = row
    ? { subject: row.subject, html: row.html, text: row.text }
    : builtInTemplate("login", locale);
  return {
    locale,
    name: localeName(locale),
    builtIn: isBuiltInLocale(locale),
    customized: row !== undefined,
    version: row?.version ?? 0,
    ...source,
    updatedAt: row?.updatedAt.toISOString() ?? null,
    updatedBy: await updatedByView(ctx, row?.updatedBy ?? null),
  };
}

/** The app's template for `locale`, or the built-in one it sends while it has none. */
export async function getTemplate(ctx: Context, accountId: string, appId: string, locale: string) {
  await requireApp(ctx.db, accountId, appId);
  const row = await savedTemplate(ctx, appId, locale);
  if (!row && !isBuiltInLocale(locale)) {
    throw new DomainError(
      "not_found",
      "template_not_found",
      `This app has no template for ${locale} and Postern has no built-in translation for it; save one to add the locale.`,
      { field: "locale" },
    );
  }
  return templateView(ctx, locale, row);
}

const templateChanged = () =>
  new DomainError(
    "conflict",
    "template_changed",
    "Someone saved this template after you opened it. Reload it to see their version; copy your changes first so nothing is lost.",
    { field: "version" },
  );

/** Checks and saves the app's template for `locale`; the first problem is the error, all are listed. */
export async function saveTemplate(
  ctx: Context,
  accountId: string,
  appId: string,
  locale: string,
  body: TemplateBody,
) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  const source: TemplateSource = { subject: body.subject, html: body.html, text: body.text ?? null };
  const problems = checkTemplate(source);
  if (problems.length > 0) throw templateInvalid(problems);

  const now = ctx.now();
  const row = await ctx.db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(emailTemplates)
      .where(and(eq(emailTemplates.appId, appId), eq(emailTemplates.locale, locale)))
      .for("update");
    if (body.version !== undefined && body.version !== (existing?.version ?? 0)) throw templateChanged();
    const parts = (["subject", "html", "text"] as const).filter(
      (part) => (existing ? existing[part] : builtInTemplate("login", locale)[part]) !== source[part],
    );
    if (existing && parts.length === 0) return existing;
    const values = { ...source, updatedAt: now, updatedBy: accountId };
    // A first save of the same locale by two people at once: the loser's insert does nothing and is told.
    const [saved] = existing
      ? await tx
          .update(emailTemplates)
          .set({ ...values, version: sql`${emailTemplates.version} + 1` })
          .where(and(eq(emailTemplates.appId, appId), eq(emailTemplates.locale, locale)))
          .returning()
      : await tx
          .insert(emailTemplates)
          .values({ appId, locale, ...values, version: 1 })
          .onConflictDoNothing()
          .returning();
    if (!saved) throw templateChanged();
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_template.saved",
        targetType: "app",
        targetId: appId,
        changes: { locale, parts, version: saved.version },
      },
      now,
    );
    return saved;
  });
  ctx.appCache.forget(appId);
  ctx.log.info({ appId, locale, version: row.version }, "email template saved");
  return templateView(ctx, locale, row);
}

/** Back to the built-in template; a locale without one cannot be removed while it is the app's default. */
export async function resetTemplate(ctx: Context, accountId: string, appId: string, locale: string) {
  const app = await requireApp(ctx.db, accountId, appId, "admin");
  const settings = await loadEmailSettings(ctx.db, appId);
  if (!isBuiltInLocale(locale) && settings.defaultLocale === locale) {
    throw new DomainError(
      "conflict",
      "default_locale_in_use",
      `${locale} is this app's default locale and has no built-in translation: choose another default first.`,
      { field: "locale" },
    );
  }
  await ctx.db.transaction(async (tx) => {
    const deleted = await tx
      .delete(emailTemplates)
      .where(and(eq(emailTemplates.appId, appId), eq(emailTemplates.locale, locale)))
      .returning({ version: emailTemplates.version });
    if (deleted.length === 0) return;
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: accountId,
        action: "email_template.reset",
        targetType: "app",
        targetId: appId,
        changes: { locale, version: deleted[0]!.version },
      },
      ctx.now(),
    );
  });
  ctx.appCache.forget(appId);
}
