import type { AppWithSecret } from "../api/types.ts";
import { CopyField } from "./copy-button.tsx";
import { Notice } from "./feedback.tsx";
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
      <dl className="key-list">
        <div className="key-row">
          <dt>Secret key</dt>
          <dd>
            <CopyField value={app.secretKey} describe="secret key" />
          </dd>
        </div>
        <div className="key-row">
          <dt>Publishable key</dt>
          <dd>
            <CopyField value={app.publishableKey} describe="publishable key" />
            <div className="field-hint">Safe in browser code; it identifies the app to the login API.</div>
          </dd>
        </div>
      </dl>
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={onDone}>
          {doneLabel}
        </button>
      </div>
    </div>
  );
}
