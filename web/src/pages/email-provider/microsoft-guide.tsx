import { useEffect, useId, useState } from "react";
import { api } from "../../api/client.ts";
import type { GuideStep } from "../../api/types.ts";
import { CodeBlock } from "../../components/copy-button.tsx";
import { ErrorNotice, Loading } from "../../components/feedback.tsx";
import { useResource } from "../../use-resource.ts";
import "./microsoft-guide.css";

interface GuideValues {
  clientId: string;
  tenantId: string;
  senderEmail: string;
}

/** Waits until typing pauses, so the guide is not fetched once per keystroke. */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

// The guide route validates what it fills in; a half-typed value stays a placeholder until it is whole.
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const whole = (value: string, ...patterns: RegExp[]) => {
  const trimmed = value.trim();
  return patterns.some((p) => p.test(trimmed)) ? trimmed : "";
};

/** The Entra portal steps and Exchange Online PowerShell, filled in with what the form holds. */
export function MicrosoftGuide({
  appId,
  values,
  open,
}: {
  appId: string;
  values: GuideValues;
  /** Shown open until the provider works; then it is reference material. */
  open: boolean;
}) {
  const [objectId, setObjectId] = useState("");
  const objectIdField = useId();
  const objectIdInvalid = objectId.trim() !== "" && !GUID.test(objectId.trim());
  // One settled query for all of them, so a pause in typing costs one request, not three.
  const filled = [
    ["clientId", whole(values.clientId, GUID)],
    ["tenantId", whole(values.tenantId, GUID, DOMAIN)],
    ["senderEmail", whole(values.senderEmail, EMAIL)],
    ["objectId", whole(objectId, GUID)],
  ].filter(([, value]) => value);
  const query = useSettled(new URLSearchParams(filled).toString(), 400);
  const guide = useResource(`guide:${appId}:${query}`, () =>
    api.get("/api/apps/{appId}/email-provider/microsoft-guide", {
      path: { appId },
      query: Object.fromEntries(new URLSearchParams(query)),
    }),
  );
  // Keep the previous guide on screen while the next one loads: no flicker while typing.
  const [shown, setShown] = useState<GuideStep[]>();
  useEffect(() => {
    if (guide.data) setShown(guide.data.steps);
  }, [guide.data]);

  return (
    <details className="guide" open={open}>
      <summary className="guide-title">
        <h3>Set up Microsoft 365</h3>
      </summary>
      <p className="guide-intro">
        You need a Microsoft 365 subscription with Exchange Online. The commands below use the values from the
        form; they update as you type.
      </p>
      {guide.error && !shown && <ErrorNotice error={guide.error} onRetry={() => void guide.reload()} />}
      {!shown ? (
        !guide.error && <Loading label="Loading the setup guide…" rows={4} />
      ) : (
        <ol className="guide-steps">
          {shown.map((step) => (
            <li key={step.title} className="guide-step">
              <h4 className="guide-step-title">{step.title}</h4>
              {step.text.split(/\n{2,}/).map((paragraph) => (
                <p key={paragraph} className="guide-step-text">
                  {paragraph}
                </p>
              ))}
              {step.title.startsWith("Find the Enterprise application") && (
                <div className={`field${objectIdInvalid ? " field-invalid" : ""}`}>
                  <label className="field-label" htmlFor={objectIdField}>
                    Object ID
                  </label>
                  <input
                    id={objectIdField}
                    name="objectId"
                    className="input"
                    value={objectId}
                    onChange={(e) => setObjectId(e.target.value)}
                    spellCheck={false}
                    aria-invalid={objectIdInvalid || undefined}
                    aria-describedby={`${objectIdField}-hint`}
                  />
                  <p id={`${objectIdField}-hint`} className={objectIdInvalid ? "field-error" : "field-hint"}>
                    {objectIdInvalid
                      ? "Object ID: must be a GUID such as 0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f."
                      : "The service principal's Object ID: it fills New-ServicePrincipal below. Not saved."}
                  </p>
                </div>
              )}
              {step.links && (
                <ul className="guide-links">
                  {step.links.map((link) => (
                    <li key={link.url}>
                      <a href={link.url} target="_blank" rel="noreferrer">
                        {link.label}
                      </a>
                    </li>
                  ))}
                </ul>
              )}
              {step.commands?.map((command) => (
                <div key={command.label} className="guide-command">
                  <div className="guide-command-label">{command.label}</div>
                  <CodeBlock
                    code={command.command}
                    language={command.command.startsWith("az ") ? "Azure CLI" : "PowerShell"}
                    describe={command.label}
                  />
                </div>
              ))}
            </li>
          ))}
        </ol>
      )}
    </details>
  );
}
