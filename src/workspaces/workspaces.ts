import { and, asc, count, eq } from "drizzle-orm";
import { createAccount, findAccountByEmail, getAccount } from "../accounts/accounts.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import type { Db } from "../db/connection.ts";
import {
  accounts,
  apps,
  emailProviders,
  workspaceFeatures,
  workspaceMembers,
  workspaces,
} from "../db/schema.ts";
import type { EmailAddress } from "../email-address/email-address.ts";
import { DomainError, forbidden, notFound } from "../errors.ts";
import { consumeSlidingLimits } from "../security/rate-limit.ts";
import { randomId } from "../security/tokens.ts";
import { invitationEmail, type OperatorMail } from "./invitation-email.ts";

export type Role = "owner" | "admin" | "member";
const rank: Record<Role, number> = { member: 0, admin: 1, owner: 2 };

/** Premium features the operator can unlock per workspace. */
export const FEATURES = ["custom-email-provider"] as const;
export type Feature = (typeof FEATURES)[number];

/**
 * The membership check every management route goes through. Another workspace's objects
 * answer 404, not 403, so their existence is not revealed.
 */
export async function requireRole(
  db: Db,
  accountId: string,
  workspaceId: string,
  least: Role,
): Promise<Role> {
  const [member] = await db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.accountId, accountId)));
  if (!member) throw notFound("workspace");
  if (rank[member.role] < rank[least]) {
    throw forbidden(
      "role_required",
      `This needs the ${least} role in this workspace; you are ${member.role}.`,
    );
  }
  return member.role;
}

export async function listWorkspaces(db: Db, accountId: string) {
  const rows = await db
    .select({
      id: workspaces.id,
      name: workspaces.name,
      role: workspaceMembers.role,
      createdAt: workspaces.createdAt,
    })
    .from(workspaceMembers)
    .innerJoin(workspaces, eq(workspaces.id, workspaceMembers.workspaceId))
    .where(eq(workspaceMembers.accountId, accountId))
    .orderBy(asc(workspaces.createdAt));
  return Promise.all(
    rows.map(async (w) => ({
      ...w,
      createdAt: w.createdAt.toISOString(),
      features: await featuresOf(db, w.id),
    })),
  );
}

export async function getWorkspace(db: Db, accountId: string, workspaceId: string) {
  const role = await requireRole(db, accountId, workspaceId, "member");
  const [ws] = await db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  return {
    id: ws!.id,
    name: ws!.name,
    role,
    createdAt: ws!.createdAt.toISOString(),
    features: await featuresOf(db, workspaceId),
  };
}

export async function createWorkspace(ctx: Context, accountId: string, name: string) {
  const id = randomId("ws");
  await ctx.db.transaction(async (tx) => {
    await tx.insert(workspaces).values({ id, name });
    await tx.insert(workspaceMembers).values({ workspaceId: id, accountId, role: "owner" });
    await recordAudit(
      tx,
      {
        workspaceId: id,
        actorAccountId: accountId,
        action: "workspace.created",
        targetType: "workspace",
        targetId: id,
        changes: { name },
      },
      ctx.now(),
    );
  });
  return getWorkspace(ctx.db, accountId, id);
}

/** Owners rename their workspace; everyone in it sees the new name. */
export async function renameWorkspace(ctx: Context, actorId: string, workspaceId: string, name: string) {
  await ctx.db.transaction(async (tx) => {
    await requireRole(tx, actorId, workspaceId, "owner");
    const [ws] = await tx
      .select({ name: workspaces.name })
      .from(workspaces)
      .where(eq(workspaces.id, workspaceId));
    if (ws!.name === name) return;
    await tx.update(workspaces).set({ name }).where(eq(workspaces.id, workspaceId));
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: actorId,
        action: "workspace.renamed",
        targetType: "workspace",
        targetId: workspaceId,
        changes: { name: { from: ws!.name, to: name } },
      },
      ctx.now(),
    );
  });
  return getWorkspace(ctx.db, actorId, workspaceId);
}

/**
 * Owners delete their workspace and everything of it: its apps (with their keys, providers, templates,
 * end users, logins and deliveries), its members' memberships, its features and its audit log, by the
 * schema's cascades. The accounts stay: they may belong to other workspaces. A queued delivery of a
 * deleted app finds no row and is dropped by the worker.
 */
export async function deleteWorkspace(ctx: Context, actorId: string, workspaceId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await lockOwnership(tx, workspaceId);
    await requireRole(tx, actorId, workspaceId, "owner");
    await tx.delete(workspaces).where(eq(workspaces.id, workspaceId));
  });
  // Its apps went with it; the login API's cached keys of every app are looked up again.
  ctx.appCache.clear();
}

