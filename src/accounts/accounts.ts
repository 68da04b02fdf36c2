import { eq } from "drizzle-orm";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { accounts, workspaceMembers, workspaces } from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { randomId } from "../security/tokens.ts";

export type Account = typeof accounts.$inferSelect;

export async function findAccountByEmail(db: Db, email: EmailAddress): Promise<Account | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.email, email));
  return row;
}

export async function getAccount(db: Db, id: string): Promise<Account | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
  return row;
}

/**
 * A new account gets a workspace of its own, where it is the owner, unless it is made for a workspace
 * that already waits for it (the demo account: an empty workspace beside the demo would hide it).
 */
export async function createAccount(
  tx: Db,
  email: EmailAddress,
  { ownWorkspace = true }: { ownWorkspace?: boolean } = {},
): Promise<Account> {
  const [account] = await tx
    .insert(accounts)
    .values({ id: randomId("acc"), email })
    .returning();
  if (!ownWorkspace) return account!;
  const workspaceId = randomId("ws");
  await tx.insert(workspaces).values({ id: workspaceId, name: `${email.split("@")[0]}'s workspace` });
  await tx.insert(workspaceMembers).values({ workspaceId, accountId: account!.id, role: "owner" });
  return account!;
}

export async function touchAccountSignIn(ctx: Context, accountId: string): Promise<void> {
  await ctx.db.update(accounts).set({ lastSignInAt: ctx.now() }).where(eq(accounts.id, accountId));
}
