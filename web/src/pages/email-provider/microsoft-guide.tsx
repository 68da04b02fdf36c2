import { useEffect, useState } from "react";
import { api, enc } from "../../api/client.ts";
import type { GuideStep } from "../../api/types.ts";
import { CodeBlock } from "../../components/copy-button.tsx";
import { ErrorNotice, Loading } from "../../components/feedback.tsx";
import { useResource } from "../../use-resource.ts";

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

/** The Entra portal steps and Exchange Online PowerShell, filled in with what the form holds. */
export function MicrosoftGuide({ appId, values }: { appId: string; values: GuideValues }) {
  const clientId = useSettled(values.clientId.trim(), 400);
  const tenantId = useSettled(values.tenantId.trim(), 400);
  const senderEmail = useSettled(values.senderEmail.trim(), 400);
  const guide = useResource(`guide:${appId}:${clientId}:${tenantId}:${senderEmail}`, () =>
    api.get<{ steps: GuideStep[] }>(`/api/apps/${enc(appId)}/email-provider/microsoft-guide`, {
      query: { clientId, tenantId, senderEmail },
    }),
  );
  // Keep the previous guide on screen while the next one loads: no flicker while typing.
  const [shown, setShown] = useState<GuideStep[]>();
  useEffect(() => {
    if (guide.data) setShown(guide.data.steps);
  }, [guide.data]);

  return (
    <section className="guide" aria-labelledby="ms-guide-title">
      <h3 id="ms-guide-title" className="guide-title">
        Set up Microsoft 365
      </h3>
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
              {step.commands?.map((command) => (
                <div key={command.label} className="guide-command">
                  <div className="guide-command-label">{command.label}</div>
                  <CodeBlock code={command.command} language="PowerShell" describe={command.label} />
                </div>
              ))}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
