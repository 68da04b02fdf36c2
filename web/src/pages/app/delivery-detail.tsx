import { useEffect, useState } from "react";
import { type ApiError, api, enc, toApiError } from "../../api/client.ts";
import type { Delivery, DeliveryAttempt } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import {
  AttemptOutcomeBadge,
  DeliveryStatusBadge,
  isInFlight,
  RouteLabel,
} from "../../components/delivery-status.tsx";
import { EmptyState, ErrorNotice, FormError, Loading, Notice } from "../../components/feedback.tsx";
import { Card } from "../../components/layout.tsx";
import { formatDuration, Time } from "../../components/time.tsx";
import { Link } from "../../router.tsx";
import { useResource } from "../../use-resource.ts";
import type { AppPageProps } from "./app-layout.tsx";
import "./delivery-detail.css";

const REASONS: Record<NonNullable<DeliveryAttempt["cause"]>["reason"], string> = {
  refused: "connection refused",
  timeout: "no answer in time",
  dns: "the host name did not resolve",
  unreachable: "network unreachable",
  reset: "connection reset",
  tls: "TLS failed",
  blocked: "destination refused by Postern's outbound rules",
  other: "connection failed",
};

function causeText(cause: NonNullable<DeliveryAttempt["cause"]>) {
  const where = cause.host ? `${cause.host}${cause.port ? `:${cause.port}` : ""}` : undefined;
  return where ? `${where}: ${REASONS[cause.reason]}` : REASONS[cause.reason];
}

