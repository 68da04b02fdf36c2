import { eq } from "drizzle-orm";
import { createAccount, findAccountByEmail } from "./accounts/accounts.ts";
import { createSigningKey } from "./apps/signing-keys.ts";
import type { Context } from "./context.ts";
import { apps, workspaceMembers, workspaces } from "./db/schema.ts";
import { canonicalEmail } from "./email-address/email-address.ts";
import { randomToken, sha256 } from "./security/tokens.ts";

export const DEMO_APP_ID = "app_demo";
export const DEMO_ACCOUNT_EMAIL = canonicalEmail("developer@postern.localhost");

/** First start on the embedded default: a demo workspace and app to try the login flow right away. */
export async function seedDemo(
  ctx: Context,
): Promise<{ appId: string; publishableKey: string; accountEmail: string }> {
  const [existing] = await ctx.db.select().from(apps).where(eq(apps.id, DEMO_APP_ID));
  if (existing)
    return { appId: existing.id, publishableKey: existing.publishableKey, accountEmail: DEMO_ACCOUNT_EMAIL };
  const publishableKey = `pk_${randomToken(18)}`;
  await ctx.db.transaction(async (tx) => {
    const account =
      (await findAccountByEmail(tx, DEMO_ACCOUNT_EMAIL)) ?? (await createAccount(tx, DEMO_ACCOUNT_EMAIL));
    await tx.insert(workspaces).values({ id: "ws_demo", name: "Demo workspace" }).onConflictDoNothing();
    await tx
      .insert(workspaceMembers)
      .values({ workspaceId: "ws_demo", accountId: account.id, role: "owner" })
      .onConflictDoNothing();
    const secretKey = `sk_${randomToken(32)}`;
    await tx.insert(apps).values({
      id: DEMO_APP_ID,
      workspaceId: "ws_demo",
      name: "Demo app",
      publishableKey,
      secretKeyHash: sha256(secretKey),
      secretKeyHint: `sk_…${secretKey.slice(-4)}`,
      // The example app (examples/web-app, `npm run example`): its callback and its home page, where
      // signing out returns; a public client (PKCE alone), so it runs without a secret key.
      redirectUrls: ["http://localhost:3000/callback", "http://localhost:3000/"],
      oidcTokenEndpointAuthMethod: "none",
    });
    await createSigningKey(tx, ctx.secrets, DEMO_APP_ID);
  });
  return { appId: DEMO_APP_ID, publishableKey, accountEmail: DEMO_ACCOUNT_EMAIL };
}
