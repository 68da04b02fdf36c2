import { and, desc, eq, lt } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../db/connection.ts";
import { accounts, apps, auditEvents } from "../db/schema.ts";
import { randomId } from "../security/tokens.ts";
import { type AuditAction, describeAudit } from "./describe.ts";

const targetAccounts = alias(accounts, "target_accounts");

export interface AuditEntry {
  workspaceId: string;
  actorAccountId: string | null;
  action: AuditAction;
  targetType: string;
  targetId: string;
  /** Names of changed fields and non-secret values only; secrets appear as "(changed)". */
  changes?: Record<string, unknown>;
}

export async function recordAudit(db: Db, entry: AuditEntry, now: Date): Promise<void> {
  await db
    .insert(auditEvents)
    .values({ id: randomId("aud"), ...entry, changes: entry.changes ?? {}, createdAt: now });
}

export async function listAudit(
  db: Db,
  workspaceId: string,
  options: { limit: number; before?: Date | undefined },
) {
  const rows = await db
    .select({
      event: auditEvents,
      actorEmail: accounts.email,
      appName: apps.name,
      targetEmail: targetAccounts.email,
    })
    .from(auditEvents)
    .leftJoin(accounts, eq(accounts.id, auditEvents.actorAccountId))
    .leftJoin(apps, and(eq(auditEvents.targetType, "app"), eq(apps.id, auditEvents.targetId)))
    .leftJoin(
      targetAccounts,
      and(eq(auditEvents.targetType, "account"), eq(targetAccounts.id, auditEvents.targetId)),
    )
    .where(
      options.before
        ? and(eq(auditEvents.workspaceId, workspaceId), lt(auditEvents.createdAt, options.before))
        : eq(auditEvents.workspaceId, workspaceId),
    )
    .orderBy(desc(auditEvents.createdAt))
    .limit(options.limit);
  return rows.map(({ event: r, actorEmail, appName, targetEmail }) => ({
    id: r.id,
    action: r.action,
    summary: describeAudit({ ...r, appName, targetEmail }),
    actorAccountId: r.actorAccountId,
    // Null for the operator, whose actions have no account.
    actor: r.actorAccountId ? { id: r.actorAccountId, email: actorEmail ?? null } : null,
    targetType: r.targetType,
    targetId: r.targetId,
    changes: r.changes,
    createdAt: r.createdAt.toISOString(),
  }));
}
