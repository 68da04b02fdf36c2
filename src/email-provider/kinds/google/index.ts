import { z } from "zod";
import { hostPortOf } from "../../../mail/https.ts";
import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import { smtpHints } from "../../../mail/smtp-hints.ts";
import type { TokenSource } from "../../../mail/smtp-pool.ts";
import type { StepName } from "../../../mail/test-steps.ts";
import { commonFields } from "../../model.ts";
import { type OauthSmtpReplies, oauthSmtpTransport } from "../../oauth/oauth-smtp.ts";
import { TokenError } from "../../oauth/token-error.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import { interpretGmailReply } from "./gmail-replies.ts";
import { type GoogleOperatorSettings, googleOperatorSettings } from "./operator-settings.ts";
import {
  isKeyProblem,
  MAX_KEY_FILE_CHARS,
  parseServiceAccountKey,
  type ServiceAccountIdentity,
} from "./service-account-key.ts";
import { googleTokenSource } from "./token-source.ts";

export const googleBody = z.strictObject({
  type: z.literal("smtp_oauth"),
  provider: z.literal("google"),
  ...commonFields,
  serviceAccountKey: z
    .string()
    .min(1, "must not be empty")
    .max(MAX_KEY_FILE_CHARS, `must be at most ${MAX_KEY_FILE_CHARS} characters`)
    .optional()
    .describe(
      "The service account's JSON key file, as downloaded from the Google Cloud console (write-only)",
    ),
});

export type GoogleBody = z.infer<typeof googleBody> & {
  /** Set by `prepare`: the account of the key in the body, else the stored one's (the key is then kept). */
  serviceAccount?: ServiceAccountIdentity;
};

export interface GoogleSettings extends ServiceAccountIdentity {
  provider: "google";
}

const viewSchema = z.object({
  // A string, not a literal: the registry merges every kind's view fields by name, and Microsoft's
  // `provider` shares it.
  provider: z.string(),
  clientEmail: z.string().describe("The service account's client_email"),
  clientId: z.string(),
  keyId: z.string().describe("The key's private_key_id, as the Cloud console lists it under Keys"),
  serviceAccountKeySet: z.boolean(),
});

const fields: FormField[] = [
  {
    name: "serviceAccountKey",
    label: "Service account key (JSON)",
    input: "pem",
    required: true,
    secret: true,
    setFlag: "serviceAccountKeySet",
    placeholder: '{ "type": "service_account", "project_id": "…", "private_key_id": "…", … }',
    help: "The JSON key file of a service account with domain-wide delegation, pasted or chosen as a file: Google Cloud console → IAM & Admin → Service accounts → the account → Keys → Add key → Create new key → JSON. Postern seals it and shows back only the account's email, client ID and key ID.",
  },
];

const operatorOf = (env: { operator: Record<string, unknown> }) =>
  env.operator.google as GoogleOperatorSettings;

const identityOf = (settings: ServiceAccountIdentity): ServiceAccountIdentity => ({
  clientEmail: settings.clientEmail,
  clientId: settings.clientId,
  keyId: settings.keyId,
});

/** A token source that fails every request, for a stored key that no longer reads (it was checked on save). */
const brokenKey = (message: string): TokenSource => ({
  getToken: () =>
    Promise.reject(
      new TokenError(
        "token",
        `The stored service account key cannot be used: ${message}.`,
        "Paste the JSON key again.",
      ),
    ),
});

/**
 * Google Workspace: a service account with domain-wide delegation signs a JWT-bearer grant acting as
 * the sender mailbox, then XOAUTH2 to Gmail's SMTP submission endpoint. Google takes no client secret
 * for SMTP: the JSON key is the credential.
 */
