import { useEffect, useId, useRef, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import { asProviderState, type EmailProviderState, type WorkspaceSummary } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { ErrorNotice, FormError, Loading, Notice } from "../../components/feedback.tsx";
import { Card } from "../../components/layout.tsx";
import { hasDraft } from "../../drafts.ts";
import { canManage } from "../../roles.ts";
import { useMe } from "../../session.tsx";
import { type Resource, useResource } from "../../use-resource.ts";
import type { AppPageProps } from "../app/app-layout.tsx";
import { orList } from "./kind-fields.tsx";
import { ProviderChain, positionName } from "./provider-chain.tsx";
import { draftKey, ProviderFormSection } from "./provider-form.tsx";
import { type ProviderKind, type ProviderView, useProviderKinds } from "./provider-kinds.ts";
import { ProviderStatus } from "./provider-status.tsx";
import { RevealedOnce } from "./revealed-once.tsx";
import "../../components/secret-key-reveal.css";
import "./email-provider-page.css";

type Mode = "default" | "custom";
/** What the form edits: a saved provider by id, a new one (`null`), or the primary (`undefined`). */
type Editing = string | null | undefined;
type Confirm = { action: "toggle" | "remove"; provider: ProviderView } | { action: "default" };

const FORM_TITLE_ID = "custom-provider-title";
const CHAIN_TITLE_ID = "provider-chain-title";

/** Moves focus to a card's heading (after Edit or Add, the form below; after a removal, the list). */
function focusHeading(id: string) {
  const heading = document.getElementById(id);
  if (!heading) return;
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

/** App settings → Email provider: the default sender, or the developer's own providers in order. */
export function EmailProviderPage({ workspace, app }: AppPageProps) {
  const state = useResource(`email-provider:${app.id}`, async () =>
    asProviderState(await api.get("/api/apps/{appId}/email-providers", { path: { appId: app.id } })),
  );
  const kinds = useProviderKinds();

  if ((state.loading && !state.data) || (kinds.loading && !kinds.data)) {
    return <Loading label="Loading the email provider…" rows={4} />;
  }
  if (!state.data || !kinds.data) {
    const failed = state.error ? state : kinds;
    return failed.error ? <ErrorNotice error={failed.error} onRetry={() => void failed.reload()} /> : null;
  }
  return (
    <ProviderSettings
      workspace={workspace}
      appId={app.id}
      state={state as Resource<EmailProviderState>}
      data={state.data}
      providerKinds={kinds.data.kinds}
    />
  );
}

function ProviderSettings({
  workspace,
  appId,
  state,
  data,
  providerKinds,
}: {
  workspace: WorkspaceSummary;
  appId: string;
  state: Resource<EmailProviderState>;
  data: EmailProviderState;
  providerKinds: ProviderKind[];
}) {
  const me = useMe();
  const { locked, defaultSender } = data;
  const providers: ProviderView[] = data.providers;
  const primary = providers[0] ?? null;
  // Edits kept across a re-sign-in open again where they were made: the provider, or the one being added.
  const [editing, setEditing] = useState<Editing>(() => {
    if (providers.length > 0 && hasDraft(draftKey(null, true))) return null;
    return providers.find((p) => hasDraft(draftKey(p.id, false)))?.id;
  });
  const [chosen, setChosen] = useState<Mode | undefined>(() =>
    providers.length === 0 && hasDraft(draftKey(null, false)) ? "custom" : undefined,
  );
  // A new form for every provider opened (a save keeps the same one: a new provider gets its id).
  const [formKey, setFormKey] = useState(0);
  const [confirm, setConfirm] = useState<Confirm>();
  const [working, setWorking] = useState(false);
  const [actionError, setActionError] = useState<ApiError>();
  const [revealed, setRevealed] = useState<Record<string, string>>();
  const members = useResource(`members:${workspace.id}`, () =>
    api.get("/api/workspaces/{workspaceId}/members", { path: { workspaceId: workspace.id } }),
  );
  const manage = canManage(workspace.role);
  const modeName = useId();
  const focusAfter = useRef<string | undefined>(undefined);

  useEffect(() => {
    // Not while a dialog is open: the page behind it is inert, and closing it restores focus itself.
    if (focusAfter.current === undefined || confirm) return;
    focusHeading(focusAfter.current);
    focusAfter.current = undefined;
  });

  const mode: Mode = chosen ?? (primary ? "custom" : "default");
  const disabled = locked || !manage;
  const shown: ProviderView | null =
    editing === null ? null : (providers.find((p) => p.id === editing) ?? primary);
  const adding = editing === null && providers.length > 0;

  const open = (next: Editing, focus = FORM_TITLE_ID) => {
    setEditing(next);
    setFormKey((k) => k + 1);
    setRevealed(undefined);
    focusAfter.current = focus;
  };

  /** A new order or state: the form keeps the provider it shows, even if it is no longer the primary. */
  const setState = (next: EmailProviderState) => {
    if (editing === undefined && shown) setEditing(shown.id);
    state.set(next);
  };

  const close = () => {
    setConfirm(undefined);
    setWorking(false);
  };

  const run = async (action: () => Promise<void>) => {
    setWorking(true);
    setActionError(undefined);
    try {
      await action();
    } catch (err) {
      setActionError(toApiError(err));
      await state.reload().catch(() => undefined);
    } finally {
      close();
    }
  };

  const setEnabled = (provider: ProviderView, enabled: boolean) =>
    run(async () => {
      const answer = await api.patch("/api/apps/{appId}/email-providers/{providerId}", {
        path: { appId, providerId: provider.id },
        body: { enabled },
      });
      setState(asProviderState(answer));
    });

  const remove = (provider: ProviderView) =>
    run(async () => {
      await api.delete("/api/apps/{appId}/email-providers/{providerId}", {
        path: { appId, providerId: provider.id },
      });
      await state.reload();
      const last = providers.length === 1;
      if (last) setChosen(undefined);
      if (shown?.id === provider.id || last) open(undefined, last ? "sender-mode-title" : CHAIN_TITLE_ID);
      else focusAfter.current = CHAIN_TITLE_ID;
    });

  /** Every provider goes, one by one: what is left if one fails stays listed, with the error. */
  const switchToDefault = () =>
    run(async () => {
      for (const provider of providers) {
        await api.delete("/api/apps/{appId}/email-providers/{providerId}", {
          path: { appId, providerId: provider.id },
        });
      }
      await state.reload();
      setChosen("default");
      open(undefined, "sender-mode-title");
    });

  const toggleTitle = (provider: ProviderView) =>
    providers.length > 1
      ? `${provider.enabled ? "Disable" : "Enable"} ${provider.label}?`
      : provider.enabled
        ? "Disable the custom provider?"
        : "Enable the custom provider?";
  const positionOf = (provider: ProviderView) => providers.findIndex((p) => p.id === provider.id);

  const formTitle = adding
    ? "Add a fallback provider"
    : shown && providers.length > 1
      ? `${positionName(positionOf(shown))}: ${shown.label}`
      : "Custom email provider";

  return (
    <div className="stack">
      {locked && (
        <Notice tone="warning" title="Custom Email Provider is locked for this workspace">
          It is a premium feature that the operator of this Postern server unlocks per workspace. Until then,
          this app's login emails come from the default sender, <strong>{defaultSender}</strong>, and the
          settings below can be read but not saved or tested.
          {providers.length === 1 && " The custom provider saved earlier is kept, but not used."}
          {providers.length > 1 && " The custom providers saved earlier are kept, but not used."}{" "}
          {workspace.role === "owner"
            ? "Ask your Postern operator to unlock it for this workspace."
            : "Ask a workspace owner to request it from your Postern operator."}
        </Notice>
      )}
      {!locked && !manage && (
        <Notice tone="neutral">
          You are a member of this workspace: owners and admins change the email provider.
        </Notice>
      )}
      <Card title="Sender" id="sender-mode" description="Where this app's login emails are sent from.">
        <fieldset className="mode-choice" disabled={disabled}>
          <legend className="visually-hidden">Send login emails from</legend>
          <label className="choice-card mode-option">
            <input
              type="radio"
              name={modeName}
              value="default"
              checked={mode === "default"}
              onChange={() => setChosen("default")}
            />
            <span className="choice-card-text">
              <span className="mode-option-title">Default sender</span>
              <span className="mode-option-description">
                Postern sends from <strong>{defaultSender}</strong>. Nothing to set up.
              </span>
            </span>
          </label>
          <label className="choice-card mode-option">
            <input
              type="radio"
              name={modeName}
              value="custom"
              checked={mode === "custom"}
              onChange={() => setChosen("custom")}
            />
            <span className="choice-card-text">
              <span className="mode-option-title">Custom email provider</span>
              <span className="mode-option-description">
                Your own sending service and address: an SMTP server, Microsoft 365, Google Workspace, an
                email API or a webhook, with fallbacks to try when it cannot send.
              </span>
            </span>
          </label>
        </fieldset>
        {mode === "default" && primary && !disabled && (
          <div className="mode-switch">
            <p>
              {providers.length === 1
                ? "A custom provider is saved and in use. Switch to the default sender to stop using it; its settings and secret are deleted."
                : `${providers.length} custom providers are saved and in use. Switch to the default sender to stop using them; the settings and secrets of all ${providers.length} are deleted.`}
            </p>
            <FormError error={actionError} />
            <button
              type="button"
              className="btn btn-danger"
              onClick={() => setConfirm({ action: "default" })}
            >
              Switch to the default sender
            </button>
          </div>
        )}
      </Card>
      {(mode === "custom" || locked) && providers.length > 0 && (
        <Card
          title="Providers"
          id="provider-chain"
          description="Login emails try the primary first, then each fallback in turn."
        >
          <ProviderChain
            appId={appId}
            state={data}
            kinds={providerKinds}
            disabled={disabled}
            editingId={editing === null ? null : shown?.id}
            onState={setState}
            onTested={() => void state.reload()}
            onEdit={(id) => open(id)}
            onAdd={() => open(null)}
            onToggle={(provider) => setConfirm({ action: "toggle", provider })}
            onRemove={(provider) => setConfirm({ action: "remove", provider })}
          />
          {mode === "custom" && <FormError error={actionError} />}
        </Card>
      )}
      {(mode === "custom" || locked) && (
        <Card
          title={formTitle}
          id="custom-provider"
          description={
            adding
              ? `A fallback is tried after the providers above, when they cannot send: ${orList(providerKinds.map((k) => k.label))}.`
              : `Send this app's login emails through your own sending service: ${orList(providerKinds.map((k) => k.label))}.`
          }
        >
          {adding && (
            <div className="form-actions add-cancel">
              <button
                type="button"
                className="btn btn-ghost btn-sm"
                onClick={() => open(undefined, CHAIN_TITLE_ID)}
              >
                Cancel adding
              </button>
            </div>
          )}
          {shown && !adding && (
            <ProviderStatus
              provider={shown}
              kinds={providerKinds}
              locked={locked}
              onSwitch={disabled ? undefined : () => setConfirm({ action: "toggle", provider: shown })}
            />
          )}
          {revealed && <RevealedOnce values={revealed} onDone={() => setRevealed(undefined)} />}
          <ProviderFormSection
            key={formKey}
            appId={appId}
            providerId={adding ? null : (shown?.id ?? null)}
            state={data}
            kinds={providerKinds}
            accountEmail={me.account.email}
            memberEmails={members.data?.members.map((m) => m.email) ?? [me.account.email]}
            disabled={disabled}
            onSaved={(next, savedId) => {
              const view = next.providers.find((p) => p.id === savedId) as
                | { revealedOnce?: Record<string, string> }
                | undefined;
              const once = view?.revealedOnce;
              if (once && Object.keys(once).length > 0) setRevealed(once);
              setEditing(savedId);
              state.set(next);
              setChosen(undefined);
            }}
            onTested={() => void state.reload()}
          />
        </Card>
      )}
      <ConfirmDialog
        open={confirm?.action === "toggle"}
        title={confirm?.action === "toggle" ? toggleTitle(confirm.provider) : ""}
        confirmLabel={
          working
            ? "Switching…"
            : confirm?.action === "toggle" && confirm.provider.enabled
              ? "Disable provider"
              : "Enable provider"
        }
        busy={working}
        onCancel={close}
        onConfirm={() => {
          if (confirm?.action === "toggle") void setEnabled(confirm.provider, !confirm.provider.enabled);
        }}
      >
        {confirm?.action === "toggle" &&
          (confirm.provider.enabled
            ? providers.length > 1
              ? `Login emails pass over it to the next enabled provider (with none left, the default sender, ${defaultSender}), including the ones waiting for it now. Its settings and secret are kept, and Postern stops checking it.`
              : `Login emails will come from ${defaultSender} until you enable it again, including the ones waiting for it now. Its settings and secret are kept, and Postern stops checking it.`
            : providers.length > 1
              ? `Postern checks the provider's connection now, then login emails try it again as the ${positionName(positionOf(confirm.provider)).toLowerCase()}.`
              : "Postern checks the provider's connection now, then sends login emails through it again.")}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm?.action === "remove"}
        title={confirm?.action === "remove" ? `Remove ${confirm.provider.label}?` : ""}
        confirmLabel={working ? "Removing…" : "Remove provider"}
        busy={working}
        onCancel={close}
        onConfirm={() => {
          if (confirm?.action === "remove") void remove(confirm.provider);
        }}
      >
        {confirm?.action === "remove" && (
          <>
            {providers.length === 1
              ? `Login emails will come from the default sender, ${defaultSender}, at once.`
              : positionOf(confirm.provider) === 0
                ? `${providers[1]?.label} becomes the primary.`
                : positionOf(confirm.provider) === providers.length - 1
                  ? "The others keep their order."
                  : "The providers after it move up."}{" "}
            Its settings and secret are deleted; you would enter them again to add it back.
          </>
        )}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirm?.action === "default"}
        title="Switch to the default sender?"
        confirmLabel={working ? "Switching…" : "Switch to default sender"}
        busy={working}
        onCancel={close}
        onConfirm={() => void switchToDefault()}
      >
        {providers.length > 1 ? (
          <>
            <p>
              Login emails will come from {defaultSender} at once. All {providers.length} custom providers are
              deleted with their settings and secrets; you would enter them again to go back:
            </p>
            <ul className="mode-switch-list">
              {providers.map((p) => (
                <li key={p.id}>{p.label}</li>
              ))}
            </ul>
          </>
        ) : (
          `Login emails will come from ${defaultSender} at once. The custom provider's settings and secret are deleted; you would enter them again to go back.`
        )}
      </ConfirmDialog>
    </div>
  );
}
