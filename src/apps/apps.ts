import { and, asc, desc, eq, inArray } from "drizzle-orm";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { apps, emailProviders } from "../db/schema.ts";
import { checkAll, DomainError, invalid, notFound } from "../errors.ts";
import { randomId, randomToken, sha256 } from "../security/tokens.ts";
import { type Role, requireRole } from "../workspaces/workspaces.ts";
import { validateAllowedRedirectUrl } from "./redirect-urls.ts";
import { createSigningKey } from "./signing-keys.ts";

export type App = typeof apps.$inferSelect;

export function publicView(app: App) {
  return {
    id: app.id,
    workspaceId: app.workspaceId,
    name: app.name,
    publishableKey: app.publishableKey,
    secretKeyHint: app.secretKeyHint,
    redirectUrls: app.redirectUrls,
    oidc: { tokenEndpointAuthMethod: app.oidcTokenEndpointAuthMethod, refreshTokens: app.oidcRefreshTokens },
    branding: { logoUrl: app.logoUrl, accentColor: app.accentColor },
    createdAt: app.createdAt.toISOString(),
    updatedAt: app.updatedAt.toISOString(),
  };
}

function newSecretKey() {
  const secretKey = `sk_${randomToken(32)}`;
  return { secretKey, secretKeyHash: sha256(secretKey), secretKeyHint: `sk_…${secretKey.slice(-4)}` };
}

function validRedirectUrls(urls: string[]): string[] {
  return [
    ...new Set(checkAll(urls.map((url, i) => () => validateAllowedRedirectUrl(url, `redirectUrls[${i}]`)))),
  ];
}

export async function createApp(
  ctx: Context,
  actorId: string | null,
  workspaceId: string,
  input: { name: string; redirectUrls?: string[] | undefined },
) {
  if (actorId) await requireRole(ctx.db, actorId, workspaceId, "admin");
  const redirectUrls = validRedirectUrls(input.redirectUrls ?? []);
  const { secretKey, secretKeyHash, secretKeyHint } = newSecretKey();
  const id = randomId("app");
  const app = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(apps)
      .values({
        id,
        workspaceId,
        name: input.name,
        publishableKey: `pk_${randomToken(18)}`,
        secretKeyHash,
        secretKeyHint,
        redirectUrls,
      })
      .returning();
    await createSigningKey(tx, ctx.secrets, id);
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: actorId,
        action: "app.created",
        targetType: "app",
        targetId: id,
        changes: { name: input.name, redirectUrls },
      },
      ctx.now(),
    );
    return row!;
  });
  return { ...publicView(app), secretKey };
}

/** Loads an app the account may see with at least `least`; other workspaces' apps are 404. */
export async function requireApp(
  db: Db,
  accountId: string,
  appId: string,
  least: Role = "member",
): Promise<App> {
  const [app] = await db.select().from(apps).where(eq(apps.id, appId));
  if (!app) throw notFound("app");
  try {
    await requireRole(db, accountId, app.workspaceId, least);
  } catch (err) {
    if (err instanceof Error && "kind" in err && err.kind === "not_found") throw notFound("app");
    throw err;
  }
  return app;
}

/** The primary custom provider's health of each app (absent: no custom provider), for the apps list and overview. */
async function providerHealthOf(db: Db, appIds: string[]) {
  if (appIds.length === 0) return new Map();
  const rows = await db
    .select({
      appId: emailProviders.appId,
      status: emailProviders.health,
      reason: emailProviders.healthReason,
      since: emailProviders.healthAt,
      enabled: emailProviders.enabled,
    })
    .from(emailProviders)
    .where(inArray(emailProviders.appId, appIds))
    // Each app's primary comes last, so it is the one the map keeps.
    .orderBy(desc(emailProviders.position));
  return new Map(
    rows.map((r) => [
      r.appId,
      { status: r.status, reason: r.reason, since: r.since?.toISOString() ?? null, enabled: r.enabled },
    ]),
  );
}

export async function listApps(db: Db, accountId: string, workspaceId: string) {
  await requireRole(db, accountId, workspaceId, "member");
  const rows = await db
    .select()
    .from(apps)
    .where(eq(apps.workspaceId, workspaceId))
    .orderBy(asc(apps.createdAt));
  const health = await providerHealthOf(
    db,
    rows.map((r) => r.id),
  );
  return rows.map((app) => ({ ...publicView(app), emailProviderHealth: health.get(app.id) ?? null }));
}

/** One app as its overview shows it, with its custom provider's health. */
export async function getAppOverview(db: Db, accountId: string, appId: string) {
  const app = await requireApp(db, accountId, appId);
  const health = await providerHealthOf(db, [app.id]);
  return { ...publicView(app), emailProviderHealth: health.get(app.id) ?? null };
}

