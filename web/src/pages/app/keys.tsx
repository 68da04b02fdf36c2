import { useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import type { AppWithSecret } from "../../api/types.ts";
import { ConfirmDialog } from "../../components/confirm-dialog.tsx";
import { CopyField } from "../../components/copy-button.tsx";
import { FormError } from "../../components/feedback.tsx";
import { KeyList, KeyRow } from "../../components/key-list.tsx";
import { Card } from "../../components/layout.tsx";
import { SecretKeyReveal } from "../../components/secret-key-reveal.tsx";
import { canManage } from "../../roles.ts";
import type { AppPageProps } from "./app-layout.tsx";
import "./keys.css";

export function AppKeysPage({ workspace, app, onAppChange }: AppPageProps) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [rotated, setRotated] = useState<AppWithSecret | undefined>();
  const manage = canManage(workspace.role);

  const rotate = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const next = await api.post("/api/apps/{appId}/secret-key", { path: { appId: app.id } });
      const { secretKey: _shownOnce, ...publicApp } = next;
      onAppChange(publicApp);
      setRotated(next);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <div className="stack">
      <Card
        title="Publishable key"
        id="publishable-key"
        description="Identifies the app to the public login API. It is safe to ship in browser and mobile code."
      >
        <CopyField value={app.publishableKey} describe="publishable key" />
      </Card>
      <Card
        title="Secret key"
        id="secret-key"
        description="For your server only. Postern keeps only a hash, so the key is shown once, when it is created or rotated."
      >
        {rotated ? (
          <SecretKeyReveal app={rotated} doneLabel="Done" onDone={() => setRotated(undefined)} />
        ) : (
          <>
            <KeyList>
              <KeyRow label="Current key">
                <code className="key-plain">{app.secretKeyHint}</code>
              </KeyRow>
            </KeyList>
            <FormError error={error} />
            {manage ? (
              <button type="button" className="btn btn-secondary" onClick={() => setConfirming(true)}>
                Rotate secret key
              </button>
            ) : (
              <p className="field-hint">Owners and admins can rotate the secret key.</p>
            )}
          </>
        )}
      </Card>
      <ConfirmDialog
        open={confirming}
        title="Rotate the secret key?"
        confirmLabel={busy ? "Rotating…" : "Rotate now"}
        busy={busy}
        onCancel={() => setConfirming(false)}
        onConfirm={() => void rotate()}
      >
        The current secret key stops working immediately. Have somewhere ready to put the new one: it is shown
        only once.
      </ConfirmDialog>
    </div>
  );
}
