import { Badge } from "../../components/feedback.tsx";
import { Time } from "../../components/time.tsx";
import { formFromProvider, isVisible } from "./provider-form-state.ts";
import {
  type KindField,
  kindOfProvider,
  type ProviderKind,
  type ProviderView,
  viewValue,
} from "./provider-kinds.ts";
import { TestResultView } from "./test-result.tsx";
import "./provider-status.css";

/** Where the saved provider sends: its kind's destination fields, as the kind labels them and their options. */
function destinationOf(kind: ProviderKind, provider: ProviderView): string {
  const { values } = formFromProvider(kind, provider);
  const shown = (field: KindField) => {
    const value = viewValue(provider, field.name);
    return field.options?.find((option) => option.value === value)?.label ?? String(value ?? "");
  };
  return kind.fields
    .filter((field) => field.destination && isVisible(field, values))
    .map((field) => `${field.label} ${shown(field)}`)
    .join(" · ");
}

/** Whether a saved provider is in use and works: one badge, on the provider's card and in the chain. */
export function HealthBadge({ provider, locked }: { provider: ProviderView; locked: boolean }) {
  if (locked) return <Badge tone="neutral">Not in use (locked)</Badge>;
  if (!provider.enabled) return <Badge tone="warning">Disabled</Badge>;
  if (provider.health.status === "working") return <Badge tone="success">Working</Badge>;
  if (provider.health.status === "failing") return <Badge tone="danger">Failing</Badge>;
  return <Badge tone="neutral">Not checked yet</Badge>;
}

/** The saved provider as it stands: where mail goes, whether it works, the last test. */
export function ProviderStatus({
  provider,
  kinds,
  locked,
  onSwitch,
}: {
  provider: ProviderView;
  kinds: ProviderKind[];
  locked: boolean;
  /** Present for owners and admins: asks to switch the provider off or on. */
  onSwitch?: (() => void) | undefined;
}) {
  const { health } = provider;
  const kind = kindOfProvider(kinds, provider);
  return (
    <section className="provider-status" aria-labelledby="provider-status-title">
      <div className="provider-status-head">
        <h3 id="provider-status-title" className="provider-status-title">
          Saved provider
        </h3>
        <HealthBadge provider={provider} locked={locked} />
        {onSwitch && !locked && (
          <button
            type="button"
            role="switch"
            aria-checked={provider.enabled}
            className="btn btn-secondary btn-sm"
            onClick={onSwitch}
          >
            {provider.enabled ? "Enabled · disable" : "Disabled · enable"}
          </button>
        )}
      </div>
      {!provider.enabled && !locked && <p className="muted">{health.emails}</p>}
      <dl className="details">
        <div>
          <dt>From</dt>
          <dd className="break">
            “{provider.effectiveSenderName}” &lt;{provider.senderEmail}&gt;
          </dd>
        </div>
        <div>
          <dt>Through</dt>
          <dd className="break">
            {kind ? (
              <>
                {kind.label}
                <span className="muted"> · {destinationOf(kind, provider)}</span>
              </>
            ) : (
              provider.type
            )}
          </dd>
        </div>
        <div>
          <dt>Health</dt>
          <dd>
            {health.status === "failing" ? (
              <span className="text-danger">{health.reason ?? "The last send or test failed."}</span>
            ) : health.status === "working" ? (
              "The last send, check or test went through."
            ) : (
              "No email has gone through it yet. Send a test email to check it."
            )}
            {health.since && (
              <span className="muted">
                {" "}
                · {health.status === "failing" ? "since" : "working since"} <Time iso={health.since} />
              </span>
            )}
            {health.status === "failing" && (
              <p className="muted">
                {health.emails}
                {health.nextCheckAt && (
                  <>
                    {" "}
                    Next check: <Time iso={health.nextCheckAt} />.
                  </>
                )}
              </p>
            )}
          </dd>
        </div>
        <div>
          <dt>If it fails</dt>
          <dd>{health.ifItFails}</dd>
        </div>
        <div>
          <dt>Saved</dt>
          <dd>
            <Time iso={provider.updatedAt} />
            {provider.updatedBy && <> by {provider.updatedBy.email}</>}
          </dd>
        </div>
      </dl>
      {provider.lastTest && (
        <details className="last-test">
          <summary>
            Last test: {provider.lastTest.ok ? "passed" : "failed"}, <Time iso={provider.lastTest.testedAt} />
          </summary>
          <TestResultView result={provider.lastTest} />
        </details>
      )}
    </section>
  );
}
