import { useState } from "react";
import { type ApiError, api, enc, toApiError } from "../../api/client.ts";
import { type Delivery, type DeliveryStatus, deliveryStatuses, type Route } from "../../api/types.ts";
import { DeliveryStatusBadge, RouteLabel, statusLabel } from "../../components/delivery-status.tsx";
import { Badge, EmptyState, ErrorNotice, FormError, Loading } from "../../components/feedback.tsx";
import { SelectField, TextField } from "../../components/field.tsx";
import { Time } from "../../components/time.tsx";
import { Link, navigate, useLocation } from "../../router.tsx";
import { useResource } from "../../use-resource.ts";
import type { AppPageProps } from "./app-layout.tsx";
import "./deliveries.css";

const REFRESH_MS = 4000;

const isStatus = (value: string | null): value is DeliveryStatus =>
  deliveryStatuses.includes(value as DeliveryStatus);
const isRoute = (value: string | null): value is Route => value === "default" || value === "custom";
const isDate = (value: string | null): value is string => value !== null && /^\d{4}-\d{2}-\d{2}$/.test(value);

/** The filters live in the URL, so a search can be bookmarked, shared and kept by Back. */
interface Filters {
  q: string;
  status?: DeliveryStatus | undefined;
  route?: Route | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

function filtersOf(searchParams: URLSearchParams): Filters {
  const get = (name: string) => searchParams.get(name);
  return {
    q: get("q") ?? "",
    status: isStatus(get("status")) ? (get("status") as DeliveryStatus) : undefined,
    route: isRoute(get("route")) ? (get("route") as Route) : undefined,
    from: isDate(get("from")) ? (get("from") as string) : undefined,
    to: isDate(get("to")) ? (get("to") as string) : undefined,
  };
}

/** Dates are picked in the browser's time zone: from its midnight, to the end of the `to` day. */
const localMidnight = (date: string, days = 0) => {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(y, m - 1, d + days).toISOString();
};

function apiQuery(filters: Filters) {
  return {
    recipient: filters.q.trim() || undefined,
    status: filters.status,
    route: filters.route,
    from: filters.from ? localMidnight(filters.from) : undefined,
    to: filters.to ? localMidnight(filters.to, 1) : undefined,
  };
}

function urlOf(pathname: string, filters: Filters) {
  const params = new URLSearchParams();
  if (filters.q.trim()) params.set("q", filters.q.trim());
  for (const name of ["status", "route", "from", "to"] as const) {
    const value = filters[name];
    if (value) params.set(name, value);
  }
  const query = params.toString();
  return query ? `${pathname}?${query}` : pathname;
}

/** Recent login emails of the app, newest first, searchable, refreshed while the page is open. */
export function DeliveriesPage({ workspace, app }: AppPageProps) {
  const { pathname, searchParams } = useLocation();
  const filters = filtersOf(searchParams);
  const filtered = Boolean(filters.q.trim() || filters.status || filters.route || filters.from || filters.to);
  const key = urlOf("", filters);
  const [draft, setDraft] = useState<Filters>(filters);
  // The form follows the URL when it changes from elsewhere (Back, a link).
  const [draftKey, setDraftKey] = useState(key);
  if (draftKey !== key) {
    setDraftKey(key);
    setDraft(filters);
  }
  const path = { appId: app.id };
  const PAGE = "25";
  const first = useResource(
    `deliveries:${app.id}:${key}`,
    () => api.get("/api/apps/{appId}/deliveries", { path, query: { ...apiQuery(filters), limit: PAGE } }),
    { pollMs: REFRESH_MS },
  );
  // Older pages are fetched on demand and kept beneath the live first page.
  const [older, setOlder] = useState<{ key: string; deliveries: Delivery[]; cursor: string | null }>();
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<ApiError>();
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
      const page = await api.get("/api/apps/{appId}/deliveries", {
        path,
        query: { ...apiQuery(filters), limit: PAGE, cursor },
      });
      setOlder({
        key,
        deliveries: [...(olderForThisFilter?.deliveries ?? []), ...page.deliveries],
        cursor: page.nextCursor,
      });
    } catch (err) {
      setOlderError(toApiError(err));
    } finally {
      setLoadingOlder(false);
    }
  };
  const apply = (next: Filters) => navigate(urlOf(pathname, next), { replace: true });

  const detailPath = (d: Delivery) => `/w/${enc(workspace.id)}/apps/${enc(app.id)}/deliveries/${enc(d.id)}`;

  return (
    <div className="stack">
      <form
        className="log-filters"
        aria-label="Search the delivery log"
        onSubmit={(e) => {
          e.preventDefault();
          apply(draft);
        }}
      >
        <TextField
          label="Recipient"
          type="search"
          name="q"
          value={draft.q}
          maxLength={254}
          placeholder="name@example.com"
          hint="The address or its beginning"
          onChange={(e) => setDraft({ ...draft, q: e.target.value })}
        />
        <SelectField
          label="Status"
          name="status"
          value={draft.status ?? ""}
          onChange={(e) => apply({ ...draft, status: (e.target.value || undefined) as DeliveryStatus })}
          options={[
            { value: "", label: "All statuses" },
            ...deliveryStatuses.map((s) => ({ value: s, label: statusLabel(s) })),
          ]}
        />
        <SelectField
          label="Route"
          name="route"
          value={draft.route ?? ""}
          onChange={(e) => apply({ ...draft, route: (e.target.value || undefined) as Route })}
          options={[
            { value: "", label: "All routes" },
            { value: "custom", label: "Custom provider" },
            { value: "default", label: "Default sender" },
          ]}
        />
        <TextField
          label="From"
          type="date"
          name="from"
          value={draft.from ?? ""}
          max={draft.to}
          onChange={(e) => setDraft({ ...draft, from: e.target.value || undefined })}
        />
        <TextField
          label="To"
          type="date"
          name="to"
          value={draft.to ?? ""}
          min={draft.from}
          onChange={(e) => setDraft({ ...draft, to: e.target.value || undefined })}
        />
        <div className="log-filters-actions">
          <button type="submit" className="btn btn-primary">
            Search
          </button>
          {filtered && (
            <button type="button" className="btn btn-secondary" onClick={() => apply({ q: "" })}>
              Clear
            </button>
          )}
        </div>
      </form>
      <p className="toolbar-note" aria-live="off">
        <span className="live-dot" aria-hidden="true" /> Refreshes every {REFRESH_MS / 1000} seconds
      </p>
      {first.error && <ErrorNotice error={first.error} onRetry={() => void first.reload()} />}
      {first.loading && !first.data ? (
        <Loading label="Loading the delivery log…" rows={5} />
      ) : rows.length === 0 ? (
        !first.error && (
          <EmptyState title={filtered ? "No login emails match" : "No login emails yet"}>
            {filtered
              ? "Nothing matches this search. Change the filters, or clear them."
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
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id}>
                  <td data-label="Time">
                    <Time iso={d.createdAt} />
                  </td>
                  <td data-label="Recipient" className="cell-strong">
                    <Link to={detailPath(d)}>{d.recipient}</Link>
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
                  <td data-label="Error" className="cell-error">
                    {d.lastError && d.status !== "sent" ? d.lastError : "—"}
                    {d.nextAttemptAt && (
                      <span className="cell-sub">
                        Next try <Time iso={d.nextAttemptAt} />
                      </span>
                    )}
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
            {loadingOlder ? "Loading…" : "Load more"}
          </button>
        </div>
      )}
    </div>
  );
}
