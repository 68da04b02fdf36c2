import { useId, useState } from "react";
import type { RenderedEmail, TemplateSample } from "../../api/types.ts";
import "./email-preview.css";

type Width = "mobile" | "desktop";
const widths: { key: Width; label: string; px: number }[] = [
  { key: "mobile", label: "Mobile", px: 375 },
  { key: "desktop", label: "Desktop", px: 600 },
];

/**
 * The email as the app's users would get it: the HTML in a sandboxed frame (no script, no forms, no
 * navigation of this page) at a phone's or a desktop client's width, and the plain-text part beside it.
 */
export function EmailPreview({
  email,
  stale,
  sample,
  onSampleChange,
  accountEmail,
}: {
  email: RenderedEmail | null;
  /** The template has problems: the preview shows the last version that had none. */
  stale: boolean;
  sample: TemplateSample;
  onSampleChange(sample: TemplateSample): void;
  accountEmail: string;
}) {
  // On a phone the phone's width is the one to see first.
  const [width, setWidth] = useState<Width>(() => (window.innerWidth < 700 ? "mobile" : "desktop"));
  const name = useId();
  const px = widths.find((w) => w.key === width)!.px;

  return (
    <div className="preview" aria-busy={email === null}>
      <div className="preview-toolbar">
        <fieldset className="segmented">
          <legend className="visually-hidden">Preview width</legend>
          {widths.map((w) => (
            <label key={w.key} className="segmented-option">
              <input
                type="radio"
                name={name}
                value={w.key}
                checked={width === w.key}
                onChange={() => setWidth(w.key)}
              />
              <span>
                {w.label} <span className="muted">{w.px} px</span>
              </span>
            </label>
          ))}
        </fieldset>
        <details className="preview-sample">
          <summary>Sample values</summary>
          <div className="preview-sample-fields">
            <label className="field-label" htmlFor={`${name}-recipient`}>
              Recipient
            </label>
            <input
              id={`${name}-recipient`}
              className="input input-sm"
              type="email"
              value={sample.recipient ?? accountEmail}
              onChange={(e) => onSampleChange({ ...sample, recipient: e.target.value })}
            />
            <label className="field-label" htmlFor={`${name}-minutes`}>
              Expires in (minutes)
            </label>
            <input
              id={`${name}-minutes`}
              className="input input-sm"
              type="number"
              min={1}
              max={1440}
              value={sample.expiresInMinutes ?? 10}
              onChange={(e) => {
                const minutes = Number(e.target.value);
                if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 1440)
                  onSampleChange({ ...sample, expiresInMinutes: minutes });
              }}
            />
            <p className="field-hint">
              Code 123456, a link that signs nobody in, and request IP 203.0.113.7.
            </p>
          </div>
        </details>
      </div>
      {stale && (
        <p className="preview-stale" role="status">
          Fix the problems above to update the preview; it shows the last version without any.
        </p>
      )}
      {email && (
        <>
          <dl className="preview-meta">
            <dt>Subject</dt>
            <dd data-testid="preview-subject">{email.subject}</dd>
            <dt>Language</dt>
            <dd>
              <code>{email.language}</code>
            </dd>
            {email.replyTo && (
              <>
                <dt>Reply-To</dt>
                <dd>{email.replyTo}</dd>
              </>
            )}
          </dl>
          <div className="preview-parts">
            <div className="preview-html">
              <h3 className="preview-heading">HTML</h3>
              <div className="preview-frame-wrap">
                <iframe
                  title="HTML preview of the login email"
                  className={`preview-frame preview-frame-${width}`}
                  sandbox=""
                  srcDoc={email.html}
                  style={{ width: px }}
                />
              </div>
            </div>
            <div className="preview-text">
              <h3 className="preview-heading">Plain text</h3>
              <pre className="mailbox-text" data-testid="preview-text">
                {email.text}
              </pre>
            </div>
          </div>
        </>
      )}
    </div>
  );
}
