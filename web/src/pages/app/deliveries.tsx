import { useState } from "react";
import { ApiError, api, enc } from "../../api/client.ts";
import { type Delivery, type DeliveryStatus, deliveryStatuses } from "../../api/types.ts";
import { DeliveryStatusBadge, RouteLabel, statusLabel } from "../../components/delivery-status.tsx";
import { Badge, EmptyState, ErrorNotice, FormError, Loading } from "../../components/feedback.tsx";
import { SelectField } from "../../components/field.tsx";
import { Time } from "../../components/time.tsx";
import { Link, navigate, useLocation } from "../../router.tsx";
import { useResource } from "../../use-resource.ts";
import type { AppPageProps } from "./app-layout.tsx";

interface DeliveryPage {
  deliveries: Delivery[];
  nextCursor: string | null;
}

const REFRESH_MS = 4000;

const isStatus = (value: string | null): value is DeliveryStatus =>
  deliveryStatuses.includes(value as DeliveryStatus);

/** Recent login emails of the app, newest first, refreshed while the page is open. */
export function DeliveriesPage({ workspace, app }: AppPageProps) {
  const { pathname, searchParams } = useLocation();
  const requested = searchParams.get("status");
  const status = isStatus(requested) ? requested : undefined;
  const path = `/api/apps/${enc(app.id)}/deliveries`;
  const first = useResource(
    `deliveries:${app.id}:${status ?? "all"}`,
    () => api.get<DeliveryPage>(path, { query: { status, limit: 25 } }),
    { pollMs: REFRESH_MS },
  );
  // Older pages are fetched on demand and kept beneath the live first page.
  const [older, setOlder] = useState<{ key: string; deliveries: Delivery[]; cursor: string | null }>();
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<ApiError>();
  const key = status ?? "all";
  const olderForThisFilter = older?.key === key ? older : undefined;

  const firstIds = new Set(first.data?.deliveries.map((d) => d.id));
  const rows = [
    ...(first.data?.deliveries ?? []),
    ...(olderForThisFilter?.deliveries.filter((d) => !firstIds.has(d.id)) ?? []),
  ];
  const cursor = olderForThisFilter ? olderForThisFilter.cursor : (first.data?.nextCursor ?? null);

  const loadOlder = async () => {
    if (!cursor) return;
    setLoadingOlder(true);
    setOlderError(undefined);
    try {
      const page = await api.get<DeliveryPage>(path, { query: { status, limit: 25, cursor } });
      setOlder({
        key,
        deliveries: [...(olderForThisFilter?.deliveries ?? []), ...page.deliveries],
        cursor: page.nextCursor,
      });
    } catch (err) {
      if (err instanceof ApiError) setOlderError(err);
    } finally {
      setLoadingOlder(false);
    }
  };

  const detailPath = (d: Delivery) => `/w/${enc(workspace.id)}/apps/${enc(app.id)}/deliveries/${enc(d.id)}`;

  return (
    <div className="stack">
      <div className="toolbar">
        <div className="toolbar-filter">
          <SelectField
            label="Status"
            value={status ?? ""}
            onChange={(e) => {
              const next = e.target.value;
              navigate(next ? `${pathname}?status=${next}` : pathname, { replace: true });
            }}
            options={[
              { value: "", label: "All statuses" },
              ...deliveryStatuses.map((s) => ({ value: s, label: statusLabel(s) })),
            ]}
          />
        </div>
        <p className="toolbar-note" aria-live="off">
          <span className="live-dot" aria-hidden="true" /> Refreshes every {REFRESH_MS / 1000} seconds
        </p>
      </div>
      {first.error && <ErrorNotice error={first.error} onRetry={() => void first.reload()} />}
      {first.loading && !first.data ? (
        <Loading label="Loading the delivery log…" rows={5} />
      ) : rows.length === 0 ? (
        !first.error && (
          <EmptyState
            title={status ? `No ${statusLabel(status).toLowerCase()} emails` : "No login emails yet"}
          >
            {status
              ? "Nothing with this status. Choose another status, or All statuses."
              : "When your app calls POST /v1/login/email, each email appears here with every delivery attempt."}
          </EmptyState>
        )
      ) : (
        <div className="table-wrap">
          <table className="table table-responsive">
            <caption className="visually-hidden">Login emails, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Recipient</th>
                <th scope="col">Route</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Attempts
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} className="row-link" onClick={() => navigate(detailPath(d))}>
                  <td data-label="Time">
                    <Time iso={d.createdAt} />
                  </td>
                  <td data-label="Recipient" className="cell-strong">
                    <Link to={detailPath(d)} onClick={(e) => e.stopPropagation()}>
                      {d.recipient}
                    </Link>
                    {d.purpose === "template_test" && (
                      <>
                        {" "}
                        <Badge tone="neutral">Test</Badge>
                      </>
                    )}
                    {d.locale && (
                      <>
                        {" "}
                        <code className="muted-code" title="Language">
                          {d.locale}
                        </code>
                      </>
                    )}
                  </td>
                  <td data-label="Route">
                    <RouteLabel route={d.route} />
                  </td>
                  <td data-label="Status">
                    <DeliveryStatusBadge status={d.status} />
                  </td>
                  <td data-label="Attempts" className="num">
                    {d.attemptCount}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <FormError error={olderError} />
      {cursor && rows.length > 0 && (
        <div>
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => void loadOlder()}
            disabled={loadingOlder}
          >
            {loadingOlder ? "Loading…" : "Load older emails"}
          </button>
        </div>
      )}
    </div>
  );
}