export async function featuresOf(db: Db, workspaceId: string): Promise<Record<Feature, boolean>> {
  const rows = await db
    .select()
    .from(workspaceFeatures)
    .where(eq(workspaceFeatures.workspaceId, workspaceId));
  const features = Object.fromEntries(FEATURES.map((f) => [f, false])) as Record<Feature, boolean>;
  for (const row of rows)
    if ((FEATURES as readonly string[]).includes(row.feature)) features[row.feature as Feature] = row.enabled;
  return features;
}

export async function isFeatureEnabled(db: Db, workspaceId: string, feature: Feature): Promise<boolean> {
  return (await featuresOf(db, workspaceId))[feature];
}

/** Operator action: unlock or lock a premium feature. */
export async function setFeature(ctx: Context, workspaceId: string, feature: Feature, enabled: boolean) {
  const [ws] = await ctx.db.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!ws) throw notFound("workspace");
  await ctx.db.transaction(async (tx) => {
    await tx
      .insert(workspaceFeatures)
      .values({ workspaceId, feature, enabled, updatedAt: ctx.now() })
      .onConflictDoUpdate({
        target: [workspaceFeatures.workspaceId, workspaceFeatures.feature],
        set: { enabled, updatedAt: ctx.now() },
      });
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: null,
        action: enabled ? "feature.unlocked" : "feature.locked",
        targetType: "feature",
        targetId: feature,
      },
      ctx.now(),
    );
  });
  return { workspaceId, features: await featuresOf(ctx.db, workspaceId) };
}

export async function listMembers(db: Db, accountId: string, workspaceId: string) {
  await requireRole(db, accountId, workspaceId, "member");
  const rows = await db
    .select({
      accountId: accounts.id,
      email: accounts.email,
      role: workspaceMembers.role,
      joinedAt: workspaceMembers.createdAt,
    })
    .from(workspaceMembers)
    .innerJoin(accounts, eq(accounts.id, workspaceMembers.accountId))
    .where(eq(workspaceMembers.workspaceId, workspaceId))
    .orderBy(asc(workspaceMembers.createdAt));
  return rows.map((m) => ({ ...m, joinedAt: m.joinedAt.toISOString() }));
}

/** Whether an app of this workspace sends its login emails from this address. */
async function sendsForWorkspace(db: Db, workspaceId: string, email: EmailAddress): Promise<boolean> {
  const [row] = await db
    .select({ appId: emailProviders.appId })
    .from(emailProviders)
    .innerJoin(apps, eq(apps.id, emailProviders.appId))
    .where(and(eq(apps.workspaceId, workspaceId), eq(emailProviders.senderEmail, email)))
    .limit(1);
  return row !== undefined;
}

/**
 * Invites by email: an unknown address becomes an account that can then sign in (even with invite-only
 * sign-up), and the invitee is emailed from the operator's default sender — never the workspace's own
 * provider — with the workspace, who invited them and the sign-in link. Invitations are limited per
 * workspace and hour, since each one sends an email to an address of the inviter's choosing.
 */
export async function inviteMember(
  ctx: Context,
  actorId: string,
  workspaceId: string,
  email: EmailAddress,
  role: Role,
  mail: OperatorMail | undefined,
) {
  const actorRole = await requireRole(ctx.db, actorId, workspaceId, "admin");
  if (role === "owner" && actorRole !== "owner")
    throw forbidden("role_required", "Only an owner can make another owner.");
  if (await sendsForWorkspace(ctx.db, workspaceId, email)) {
    throw new DomainError(
      "invalid",
      "sender_email_not_allowed",
      "This address is the sender email of an app in this workspace, so it cannot be a member's account here.",
      { field: "email" },
    );
  }
  await ctx.db.transaction(async (tx) => {
    const account = (await findAccountByEmail(tx, email)) ?? (await createAccount(tx, email));
    const [existing] = await tx
      .select()
      .from(workspaceMembers)
      .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.accountId, account.id)));
    if (existing)
      throw new DomainError("conflict", "already_member", `${email} is already a member of this workspace.`, {
        field: "email",
      });
    await consumeSlidingLimits(
      tx,
      [
        {
          key: `invitations:${workspaceId}`,
          limit: ctx.config.limits.invitationsPerHour,
          windowSeconds: 3600,
          message: `Too many invitations from this workspace in the last hour (POSTERN_LIMIT_INVITATIONS_PER_HOUR is ${ctx.config.limits.invitationsPerHour}).`,
        },
      ],
      ctx.now(),
    );
    await tx.insert(workspaceMembers).values({ workspaceId, accountId: account.id, role });
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: actorId,
        action: "member.invited",
        targetType: "account",
        targetId: account.id,
        changes: { email, role },
      },
      ctx.now(),
    );
  });
  await sendInvitation(ctx, mail, { actorId, workspaceId, email, role });
  return listMembers(ctx.db, actorId, workspaceId);
}

