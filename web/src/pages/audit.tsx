import { useState } from "react";
import { type ApiError, api, enc, toApiError } from "../api/client.ts";
import type { AuditEvent, Member, WorkspaceSummary } from "../api/types.ts";
import { EmptyState, ErrorNotice, FormError, Loading } from "../components/feedback.tsx";
import { PageHeader } from "../components/layout.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../use-resource.ts";

const PAGE = 50;

/** What happened, in words; unknown actions (added by newer servers) show their code. */
const actionLabels: Record<string, string> = {
  "workspace.created": "created the workspace",
  "member.invited": "invited a member",
  "member.role_changed": "changed a member's role",
  "member.removed": "removed a member",
  "app.created": "created an app",
  "app.updated": "changed an app",
  "app.deleted": "deleted an app",
  "app.secret_key_rotated": "rotated an app's secret key",
  "email_provider.created": "set up a custom email provider",
  "email_provider.updated": "changed the email provider",
  "email_provider.deleted": "switched back to the default sender",
  "email_provider.tested": "tested the email provider",
};

const isChange = (value: unknown): value is { from: unknown; to: unknown } =>
  typeof value === "object" && value !== null && "from" in value && "to" in value;

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (isChange(value)) return `${describeValue(value.from)} → ${describeValue(value.to)}`;
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value.join(", ") || "none";
  return JSON.stringify(value);
}

export function AuditPage({ workspace }: { workspace: WorkspaceSummary }) {
  const path = `/api/workspaces/${enc(workspace.id)}/audit`;
  const first = useResource(`audit:${workspace.id}`, () =>
    api.get<{ events: AuditEvent[] }>(path, { query: { limit: PAGE } }),
  );
  const members = useResource(`members:${workspace.id}`, () =>
    api.get<{ members: Member[] }>(`/api/workspaces/${enc(workspace.id)}/members`),
  );
  const [older, setOlder] = useState<AuditEvent[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<ApiError>();

  const events = [...(first.data?.events ?? []), ...older];
  const emailOf = new Map(members.data?.members.map((m) => [m.accountId, m.email]));
  const hasMore = !exhausted && (first.data?.events.length ?? 0) === PAGE;

  const loadOlder = async () => {
    const last = events.at(-1);
    if (!last) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await api.get<{ events: AuditEvent[] }>(path, {
        query: { limit: PAGE, before: last.createdAt },
      });
      setOlder((prev) => [...prev, ...page.events]);
      if (page.events.length < PAGE) setExhausted(true);
    } catch (err) {
      setOlderError(toApiError(err));
    } finally {
      setLoadingOlder(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change to this workspace, its members, apps, keys and email providers. Secret values are never recorded."
      />
      {first.error && <ErrorNotice error={first.error} onRetry={() => void first.reload()} />}
      {first.loading && !first.data ? (
        <Loading label="Loading the audit log…" rows={5} />
      ) : events.length === 0 ? (
        !first.error && (
          <EmptyState title="Nothing has happened yet">Changes appear here as people make them.</EmptyState>
        )
      ) : (
        <ol className="audit-list" aria-label="Audit events, newest first">
          {events.map((event) => {
            const actor = event.actorAccountId
              ? (emailOf.get(event.actorAccountId) ?? event.actorAccountId)
              : "Postern (operator)";
            const changes = Object.entries(event.changes);
            return (
              <li key={event.id} className="audit-item">
                <div className="audit-line">
                  <span className="audit-actor">{actor}</span>{" "}
                  <span className="audit-action">{actionLabels[event.action] ?? event.action}</span>
                  <span className="audit-time">
                    <Time iso={event.createdAt} />
                  </span>
                </div>
                <div className="audit-target">
                  <code>{event.action}</code> · {event.targetType} <code>{event.targetId}</code>
                </div>
                {changes.length > 0 && (
                  <dl className="audit-changes">
                    {changes.map(([key, value]) => (
                      <div key={key}>
                        <dt>{key}</dt>
                        <dd>{describeValue(value)}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <FormError error={olderError} />
      {hasMore && events.length > 0 && (
        <button
          type="button"
          className="btn btn-secondary"
          onClick={() => void loadOlder()}
          disabled={loadingOlder}
        >
          {loadingOlder ? "Loading…" : "Load older events"}
        </button>
      )}
    </>
  );
}
