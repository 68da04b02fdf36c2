import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/connection.ts";
import { accounts, auditEvents } from "../db/schema.ts";
import { randomId } from "../security/tokens.ts";

export interface AuditEntry {
  workspaceId: string;
  actorAccountId: string | null;
  action: string;
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
    .select({ event: auditEvents, actorEmail: accounts.email })
    .from(auditEvents)
    .leftJoin(accounts, eq(accounts.id, auditEvents.actorAccountId))
    .where(
      options.before
        ? and(eq(auditEvents.workspaceId, workspaceId), lt(auditEvents.createdAt, options.before))
        : eq(auditEvents.workspaceId, workspaceId),
    )
    .orderBy(desc(auditEvents.createdAt))
    .limit(options.limit);
  return rows.map(({ event: r, actorEmail }) => ({
    id: r.id,
    action: r.action,
    actorAccountId: r.actorAccountId,
    // Null for the operator, whose actions have no account.
    actor: r.actorAccountId ? { id: r.actorAccountId, email: actorEmail ?? null } : null,
    targetType: r.targetType,
    targetId: r.targetId,
    changes: r.changes,
    createdAt: r.createdAt.toISOString(),
  }));
}
