import { useId, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import { asProviderState } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { ErrorNotice, FormError, Loading, Notice } from "../../components/feedback.tsx";
import { Card } from "../../components/layout.tsx";
import { canManage } from "../../roles.ts";
import { useMe } from "../../session.tsx";
import { useResource } from "../../use-resource.ts";
import type { AppPageProps } from "../app/app-layout.tsx";
import { orList } from "./kind-fields.tsx";
import { ProviderFormSection } from "./provider-form.tsx";
import { useProviderKinds } from "./provider-kinds.ts";
import { ProviderStatus } from "./provider-status.tsx";
import { RevealedOnce } from "./revealed-once.tsx";
import "../../components/secret-key-reveal.css";
import "./email-provider-page.css";

type Mode = "default" | "custom";

/** App settings → Email provider: the default sender, or the developer's own SMTP server. */
export function EmailProviderPage({ workspace, app }: AppPageProps) {
  const me = useMe();
  const state = useResource(`email-provider:${app.id}`, async () =>
    asProviderState(await api.get("/api/apps/{appId}/email-provider", { path: { appId: app.id } })),
  );
  const kinds = useProviderKinds();
  const [chosen, setChosen] = useState<Mode>();
  const [confirmDefault, setConfirmDefault] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<ApiError>();
  const [confirmSwitch, setConfirmSwitch] = useState(false);
  const [revealed, setRevealed] = useState<Record<string, string>>();
  const [switching, setSwitching] = useState(false);
  const [switchError, setSwitchError] = useState<ApiError>();
  const members = useResource(`members:${workspace.id}`, () =>
    api.get("/api/workspaces/{workspaceId}/members", { path: { workspaceId: workspace.id } }),
  );
  const manage = canManage(workspace.role);
  const modeName = useId();

  if ((state.loading && !state.data) || (kinds.loading && !kinds.data)) {
    return <Loading label="Loading the email provider…" rows={4} />;
  }
  if (!state.data || !kinds.data) {
    const failed = state.error ? state : kinds;
    return failed.error ? <ErrorNotice error={failed.error} onRetry={() => void failed.reload()} /> : null;
  }
  const providerKinds = kinds.data.kinds;
  const { locked, defaultSender, provider } = state.data;
  const mode: Mode = chosen ?? (provider ? "custom" : "default");
  const disabled = locked || !manage;

  const switchToDefault = async () => {
    setRemoving(true);
    setRemoveError(undefined);
    try {
      await api.delete("/api/apps/{appId}/email-provider", { path: { appId: app.id } });
      await state.reload();
      setChosen("default");
      setConfirmDefault(false);
    } catch (err) {
      setRemoveError(toApiError(err));
      setConfirmDefault(false);
    } finally {
      setRemoving(false);
    }
  };

  const setEnabled = async (enabled: boolean) => {
    setSwitching(true);
    setSwitchError(undefined);
    try {
      const answer = await api.patch("/api/apps/{appId}/email-provider", {
        path: { appId: app.id },
        body: { enabled },
      });
      state.set(asProviderState(answer));
    } catch (err) {
      setSwitchError(toApiError(err));
    } finally {
      setSwitching(false);
      setConfirmSwitch(false);
    }
  };

  return (
    <div className="stack">
      {locked && (
        <Notice tone="warning" title="Custom Email Provider is locked for this workspace">
          It is a premium feature that the operator of this Postern server unlocks per workspace. Until then,
          this app's login emails come from the default sender, <strong>{defaultSender}</strong>, and the
          settings below can be read but not saved or tested.
          {provider && " The custom provider saved earlier is kept, but not used."}{" "}
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
          <label className="mode-option">
            <input
              type="radio"
              name={modeName}
              value="default"
              checked={mode === "default"}
              onChange={() => setChosen("default")}
            />
            <span className="mode-option-text">
              <span className="mode-option-title">Default sender</span>
              <span className="mode-option-description">
                Postern sends from <strong>{defaultSender}</strong>. Nothing to set up.
              </span>
            </span>
          </label>
          <label className="mode-option">
            <input
              type="radio"
              name={modeName}
              value="custom"
              checked={mode === "custom"}
              onChange={() => setChosen("custom")}
            />
            <span className="mode-option-text">
              <span className="mode-option-title">Custom SMTP server</span>
              <span className="mode-option-description">
                Your own server and address: full control over where login emails come from and the sender's
                name.
              </span>
            </span>
          </label>
        </fieldset>
        {mode === "default" && provider && !disabled && (
          <div className="mode-switch">
            <p>
              A custom provider is saved and in use. Switch to the default sender to stop using it; its
              settings and secret are deleted.
            </p>
            <FormError error={removeError} />
            <button type="button" className="btn btn-danger" onClick={() => setConfirmDefault(true)}>
              Switch to the default sender
            </button>
          </div>
        )}
      </Card>
      {(mode === "custom" || locked) && (
        <Card
          title="Custom SMTP server"
          id="custom-provider"
          description={`Send this app's login emails through your own mail server: ${orList(providerKinds.map((k) => k.label))}.`}
        >
          {provider && (
            <ProviderStatus
              provider={provider}
              kinds={providerKinds}
              locked={locked}
              onSwitch={disabled ? undefined : () => setConfirmSwitch(true)}
            />
          )}
          <FormError error={switchError} />
          {revealed && <RevealedOnce values={revealed} onDone={() => setRevealed(undefined)} />}
          <ProviderFormSection
            appId={app.id}
            state={state.data}
            kinds={providerKinds}
            accountEmail={me.account.email}
            memberEmails={members.data?.members.map((m) => m.email) ?? [me.account.email]}
            disabled={disabled}
            onSaved={(next) => {
              const once = (next.provider as { revealedOnce?: Record<string, string> } | null)?.revealedOnce;
              if (once && Object.keys(once).length > 0) setRevealed(once);
              state.set(next);
              setChosen(undefined);
            }}
            onTested={() => void state.reload()}
          />
        </Card>
      )}
      <ConfirmDialog
        open={confirmSwitch}
        title={provider?.enabled ? "Disable the custom provider?" : "Enable the custom provider?"}
        confirmLabel={switching ? "Switching…" : provider?.enabled ? "Disable provider" : "Enable provider"}
        busy={switching}
        onCancel={() => setConfirmSwitch(false)}
        onConfirm={() => void setEnabled(!provider?.enabled)}
      >
        {provider?.enabled
          ? `Login emails will come from ${defaultSender} until you enable it again, including the ones waiting for it now. Its settings and secret are kept, and Postern stops checking it.`
          : "Postern checks the provider's connection now, then sends login emails through it again."}
      </ConfirmDialog>
      <ConfirmDialog
        open={confirmDefault}
        title="Switch to the default sender?"
        confirmLabel={removing ? "Switching…" : "Switch to default sender"}
        busy={removing}
        onCancel={() => setConfirmDefault(false)}
        onConfirm={() => void switchToDefault()}
      >
        Login emails will come from {defaultSender} at once. The custom provider's settings and secret are
        deleted; you would enter them again to go back.
      </ConfirmDialog>
    </div>
  );
}
