import { useState } from "react";
import { type ApiError, api, toApiError } from "../api/client.ts";
import type { AuditEvent, WorkspaceSummary } from "../api/types.ts";
import { EmptyState, ErrorNotice, FormError, Loading } from "../components/feedback.tsx";
import { PageHeader } from "../components/layout.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../use-resource.ts";
import "./audit.css";

const PAGE = 50;

export function AuditPage({ workspace }: { workspace: WorkspaceSummary }) {
  const path = { workspaceId: workspace.id };
  const first = useResource(`audit:${workspace.id}`, () =>
    api.get("/api/workspaces/{workspaceId}/audit", { path, query: { limit: PAGE } }),
  );
  const [older, setOlder] = useState<AuditEvent[]>([]);
  const [exhausted, setExhausted] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<ApiError>();

  const events = [...(first.data?.events ?? []), ...older];
  const hasMore = !exhausted && (first.data?.events.length ?? 0) === PAGE;

  const loadOlder = async () => {
    const last = events.at(-1);
    if (!last) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await api.get("/api/workspaces/{workspaceId}/audit", {
        path,
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
          {events.map((event) => (
            <li key={event.id} className="audit-item">
              <div className="audit-line">
                <span className="audit-sentence">
                  {/* The server writes the sentence (src/audit/describe.ts); it follows the actor. */}
                  <span className="audit-actor">{event.actor?.email ?? "The operator"}</span>{" "}
                  <span className="audit-action">{event.summary}</span>
                </span>
                <span className="audit-time">
                  <Time iso={event.createdAt} />
                </span>
              </div>
            </li>
          ))}
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
