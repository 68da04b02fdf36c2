import { useEffect, useRef, useState } from "react";
import { type ApiError, api, toApiError } from "../../api/client.ts";
import type { RenderedEmail, TemplatePreview, TemplateSample } from "../../api/types.ts";
import type { BrandingDraft } from "./branding-form.tsx";
import { type Draft, looksLikeEmail, previewBranding, sourceOf } from "./template-draft.ts";

const PREVIEW_DELAY_MS = 300;

/**
 * Checks and renders the draft as the developer types, a moment after they pause: the latest answer
 * wins, older ones are dropped. `lastGood` is the last rendering without problems, kept on screen
 * while the template has some.
 */
export function useLivePreview(
  appId: string,
  locale: string,
  draft: Draft,
  branding: BrandingDraft,
  sample: TemplateSample,
) {
  const [preview, setPreview] = useState<TemplatePreview>();
  const [lastGood, setLastGood] = useState<RenderedEmail | null>(null);
  const [error, setError] = useState<ApiError>();
  const generation = useRef(0);
  const brandingKey = JSON.stringify(previewBranding(branding));
  const sampleKey = JSON.stringify({
    ...(sample.expiresInMinutes ? { expiresInMinutes: sample.expiresInMinutes } : {}),
    ...(sample.recipient && looksLikeEmail(sample.recipient) ? { recipient: sample.recipient } : {}),
  });

  useEffect(() => {
    const mine = ++generation.current;
    const timer = window.setTimeout(async () => {
      try {
        const result = await api.post("/api/apps/{appId}/email-templates/{locale}/preview", {
          path: { appId, locale },
          body: { ...sourceOf(draft), branding: JSON.parse(brandingKey), sample: JSON.parse(sampleKey) },
        });
        if (generation.current !== mine) return;
        setPreview(result);
        setError(undefined);
        if (result.email) setLastGood(result.email);
      } catch (err) {
        if (generation.current === mine) setError(toApiError(err));
      }
    }, PREVIEW_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [appId, locale, draft, brandingKey, sampleKey]);

  return { preview, lastGood, error };
}
