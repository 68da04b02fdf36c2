import type { ReactNode } from "react";
import type { ApiError } from "../api/client.ts";
import "./feedback.css";

type Tone = "info" | "success" | "warning" | "danger" | "neutral";

export function Notice({
  tone = "info",
  title,
  children,
  actions,
}: {
  tone?: Tone;
  title?: ReactNode;
  children?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className={`notice notice-${tone}`} role={tone === "danger" ? "alert" : "status"}>
      <div className="notice-body">
        {title && <div className="notice-title">{title}</div>}
        {children && <div className="notice-text">{children}</div>}
      </div>
      {actions && <div className="notice-actions">{actions}</div>}
    </div>
  );
}

/**
 * An API failure in words: the problem's `detail`, which the server writes for people. "Try again" is
 * offered only where trying again can help: not for something that does not exist or is not allowed.
 */
export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const retryable = ![403, 404].includes(error.status);
  return (
    <Notice
      tone="danger"
      title={error.problem.title}
      actions={
        onRetry &&
        retryable && (
          <button type="button" className="btn btn-secondary btn-sm" onClick={onRetry}>
            Try again
          </button>
        )
      }
    >
      {error.message}
    </Notice>
  );
}

/** Space reserved for a form's error so the layout does not jump when one appears. */
export function FormError({ error }: { error: ApiError | undefined }) {
  return (
    <div className="form-error" role={error ? "alert" : undefined}>
      {error ? error.message : ""}
    </div>
  );
}

export function Loading({ label = "Loading…", rows = 3 }: { label?: string; rows?: number }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="visually-hidden">{label}</span>
      {Array.from({ length: rows }, (_, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders have no identity.
        <div key={i} className="skeleton" aria-hidden="true" />
      ))}
    </div>
  );
}

export function Spinner() {
  return <span className="spinner" aria-hidden="true" />;
}

export function EmptyState({
  title,
  children,
  action,
}: {
  title: ReactNode;
  children?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="empty-state">
      <div className="empty-state-title">{title}</div>
      {children && <div className="empty-state-text">{children}</div>}
      {action && <div className="empty-state-action">{action}</div>}
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

/** Shown above a form whose unsaved edits came back after a re-sign-in (web/src/drafts.ts). */
export function DraftNotice({ restored }: { restored: boolean }) {
  if (!restored) return null;
  return (
    <Notice tone="info" title="Your unsaved changes are back">
      Your session expired while you were editing; the changes you had not saved are filled in again. Save to
      keep them.
    </Notice>
  );
}
