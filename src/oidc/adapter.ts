import { and, eq, gt, isNull, lt, or, type SQL } from "drizzle-orm";
import type { Adapter, AdapterPayload } from "oidc-provider";
import type { Context } from "../context.ts";
import { oidcPayloads } from "../db/schema.ts";

/**
 * oidc-provider's storage adapter on Postern's database (PGlite or PostgreSQL), so sessions, grants,
 * codes and tokens survive restarts and are shared by every API process. One instance per model
 * name, per app: every row is scoped to the app whose issuer wrote it.
 */
/**
 * The models a grant's revocation takes with it (as in oidc-provider's own memory adapter). Others
 * carry a `grantId` too (an Interaction does), but revoking a grant at logout must not delete the
 * interaction that is about to resume with the new login.
 */
const GRANTABLE = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
]);

export function oidcAdapter(
  ctx: Context,
  appId: string,
  clientMetadata: () => Promise<AdapterPayload | undefined>,
) {
  return class DatabaseAdapter implements Adapter {
    constructor(readonly model: string) {}

    private row(id: string): SQL {
      return and(eq(oidcPayloads.appId, appId), eq(oidcPayloads.model, this.model), eq(oidcPayloads.id, id))!;
    }

    private live(): SQL {
      return or(isNull(oidcPayloads.expiresAt), gt(oidcPayloads.expiresAt, ctx.now()))!;
    }

    private async first(where: SQL): Promise<AdapterPayload | undefined> {
      const [found] = await ctx.db
        .select({ payload: oidcPayloads.payload, consumedAt: oidcPayloads.consumedAt })
        .from(oidcPayloads)
        .where(and(where, this.live()))
        .limit(1);
      if (!found) return undefined;
      return {
        ...(found.payload as AdapterPayload),
        ...(found.consumedAt ? { consumed: Math.floor(found.consumedAt.getTime() / 1000) } : {}),
      };
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      const values = {
        payload: payload as Record<string, unknown>,
        grantId: GRANTABLE.has(this.model) ? (payload.grantId ?? null) : null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? new Date(ctx.now().getTime() + expiresIn * 1000) : null,
      };
      await ctx.db
        .insert(oidcPayloads)
        .values({ appId, model: this.model, id, ...values })
        .onConflictDoUpdate({
          target: [oidcPayloads.appId, oidcPayloads.model, oidcPayloads.id],
          set: values,
        });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      // The app is the issuer's only client, described by its own row in `apps`, never stored here.
      if (this.model === "Client") return id === appId ? clientMetadata() : undefined;
      return this.first(this.row(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.first(
        and(eq(oidcPayloads.appId, appId), eq(oidcPayloads.model, this.model), eq(oidcPayloads.uid, uid))!,
      );
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.first(
        and(
          eq(oidcPayloads.appId, appId),
          eq(oidcPayloads.model, this.model),
          eq(oidcPayloads.userCode, userCode),
        )!,
      );
    }

    async consume(id: string): Promise<void> {
      await ctx.db.update(oidcPayloads).set({ consumedAt: ctx.now() }).where(this.row(id));
    }

    async destroy(id: string): Promise<void> {
      await ctx.db.delete(oidcPayloads).where(this.row(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await ctx.db
        .delete(oidcPayloads)
        .where(and(eq(oidcPayloads.appId, appId), eq(oidcPayloads.grantId, grantId)));
    }
  };
}

/** Drops what has expired; run by the maintenance timer. */
export async function pruneOidcPayloads(ctx: Context): Promise<void> {
  await ctx.db.delete(oidcPayloads).where(lt(oidcPayloads.expiresAt, ctx.now()));
}
