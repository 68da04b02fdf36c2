import type { ReactNode } from "react";
import { MicrosoftGuide } from "./microsoft-guide.tsx";
import type { FieldValue } from "./provider-form-state.ts";

/** What a setup guide gets from the form: the values typed so far, to fill its commands in. */
export interface GuideProps {
  appId: string;
  senderEmail: string;
  values: Record<string, FieldValue>;
  /** Shown open until the saved provider of this kind works; then it is reference material. */
  open: boolean;
}

const typed = (value: FieldValue | undefined) => (typeof value === "string" ? value : "");

/**
 * Setup guides, by kind id. A guide is content (portal steps, PowerShell), not form logic: it lives
 * here, beside the form, so the form component renders whichever guide its kind has without naming one.
 */
export const kindGuides: Record<string, (props: GuideProps) => ReactNode> = {
  microsoft: ({ appId, senderEmail, values, open }) => (
    <MicrosoftGuide
      appId={appId}
      open={open}
      values={{ clientId: typed(values.clientId), tenantId: typed(values.tenantId), senderEmail }}
    />
  ),
};
