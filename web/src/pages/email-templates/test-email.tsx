import { useEffect, useRef, useState } from "react";
import { type ApiError, api, enc, toApiError } from "../../api/client.ts";
import type { Delivery, TemplateSource, TemplateTestSent } from "../../api/types.ts";
import { DeliveryStatusBadge, isInFlight, RouteLabel } from "../../components/delivery-status.tsx";
import { Link } from "../../router.tsx";
import "./test-email.css";

export interface TestEmailState {
  sent: TemplateTestSent;
  delivery?: Delivery;
}

const POLL_MS = 1000;
const POLLS = 60;

/**
 * Sends a test of the draft and follows its delivery through the worker, as the delivery log would
 * show it; stops following when the editor goes away.
 */
export function useTemplateTest(appId: string, locale: string) {
  const [state, setState] = useState<TestEmailState>();
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  /** Resolves with the refusal, if the API refused it. */
  const send = async (source: TemplateSource): Promise<ApiError | undefined> => {
    setState(undefined);
    try {
      const sent = await api.post("/api/apps/{appId}/email-templates/{locale}/test", {
        path: { appId, locale },
        body: source,
      });
      setState({ sent });
      for (let i = 0; i < POLLS && mounted.current; i++) {
        const delivery = await api.get("/api/apps/{appId}/deliveries/{deliveryId}", {
          path: { appId, deliveryId: sent.deliveryId },
        });
        if (!mounted.current) break;
        setState({ sent, delivery });
        if (!isInFlight(delivery.status)) break;
        await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
      }
      return undefined;
    } catch (err) {
      return toApiError(err);
    }
  };

  return { state, send };
}

export function TestEmailStatus({ state, appBase }: { state: TestEmailState; appBase: string }) {
  const { sent, delivery } = state;
  return (
    <div className="template-test" role="status">
      {delivery ? (
        <>
          <DeliveryStatusBadge status={delivery.status} /> Test email to {sent.recipient} in{" "}
          <code>{sent.locale}</code> through the <RouteLabel route={delivery.route} />
          {delivery.lastError ? `: ${delivery.lastError}` : "."}{" "}
          <Link to={`${appBase}/deliveries/${enc(sent.deliveryId)}`}>See it in the delivery log</Link>
        </>
      ) : (
        <>Queued a test email to {sent.recipient}…</>
      )}
    </div>
  );
}
