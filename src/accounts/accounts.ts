import { eq } from "drizzle-orm";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import { accounts, emailProviders, workspaceMembers, workspaces } from "../db/schema.ts";
import { DomainError } from "../errors.ts";
import { randomId } from "../security/tokens.ts";

export type Account = typeof accounts.$inferSelect;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function findAccountByEmail(db: Db, email: string): Promise<Account | undefined> {
  const [row] = await db
    .select()
    .from(accounts)
    .where(eq(accounts.email, normaliseEmail(email)));
  return row;
}

export async function getAccount(db: Db, id: string): Promise<Account | undefined> {
  const [row] = await db.select().from(accounts).where(eq(accounts.id, id));
  return row;
}

/** A new account always gets a workspace of its own, where it is the owner. */
export async function createAccount(tx: Db, email: string): Promise<Account> {
  const [account] = await tx
    .insert(accounts)
    .values({ id: randomId("acc"), email: normaliseEmail(email) })
    .returning();
  const workspaceId = randomId("ws");
  await tx
    .insert(workspaces)
    .values({ id: workspaceId, name: `${normaliseEmail(email).split("@")[0]}'s workspace` });
  await tx.insert(workspaceMembers).values({ workspaceId, accountId: account!.id, role: "owner" });
  return account!;
}

/** Sender mailboxes of custom email providers can never sign in anywhere (feature description). */
export async function isSenderEmail(db: Db, email: string): Promise<boolean> {
  const [row] = await db
    .select({ appId: emailProviders.appId })
    .from(emailProviders)
    // Sender emails are stored normalised (lower case), so the index on the column serves this.
    .where(eq(emailProviders.senderEmail, normaliseEmail(email)))
    .limit(1);
  return row !== undefined;
}

export function senderEmailRefused(field = "email"): DomainError {
  return new DomainError(
    "forbidden",
    "sender_email_login_refused",
    "This address sends login emails for an application and cannot be used to sign in.",
    { field },
  );
}

export async function touchAccountSignIn(ctx: Context, accountId: string): Promise<void> {
  await ctx.db.update(accounts).set({ lastSignInAt: ctx.now() }).where(eq(accounts.id, accountId));
}
