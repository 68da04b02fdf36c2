import type { DeliveryAttempt, DeliveryStatus, Route } from "../api/types.ts";
import { Badge } from "./feedback.tsx";
import "./delivery-status.css";

const tones = {
  queued: "info",
  sending: "info",
  sent: "success",
  retrying: "warning",
  failed: "danger",
  expired: "neutral",
} as const;

const labels: Record<DeliveryStatus, string> = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  retrying: "Retrying",
  failed: "Failed",
  expired: "Expired",
};

export const statusLabel = (status: DeliveryStatus) => labels[status];

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return <Badge tone={tones[status]}>{labels[status]}</Badge>;
}

export function RouteLabel({ route }: { route: Route }) {
  return (
    <span className={`route route-${route}`}>
      {route === "custom" ? "Custom provider" : "Default sender"}
    </span>
  );
}

const outcomeTones = { sent: "success", retry: "warning", failed: "danger", "moved-on": "warning" } as const;
const outcomeLabels: Record<DeliveryAttempt["outcome"], string> = {
  sent: "Sent",
  retry: "Will retry",
  failed: "Failed",
  "moved-on": "Moved on to the next provider",
};

export function AttemptOutcomeBadge({ outcome }: { outcome: DeliveryAttempt["outcome"] }) {
  return <Badge tone={outcomeTones[outcome]}>{outcomeLabels[outcome]}</Badge>;
}

/** Still moving: the worker has not finished with it. */
export const isInFlight = (status: DeliveryStatus) =>
  status === "queued" || status === "sending" || status === "retrying";
