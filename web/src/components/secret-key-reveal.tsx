import type { AppWithSecret } from "../api/types.ts";
import { Notice } from "./feedback.tsx";
import { CopyRow, KeyList } from "./key-list.tsx";
import "./secret-key-reveal.css";

/** The one moment the secret key is visible: Postern keeps only its hash. */
export function SecretKeyReveal({
  app,
  onDone,
  doneLabel,
}: {
  app: AppWithSecret;
  onDone(): void;
  doneLabel: string;
}) {
  return (
    <div className="secret-reveal">
      <Notice tone="warning" title="Copy the secret key now: it is shown only once">
        Postern stores only a hash of it, so nobody can show it to you again. Keep it on your server (an
        environment variable or a secrets manager), never in browser or mobile code. If it is lost, rotate it
        under API keys.
      </Notice>
      <KeyList>
        <CopyRow label="Secret key" value={app.secretKey} describe="secret key" />
        <CopyRow label="Publishable key" value={app.publishableKey} describe="publishable key">
          <div className="field-hint">Safe in browser code; it identifies the app to the login API.</div>
        </CopyRow>
      </KeyList>
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </div>
  );
}