export const google: ProviderKind<GoogleBody, GoogleSettings> = {
  id: "google",
  match: { type: "smtp_oauth", provider: "google" },
  bodySchema: googleBody,
  viewSchema,
  form: {
    label: "Google Workspace",
    description:
      "Gmail through a service account with domain-wide delegation: a JSON key, no password. Sends over SMTP with XOAUTH2.",
    fields,
  },
  secretFields: ["serviceAccountKey"],
  requiredSecrets: () => ["serviceAccountKey"],
  async prepare(body, stored) {
    if (body.serviceAccountKey === undefined) {
      return { body: stored ? { ...body, serviceAccount: identityOf(stored) } : body };
    }
    const key = parseServiceAccountKey(body.serviceAccountKey);
    if (isKeyProblem(key)) return { problems: [key] };
    return { body: { ...body, serviceAccount: identityOf(key) } };
  },
  settingsOf: (body) => ({
    provider: "google",
    ...(body.serviceAccount ?? { clientEmail: "", clientId: "", keyId: "" }),
  }),
  secretsOf: (body) => ({ serviceAccountKey: body.serviceAccountKey }),
  // The key signs grants for its own service account only; another account (or one recreated under
  // the same address) is another principal, whose delegation the stored key must not be assumed to have.
  destinationChanged: (before, after) =>
    before.clientEmail !== after.clientEmail || before.clientId !== after.clientId,
  auditedFields: ["provider", "clientEmail", "clientId", "keyId"],
  // The token endpoint and Gmail's SMTP are the operator's (POSTERN_GOOGLE_*), trusted as configured
  // for this kind's TLS connections only (operatorEndpoints): nothing to check here.
  validate: async () => [],
  view: (settings, storedSecrets) => ({
    provider: settings.provider,
    clientEmail: settings.clientEmail,
    clientId: settings.clientId,
    keyId: settings.keyId,
    serviceAccountKeySet: storedSecrets.includes("serviceAccountKey"),
  }),
  operatorSettings: googleOperatorSettings,
  operatorEndpoints: (operator) => {
    const { smtpHost, smtpPort, tokenUrl } = operator as GoogleOperatorSettings;
    return [{ host: smtpHost, port: smtpPort }, hostPortOf(tokenUrl)];
  },

  open(provider, env) {
    const operator = operatorOf(env);
    const tokens = env.tokenSource(provider.versionKey, () => {
      const key = parseServiceAccountKey(provider.secrets.serviceAccountKey ?? "");
      if (isKeyProblem(key)) return brokenKey(key.message);
      return googleTokenSource(key, provider.senderEmail, {
        tokenUrl: operator.tokenUrl,
        metrics: env.metrics,
        now: env.now,
      });
    });
    const replies = gmailReplies(provider.senderEmail);
    return oauthSmtpTransport({ operator, provider, env, tokens, replies });
  },

  // Gmail's limits are per user, whichever client sends (https://support.google.com/a/answer/166852),
  // and only service accounts delegated in the user's own Workspace get a token to send as it: the lane
  // is the mailbox. A provider that merely names the mailbox never gets past the token step, so it
  // can neither pause the lane nor use up its window (ReplyMeaning.sender, SenderLane). The lane holds
  // a per-minute rate and the rolling day's 2,000; Gmail's 550 5.4.5 (other clients used the day up)
  // pauses it.
  senderLimits: (_settings, senderEmail, env) => {
    const operator = operatorOf(env);
    return {
      key: `google:${senderEmail.toLowerCase()}`,
      maxConnections: operator.maxConnections,
      messagesPerMinute: operator.messagesPerMinute,
      messagesPerDay: operator.messagesPerDay,
    };
  },
  explain: (error, step, _settings, senderEmail) => gmailHint(error, step, senderEmail),
};

const gmailReplies = (senderEmail: string): OauthSmtpReplies => ({
  explain: (error, step) => gmailHint(error, step, senderEmail),
  interpret: (error) => interpretGmailReply(error, senderEmail),
  // Google's access tokens are opaque: there is nothing in them to check.
  tokenProblem: () => undefined,
});

function gmailHint(error: ClassifiedError, step: StepName, senderEmail: string): string | undefined {
  const meaning = interpretGmailReply(error, senderEmail);
  if (meaning) return meaning.message;
  if (error.errorClass === "token") return undefined; // the step's detail already carries the fix
  if ((step === "resolve" || step === "connect") && error.errorClass !== "blocked") {
    return "Postern could not reach Gmail's SMTP endpoint. Check that outbound connections to it (port 587) are allowed.";
  }
  if (error.errorClass === "auth") {
    return `Gmail refused the XOAUTH2 login as ${senderEmail}. Follow the setup guide: domain-wide delegation of https://mail.google.com/ to the service account's client ID, and a sender that is an active user's primary address.`;
  }
  return smtpHints(error);
}