/** How the app signs in as an OpenID Connect client: `none` is a public client (PKCE alone). */
export interface OidcClientSettings {
  tokenEndpointAuthMethod?: App["oidcTokenEndpointAuthMethod"] | undefined;
  /** Whether `offline_access` may be granted: refresh tokens, for 14 days, rotated on use. */
  refreshTokens?: boolean | undefined;
}

/** What the hosted login page shows of the app besides its name; null clears a setting. */
export interface AppBranding {
  logoUrl?: string | null | undefined;
  accentColor?: string | null | undefined;
}

function validLogoUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid("invalid_logo_url", "branding.logoUrl must be an absolute https URL.", "branding.logoUrl");
  }
  // https only: the hosted page never loads mixed content, and the image's host sees no credentials.
  if (url.protocol !== "https:" || url.username || url.password) {
    throw invalid(
      "invalid_logo_url",
      "branding.logoUrl must be an https URL without credentials.",
      "branding.logoUrl",
    );
  }
  return url.toString();
}

function validAccentColor(value: string): string {
  if (!/^#[0-9a-fA-F]{6}$/.test(value)) {
    throw invalid(
      "invalid_accent_color",
      "branding.accentColor must be a colour such as #1d4ed8.",
      "branding.accentColor",
    );
  }
  return value.toLowerCase();
}

export async function updateApp(
  ctx: Context,
  actorId: string,
  appId: string,
  patch: {
    name?: string | undefined;
    redirectUrls?: string[] | undefined;
    oidc?: OidcClientSettings | undefined;
    branding?: AppBranding | undefined;
  },
) {
  const app = await requireApp(ctx.db, actorId, appId, "admin");
  const values: Partial<App> = { updatedAt: ctx.now() };
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.oidc?.tokenEndpointAuthMethod !== undefined)
    values.oidcTokenEndpointAuthMethod = patch.oidc.tokenEndpointAuthMethod;
  if (patch.oidc?.refreshTokens !== undefined) values.oidcRefreshTokens = patch.oidc.refreshTokens;
  const { logoUrl, accentColor } = patch.branding ?? {};
  const { redirectUrls } = patch;
  // One pass over every checked field, so a save reports all of them at once.
  checkAll([
    () => {
      if (redirectUrls !== undefined) values.redirectUrls = validRedirectUrls(redirectUrls);
    },
    () => {
      if (logoUrl !== undefined) values.logoUrl = logoUrl === null ? null : validLogoUrl(logoUrl);
    },
    () => {
      if (accentColor !== undefined)
        values.accentColor = accentColor === null ? null : validAccentColor(accentColor);
    },
  ]);
  const updated = await ctx.db.transaction(async (tx) => {
    const [row] = await tx.update(apps).set(values).where(eq(apps.id, appId)).returning();
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: actorId,
        action: "app.updated",
        targetType: "app",
        targetId: appId,
        changes: { ...patch },
      },
      ctx.now(),
    );
    return row!;
  });
  ctx.appCache.forget(appId);
  return publicView(updated);
}

export async function deleteApp(ctx: Context, actorId: string, appId: string) {
  const app = await requireApp(ctx.db, actorId, appId, "admin");
  await ctx.db.transaction(async (tx) => {
    await tx.delete(apps).where(and(eq(apps.id, appId), eq(apps.workspaceId, app.workspaceId)));
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: actorId,
        action: "app.deleted",
        targetType: "app",
        targetId: appId,
        changes: { name: app.name },
      },
      ctx.now(),
    );
  });
  ctx.appCache.forget(appId);
}

/** The new secret key is shown once; only its hash is kept. */
export async function rotateSecretKey(ctx: Context, actorId: string, appId: string) {
  const app = await requireApp(ctx.db, actorId, appId, "admin");
  const { secretKey, secretKeyHash, secretKeyHint } = newSecretKey();
  const updated = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .update(apps)
      .set({ secretKeyHash, secretKeyHint, updatedAt: ctx.now() })
      .where(eq(apps.id, appId))
      .returning();
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: actorId,
        action: "app.secret_key_rotated",
        targetType: "app",
        targetId: appId,
      },
      ctx.now(),
    );
    return row!;
  });
  // Other API processes stop taking the old key within APP_CACHE_SECONDS (src/app-cache/app-cache.ts).
  ctx.appCache.forget(appId);
  return { ...publicView(updated), secretKey };
}

/** A key that names no app (or an app deleted since a process looked it up). */
export const invalidAppKey = () =>
  new DomainError(
    "unauthorized",
    "invalid_publishable_key",
    "Send your app's publishable key (or, from a server, its secret key) as `Authorization: Bearer pk_…`.",
  );

export async function getAppById(db: Db, appId: string): Promise<App | undefined> {
  const [app] = await db.select().from(apps).where(eq(apps.id, appId));
  return app;
}