/** The membership stands whether or not the email goes out: a failed send is logged, and the invitee can still sign in. */
async function sendInvitation(
  ctx: Context,
  mail: OperatorMail | undefined,
  invite: { actorId: string; workspaceId: string; email: EmailAddress; role: Role },
) {
  if (!mail) {
    ctx.log.info(
      { workspaceId: invite.workspaceId },
      "invitation email not sent: this process has no default sender",
    );
    return;
  }
  const [ws] = await ctx.db
    .select({ name: workspaces.name })
    .from(workspaces)
    .where(eq(workspaces.id, invite.workspaceId));
  const inviter = await getAccount(ctx.db, invite.actorId);
  try {
    await mail(
      invitationEmail(ctx.config, {
        to: invite.email,
        workspaceId: invite.workspaceId,
        workspaceName: ws?.name ?? "a workspace",
        inviterEmail: inviter?.email ?? "A member",
        role: invite.role,
      }),
    );
    ctx.log.info({ workspaceId: invite.workspaceId }, "invitation email sent");
  } catch (err) {
    ctx.log.warn({ err, workspaceId: invite.workspaceId }, "invitation email not sent");
  }
}

async function ownerCount(db: Db, workspaceId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, "owner")));
  return row?.n ?? 0;
}

async function memberRole(db: Db, workspaceId: string, accountId: string): Promise<Role> {
  const [target] = await db
    .select({ role: workspaceMembers.role })
    .from(workspaceMembers)
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.accountId, accountId)));
  if (!target) throw notFound("member");
  return target.role;
}

/**
 * Locks the workspace row until the transaction ends, so changes to who owns it run one at a time:
 * two owners leaving at once must not both see "another owner remains". The actor's role, the
 * target's role and the owner count are read after the lock. NO KEY UPDATE does not block inserts
 * that merely reference the workspace (its apps, members).
 */
async function lockOwnership(tx: Db, workspaceId: string): Promise<void> {
  await tx
    .select({ id: workspaces.id })
    .from(workspaces)
    .where(eq(workspaces.id, workspaceId))
    .for("no key update");
}

const lastOwner = (field?: string) =>
  new DomainError("conflict", "last_owner", "A workspace needs at least one owner.", field ? { field } : {});

export async function changeMemberRole(
  ctx: Context,
  actorId: string,
  workspaceId: string,
  accountId: string,
  role: Role,
) {
  await ctx.db.transaction(async (tx) => {
    await lockOwnership(tx, workspaceId);
    const actorRole = await requireRole(tx, actorId, workspaceId, "admin");
    const current = await memberRole(tx, workspaceId, accountId);
    if ((current === "owner" || role === "owner") && actorRole !== "owner")
      throw forbidden("role_required", "Only an owner can change an owner's role or make an owner.");
    if (current === "owner" && role !== "owner" && (await ownerCount(tx, workspaceId)) <= 1)
      throw lastOwner("role");
    await tx
      .update(workspaceMembers)
      .set({ role })
      .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.accountId, accountId)));
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: actorId,
        action: "member.role_changed",
        targetType: "account",
        targetId: accountId,
        changes: { role: { from: current, to: role } },
      },
      ctx.now(),
    );
  });
  return listMembers(ctx.db, actorId, workspaceId);
}

export async function removeMember(ctx: Context, actorId: string, workspaceId: string, accountId: string) {
  await ctx.db.transaction(async (tx) => {
    await lockOwnership(tx, workspaceId);
    const actorRole = await requireRole(tx, actorId, workspaceId, actorId === accountId ? "member" : "admin");
    const current = await memberRole(tx, workspaceId, accountId);
    if (current === "owner" && actorRole !== "owner")
      throw forbidden("role_required", "Only an owner can remove an owner.");
    if (current === "owner" && (await ownerCount(tx, workspaceId)) <= 1) throw lastOwner();
    await tx
      .delete(workspaceMembers)
      .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.accountId, accountId)));
    await recordAudit(
      tx,
      {
        workspaceId,
        actorAccountId: actorId,
        action: "member.removed",
        targetType: "account",
        targetId: accountId,
      },
      ctx.now(),
    );
  });
}