/** Resend: a new login email with a new code, after a confirmation; shows where the new one is. */
function ResendAction({
  delivery,
  appId,
  detailPath,
}: {
  delivery: Delivery;
  appId: string;
  detailPath(id: string): string;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [created, setCreated] = useState<Delivery>();
  const resend = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setCreated(
        await api.post("/api/apps/{appId}/deliveries/{deliveryId}/resend", {
          path: { appId, deliveryId: delivery.id },
        }),
      );
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  if (created) {
    return (
      <Notice
        tone="success"
        title="A new login email is on its way"
        actions={<Link to={detailPath(created.id)}>Follow the new email</Link>}
      >
        {created.recipient} gets a new code; the old one no longer works.
      </Notice>
    );
  }
  return (
    <div className="stack-tight">
      <FormError error={error} />
      <div>
        <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)}>
          Resend login email
        </button>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Send ${delivery.recipient} a new login email?`}
        confirmLabel="Send a new email"
        tone="primary"
        busy={busy}
        onConfirm={() => void resend()}
        onCancel={() => setConfirming(false)}
      >
        Postern starts a new login with a new code, as if they had asked again: the old code is not sent
        again, and the login email limits for this address apply.
      </ConfirmDialog>
    </div>
  );
}

/** One login email: where it went and every attempt with the server's reply, its cause and a fix. */
export function DeliveryDetailPage({ workspace, app, deliveryId }: AppPageProps & { deliveryId: string }) {
  const [settled, setSettled] = useState(false);
  const delivery = useResource(
    `delivery:${deliveryId}`,
    () => api.get("/api/apps/{appId}/deliveries/{deliveryId}", { path: { appId: app.id, deliveryId } }),
    { pollMs: settled ? undefined : 4000 },
  );
  const status = delivery.data?.status;
  // Sent, failed and expired emails do not change any more: stop asking.
  useEffect(() => setSettled(status !== undefined && !isInFlight(status)), [status]);
  const back = `/w/${enc(workspace.id)}/apps/${enc(app.id)}/deliveries`;
  const d = delivery.data;

  return (
    <div className="stack">
      <p>
        <Link to={back}>← All login emails</Link>
      </p>
      {delivery.error && <ErrorNotice error={delivery.error} onRetry={() => void delivery.reload()} />}
      {delivery.loading && !d ? (
        <Loading label="Loading the email…" />
      ) : (
        d && (
          <>
            <Card
              title={
                <span className="title-with-badge">
                  Login email to {d.recipient} <DeliveryStatusBadge status={d.status} />
                </span>
              }
              id="delivery"
              description={
                isInFlight(d.status) ? "Still in progress; this page updates by itself." : undefined
              }
            >
              <dl className="details">
                <div>
                  <dt>Recipient</dt>
                  <dd>{d.recipient}</dd>
                </div>
                <div>
                  <dt>From</dt>
                  <dd>{d.sender ?? "—"}</dd>
                </div>
                <div>
                  <dt>Route</dt>
                  <dd>
                    <RouteLabel route={d.route} />
                  </dd>
                </div>
                <div>
                  <dt>Language</dt>
                  <dd>{d.locale ? <code>{d.locale}</code> : "—"}</dd>
                </div>
                <div>
                  <dt>Kind</dt>
                  <dd>{d.purpose === "template_test" ? "Test from the template editor" : "Login email"}</dd>
                </div>
                <div>
                  <dt>Requested</dt>
                  <dd>
                    <Time iso={d.createdAt} format="absolute" />
                  </dd>
                </div>
                <div>
                  <dt>Sent</dt>
                  <dd>{d.sentAt ? <Time iso={d.sentAt} format="absolute" /> : "—"}</dd>
                </div>
                <div>
                  <dt>Login expires</dt>
                  <dd>
                    <Time iso={d.expiresAt} format="both" />
                  </dd>
                </div>
                <div>
                  <dt>Message ID</dt>
                  <dd className="break">{d.messageId ? <code>{d.messageId}</code> : "—"}</dd>
                </div>
                {d.nextAttemptAt && (
                  <div>
                    <dt>Next try</dt>
                    <dd>
                      <Time iso={d.nextAttemptAt} format="both" />
                    </dd>
                  </div>
                )}
                {d.lastError && (
                  <div className="details-wide">
                    <dt>Last error</dt>
                    <dd className="text-danger">{d.lastError}</dd>
                  </div>
                )}
              </dl>
              {d.resendable && (
                <ResendAction delivery={d} appId={app.id} detailPath={(id) => `${back}/${enc(id)}`} />
              )}
            </Card>
            <Card title={`Attempts (${d.attempts.length})`} id="attempts">
              {d.attempts.length === 0 ? (
                <EmptyState title="No attempts yet">The worker picks the email up within seconds.</EmptyState>
              ) : (
                <ol className="attempts">
                  {d.attempts.map((a, i) => (
                    <li key={`${a.at}-${a.outcome}`} className={`attempt attempt-${a.outcome}`}>
                      <div className="attempt-head">
                        <span className="attempt-number">Attempt {i + 1}</span>
                        <AttemptOutcomeBadge outcome={a.outcome} />
                        <span className="attempt-meta">
                          <Time iso={a.at} format="absolute" /> · {formatDuration(a.durationMs)} ·{" "}
                          <RouteLabel route={a.route} />
                        </span>
                      </div>
                      <dl className="attempt-body">
                        {a.provider && (
                          <div>
                            <dt>Provider</dt>
                            <dd className="break">{a.provider.label}</dd>
                          </div>
                        )}
                        {a.errorClass && (
                          <div>
                            <dt>Error class</dt>
                            <dd>
                              <code>{a.errorClass}</code>
                            </dd>
                          </div>
                        )}
                        <div>
                          <dt>SMTP reply</dt>
                          <dd>{a.smtpReply ? <code className="smtp-reply">{a.smtpReply}</code> : "—"}</dd>
                        </div>
                        {a.cause && (
                          <div>
                            <dt>Cause</dt>
                            <dd>{causeText(a.cause)}</dd>
                          </div>
                        )}
                        {a.message && (
                          <div>
                            <dt>Note</dt>
                            <dd>{a.message}</dd>
                          </div>
                        )}
                        {a.hint && (
                          <div>
                            <dt>How to fix</dt>
                            <dd className="attempt-hint">{a.hint}</dd>
                          </div>
                        )}
                      </dl>
                    </li>
                  ))}
                </ol>
              )}
            </Card>
          </>
        )
      )}
    </div>
  );
}
