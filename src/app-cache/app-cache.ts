import { eq } from "drizzle-orm";
import type { Db } from "../db/connection.ts";
import { appEmailSettings, apps, emailTemplates } from "../db/schema.ts";
import { BUILT_IN_LOCALES, FALLBACK_LOCALE } from "../i18n/locales.ts";
import { sha256 } from "../security/tokens.ts";

// A leaf of the module graph: the Context holds the cache, so it reads the tables itself rather than
// through the domain modules that take a Context.
type App = typeof apps.$inferSelect;

/**
 * How long a process keeps an app it looked up by key, the app's locales, and the app's part of its
 * login emails. Every login request looks its app up by key and every email reads its app's name,
 * branding and template; kept, each costs one query per app per interval instead of one per request.
 *
 * This is a bound, not LISTEN/NOTIFY: a change made in this process forgets the app at once
 * (`forget`), and another API process on the same PostgreSQL sees it after at most this long. So for
 * at most APP_CACHE_SECONDS after a change made elsewhere, a rotated-away secret key still starts
 * logins there, removed redirect URLs are still accepted, a new template's locale is not yet
 * chosen, and a worker there still writes emails with the earlier template, branding or app name.
 * A deleted app's key does not start any: the login's own statement finds the app gone.
 */
export const APP_CACHE_SECONDS = 5;
/** Bounds the memory a flood of distinct keys could take; the oldest entries go first. */
const MAX_ENTRIES = 10_000;

export interface AppLocales {
  defaultLocale: string;
  supported: string[];
}

class Expiring<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly now: () => Date,
    private readonly ttlMs: number,
  ) {}

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const at = this.now().getTime();
    const kept = this.entries.get(key);
    if (kept && kept.until > at) return kept.value;
    const value = await load();
    // Unknown keys are not kept: a wrong key costs what it did, and a new app is found at once.
    if (value === undefined) this.entries.delete(key);
    else {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, until: at + this.ttlMs });
    }
    return value;
  }

  deleteWhere(matches: (value: V, key: string) => boolean): void {
    for (const [key, { value }] of this.entries) if (matches(value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

export class AppCache {
  private readonly byKey: Expiring<App>;
  private readonly locales: Expiring<AppLocales>;
  private readonly emails: Expiring<unknown>;

  constructor(
    private readonly db: Db,
    now: () => Date,
    ttlMs = APP_CACHE_SECONDS * 1000,
  ) {
    this.byKey = new Expiring(now, ttlMs);
    this.locales = new Expiring(now, ttlMs);
    this.emails = new Expiring(now, ttlMs);
  }

  byPublishableKey(key: string): Promise<App | undefined> {
    return this.byKey.get(key, async () => {
      const [app] = await this.db.select().from(apps).where(eq(apps.publishableKey, key));
      return app;
    });
  }

  /** Kept under the key's hash, as the database keeps it, never the secret key itself. */
  bySecretKey(key: string): Promise<App | undefined> {
    const hash = sha256(key);
    return this.byKey.get(`sk:${hash}`, async () => {
      const [app] = await this.db.select().from(apps).where(eq(apps.secretKeyHash, hash));
      return app;
    });
  }

  /** The app's default locale and every locale it has a template in (the built-in ones included). */
  localesOf(appId: string): Promise<AppLocales> {
    return this.locales.get(appId, async () => {
      const rows = await this.db
        .select({ defaultLocale: appEmailSettings.defaultLocale, locale: emailTemplates.locale })
        .from(apps)
        .leftJoin(appEmailSettings, eq(appEmailSettings.appId, apps.id))
        .leftJoin(emailTemplates, eq(emailTemplates.appId, apps.id))
        .where(eq(apps.id, appId));
      const own = rows.flatMap((r) => (r.locale ? [r.locale] : []));
      return {
        defaultLocale: rows[0]?.defaultLocale ?? FALLBACK_LOCALE,
        supported: [...new Set([...BUILT_IN_LOCALES, ...own])],
      };
    }) as Promise<AppLocales>;
  }

  /**
   * The app's part of a login email in `locale` (its name, branding and template), as `load` reads it:
   * the email templates module knows what that is; this only keeps it.
   */
  emailOf<V>(appId: string, locale: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    return this.emails.get(emailKey(appId, locale), load) as Promise<V | undefined>;
  }

  /** The app changed in this process (keys, settings, templates, deletion): look it up again. */
  forget(appId: string): void {
    this.byKey.deleteWhere((app) => app.id === appId);
    this.locales.deleteWhere((_, key) => key === appId);
    this.emails.deleteWhere((_, key) => key.startsWith(emailKey(appId, "")));
  }

  /** Many apps changed at once (a workspace was deleted). */
  clear(): void {
    this.byKey.clear();
    this.locales.clear();
    this.emails.clear();
  }
}

const emailKey = (appId: string, locale: string) => `${appId}\u0000${locale}`;
