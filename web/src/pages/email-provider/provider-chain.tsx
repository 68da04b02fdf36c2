import { useEffect, useId, useRef, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import { asProviderState, type EmailProviderState, type TestResult } from "../../api/types.ts";
import { FormError } from "../../components/feedback.tsx";
import { kindOfProvider, type ProviderKind, type ProviderView } from "./provider-kinds.ts";
import { HealthBadge } from "./provider-status.tsx";
import { expectedSteps, TestResultView, TestRunning } from "./test-result.tsx";
import "./provider-chain.css";

/** The server's limit (MAX_PROVIDERS_PER_APP); a POST beyond it is 400 `too_many_providers`. */
export const MAX_PROVIDERS = 5;

/** "Primary", "Fallback 1", …: a provider's place in the order login emails try them. */
export const positionName = (position: number) => (position === 0 ? "Primary" : `Fallback ${position}`);

type Direction = "up" | "down";
/** Each provider's move buttons, in this order. */
const directions: Direction[] = ["up", "down"];

type RowTest =
  | { running: true }
  | { running: false; result: TestResult }
  | { running: false; error: ApiError };

/**
 * The app's providers in the order login emails try them, each with its place, health and actions:
 * edit (in the form below), test its connection, move it up or down, switch it off or on, remove it.
 */
export function ProviderChain({
  appId,
  state,
  kinds,
  disabled,
  editingId,
  onState,
  onTested,
  onEdit,
  onAdd,
  onToggle,
  onRemove,
}: {
  appId: string;
  state: EmailProviderState;
  kinds: ProviderKind[];
  /** Locked, or a member: the chain is shown, nothing changes it. */
  disabled: boolean;
  /** The provider open in the form below (null: a new one being added). */
  editingId: string | null | undefined;
  onState(next: EmailProviderState): void;
  onTested(): void;
  onEdit(providerId: string): void;
  onAdd(): void;
  onToggle(provider: ProviderView): void;
  onRemove(provider: ProviderView): void;
}) {
  const providers: ProviderView[] = state.providers;
  const [tests, setTests] = useState<Record<string, RowTest>>({});
  const [moving, setMoving] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [announcement, setAnnouncement] = useState("");
  // After a move the list is in its new order: focus goes back to the moved provider's button.
  const [refocus, setRefocus] = useState<{ id: string; direction: Direction }>();
  const listRef = useRef<HTMLOListElement>(null);
  const headingId = useId();
  const limitId = useId();
  const full = providers.length >= MAX_PROVIDERS;

  useEffect(() => {
    if (!refocus || !listRef.current) return;
    const button = (direction: Direction) =>
      listRef.current?.querySelector<HTMLButtonElement>(
        `button[data-provider="${CSS.escape(refocus.id)}"][data-move="${direction}"]`,
      );
    const same = button(refocus.direction);
    const target = same && !same.disabled ? same : button(refocus.direction === "up" ? "down" : "up");
    target?.focus();
    setRefocus(undefined);
  }, [refocus]);

  const move = async (provider: ProviderView, direction: Direction) => {
    if (moving) return;
    const index = providers.findIndex((p) => p.id === provider.id);
    const other = direction === "up" ? index - 1 : index + 1;
    if (index < 0 || other < 0 || other >= providers.length) return;
    const order = providers.map((p) => p.id);
    [order[index], order[other]] = [order[other]!, order[index]!];
    setMoving(true);
    setError(undefined);
    try {
      const next = asProviderState(
        await api.put("/api/apps/{appId}/email-providers/order", { path: { appId }, body: { order } }),
      );
      onState(next);
      const position = next.providers.findIndex((p) => p.id === provider.id);
      setAnnouncement(
        `${provider.label} is now ${position === 0 ? "the primary" : positionName(position).toLowerCase()}.`,
      );
      setRefocus({ id: provider.id, direction });
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setMoving(false);
    }
  };

  const test = async (provider: ProviderView) => {
    setTests((t) => ({ ...t, [provider.id]: { running: true } }));
    try {
      const result = await api.post("/api/apps/{appId}/email-providers/{providerId}/test", {
        path: { appId, providerId: provider.id },
        body: {},
      });
      setTests((t) => ({ ...t, [provider.id]: { running: false, result } }));
      onTested();
    } catch (err) {
      setTests((t) => ({ ...t, [provider.id]: { running: false, error: toApiError(err) } }));
    }
  };

  return (
    <div className="provider-chain">
      <p className="chain-explainer">
        A login email moves on to the next provider only when one cannot send for its own sake (credentials,
        connection, TLS, an outage, quota or a full sending limit), never because of the recipient. The
        default sender, <strong>{state.defaultSender}</strong>, comes last only if “Fall back to the default
        sender” is on for an enabled provider.
      </p>
      <h3 id={headingId} className="chain-title">
        Providers, in the order login emails try them
      </h3>
      <ol className="plain-list" aria-labelledby={headingId} ref={listRef}>
        {providers.map((provider, index) => {
          const rowTest = tests[provider.id];
          const kind = kindOfProvider(kinds, provider);
          const editing = editingId === provider.id;
          return (
            <li
              key={provider.id}
              className={`chain-item${editing ? " chain-item-editing" : ""}`}
              aria-current={editing ? "true" : undefined}
            >
              <div className="chain-item-head">
                <span className="chain-position">{positionName(index)}</span>
                <span className="chain-label">{provider.label}</span>
                <span className="chain-badges">
                  <HealthBadge provider={provider} locked={state.locked} />
                  {editing && <span className="chain-editing">Open below</span>}
                </span>
              </div>
              {provider.health.status === "failing" && provider.enabled && !state.locked && (
                <p className="chain-reason text-danger">
                  {provider.health.reason ?? "The last send or test failed."}
                </p>
              )}
              {!kind && <p className="muted">Kind: {provider.type}</p>}
              <div className="chain-actions">
                <button
                  type="button"
                  className="btn btn-secondary btn-sm"
                  aria-label={`${disabled ? "View" : "Edit"} ${provider.label}`}
                  onClick={() => onEdit(provider.id)}
                >
                  {disabled ? "View" : "Edit"}
                </button>
                {!disabled && (
                  <>
                    <button
                      type="button"
                      className="btn btn-secondary btn-sm"
                      aria-label={`Test the connection to ${provider.label}`}
                      disabled={rowTest?.running === true}
                      onClick={() => void test(provider)}
                    >
                      {rowTest?.running ? "Testing…" : "Test"}
                    </button>
                    {providers.length > 1 &&
                      directions.map((direction) => (
                        <button
                          key={direction}
                          type="button"
                          className="btn btn-secondary btn-sm"
                          aria-label={`Move ${provider.label} ${direction}`}
                          data-provider={provider.id}
                          data-move={direction}
                          disabled={index === (direction === "up" ? 0 : providers.length - 1)}
                          onClick={() => void move(provider, direction)}
                        >
                          {`Move ${direction}`}
                        </button>
                      ))}
                    <button
                      type="button"
                      className="btn btn-secondary btn-sm"
                      aria-label={`${provider.enabled ? "Disable" : "Enable"} ${provider.label}`}
                      onClick={() => onToggle(provider)}
                    >
                      {provider.enabled ? "Disable" : "Enable"}
                    </button>
                    <button
                      type="button"
                      className="btn btn-ghost btn-sm btn-danger-text"
                      aria-label={`Remove ${provider.label}`}
                      onClick={() => onRemove(provider)}
                    >
                      Remove
                    </button>
                  </>
                )}
              </div>
              <div className="chain-test" aria-live="polite">
                {rowTest?.running && (
                  <TestRunning
                    steps={expectedSteps(kind?.id ?? provider.type, false, provider.lastTest)}
                    sending={false}
                  />
                )}
                {rowTest && !rowTest.running && "result" in rowTest && (
                  <TestResultView result={rowTest.result} title={`Connection test of ${provider.label}`} />
                )}
                {rowTest && !rowTest.running && "error" in rowTest && <FormError error={rowTest.error} />}
              </div>
            </li>
          );
        })}
      </ol>
      <span className="visually-hidden" role="status">
        {announcement}
      </span>
      <FormError error={error} />
      {!disabled && (
        <div className="chain-add">
          <button
            type="button"
            className="btn btn-secondary"
            disabled={full || editingId === null}
            aria-describedby={full ? limitId : undefined}
            onClick={onAdd}
          >
            Add a fallback provider
          </button>
          {full ? (
            <p id={limitId} className="muted">
              An app can have at most {MAX_PROVIDERS} providers. Remove one to add another.
            </p>
          ) : (
            <p className="muted">
              A fallback is tried after {providers.length === 1 ? "the primary" : "the providers above"}.
            </p>
          )}
        </div>
      )}
    </div>
  );
}
