import { z } from "zod";
import { hostPortOf } from "../../../mail/https.ts";
import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import { smtpHints } from "../../../mail/smtp-hints.ts";
import type { StepName } from "../../../mail/test-steps.ts";
import { commonFields } from "../../model.ts";
import { type OauthSmtpReplies, oauthSmtpTransport } from "../../oauth/oauth-smtp.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";
import {
  type CredentialSettings,
  credentialBodyFields,
  credentialFormFields,
  credentialSecretsOf,
  credentialSettingsOf,
  credentialsOf,
  credentialView,
  credentialViewFields,
  discardedCredentialSecrets,
  prepareCredential,
  requiredCredentialSecrets,
} from "./credential-fields.ts";
import { interpretExchangeReply } from "./exchange-replies.ts";
import { graphTransport } from "./graph.ts";
import { graphHint } from "./graph-replies.ts";
import { type MicrosoftOperatorSettings, microsoftOperatorSettings } from "./operator-settings.ts";
import { EXCHANGE_SCOPE, entraTokenSource, GRAPH_SCOPE, missingRole } from "./token-source.ts";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/** One GUID field of Entra, named for the message: the client ID, the service principal's object ID. */
const guidSchema = (what: string) =>
  z.string().trim().regex(GUID, `must be ${what}, a GUID such as 0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f`);

export const clientIdSchema = guidSchema("the Application (client) ID");

/** The Enterprise application's (service principal's) Object ID, for Exchange's New-ServicePrincipal. */
export const objectIdSchema = guidSchema("the Enterprise application's Object ID");

/** A GUID or a verified domain; `common` and `organizations` cannot get app-only tokens (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). */
export const tenantIdSchema = z
  .string()
  .trim()
  .max(253, "must be at most 253 characters")
  .refine(
    (value) => GUID.test(value) || DOMAIN.test(value),
    "must be the Directory (tenant) ID, a GUID, or a verified domain such as contoso.onmicrosoft.com",
  );

export const microsoftBody = z.strictObject({
  type: z.literal("smtp_oauth"),
  provider: z.literal("microsoft"),
  ...commonFields,
  clientId: clientIdSchema,
  ...credentialBodyFields,
  tenantId: tenantIdSchema,
  transport: z
    .enum(["smtp", "graph"])
    .optional()
    .describe("How login emails go to Microsoft 365; default smtp"),
});

export type MicrosoftBody = z.infer<typeof microsoftBody>;

export interface MicrosoftSettings extends CredentialSettings {
  provider: "microsoft";
  tenantId: string;
  clientId: string;
  /** Stored rows from before Graph have none: SMTP. */
  transport?: "smtp" | "graph";
}

const viewSchema = z.object({
  provider: z.literal("microsoft"),
  tenantId: z.string(),
  clientId: z.string(),
  transport: z.enum(["smtp", "graph"]),
  ...credentialViewFields,
});

const fields: FormField[] = [
  {
    name: "transport",
    label: "Send through",
    input: "choice",
    required: false,
    default: "smtp",
    options: [
      {
        value: "smtp",
        label: "SMTP (OAuth)",
        help: "Exchange Online's SMTP submission endpoint with an OAuth token. Needs SMTP AUTH enabled for the mailbox, the SMTP.SendAsApp permission and FullAccess to the mailbox.",
      },
      {
        value: "graph",
        label: "Microsoft Graph",
        help: "Graph's sendMail over HTTPS. Choose it where SMTP AUTH is switched off (many tenants, and Microsoft's default from the end of 2026): needs the Mail.Send permission, which RBAC for Applications can limit to this one mailbox.",
      },
    ],
    help: "Both send as the same mailbox under Exchange's limits; the setup guide follows this choice.",
  },
  {
    name: "tenantId",
    label: "Directory (tenant) ID",
    input: "text",
    required: true,
    placeholder: "contoso.onmicrosoft.com or a directory ID",
    autocomplete: "off",
    destination: true,
    lowercase: true,
    help: "Entra admin center → Overview: the Directory (tenant) ID, or a verified domain of the tenant.",
  },
  {
    name: "clientId",
    label: "Application (client) ID",
    input: "text",
    required: true,
    placeholder: "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f",
    autocomplete: "off",
    destination: true,
    lowercase: true,
    help: "App registrations → your app → Overview.",
  },
  ...credentialFormFields,
];

const operatorOf = (env: { operator: Record<string, unknown> }) =>
  env.operator.microsoft as MicrosoftOperatorSettings;

/**
 * Microsoft 365: Entra client credentials, then either XOAUTH2 to Exchange Online's SMTP submission
 * endpoint or Microsoft Graph's sendMail (`transport`).
 */
export const microsoft: ProviderKind<MicrosoftBody, MicrosoftSettings> = {
  id: "microsoft",
  match: { type: "smtp_oauth", provider: "microsoft" },
  bodySchema: microsoftBody,
  viewSchema,
  form: {
    label: "Microsoft 365",
    description:
      "Exchange Online through an Entra app registration: OAuth client credentials, no password. Sends over SMTP or Microsoft Graph.",
    fields,
  },
  secretFields: ["clientSecret", "privateKeyPem"],
  requiredSecrets: requiredCredentialSecrets,
  discardedSecrets: discardedCredentialSecrets,
  prepare: (body, stored, env) => prepareCredential(body, stored, env.now(), `Postern ${body.clientId}`),
  settingsOf: (body) => ({
    provider: "microsoft",
    tenantId: body.tenantId.toLowerCase(),
    clientId: body.clientId.toLowerCase(),
    transport: body.transport ?? "smtp",
    ...credentialSettingsOf(body),
  }),
  secretsOf: credentialSecretsOf,
  // The client secret goes to the token endpoint of this tenant and client: any change there could hand
  // it to someone else's app registration. The transport only changes what the token is used for.
  destinationChanged: (before, after) =>
    before.tenantId !== after.tenantId || before.clientId !== after.clientId,
  auditedFields: ["provider", "tenantId", "clientId", "transport", "credential", "clientSecretExpiresOn"],
  // The endpoints are the operator's (POSTERN_MICROSOFT_*), trusted as configured for this kind's TLS
  // connections only (operatorEndpoints): nothing to check here.
  validate: async () => [],
  view: (settings, storedSecrets, now) => ({
    provider: settings.provider,
    tenantId: settings.tenantId,
    clientId: settings.clientId,
    transport: settings.transport ?? "smtp",
    ...credentialView(settings, storedSecrets, now),
  }),
  credentialExpiries: (settings, storedSecrets, now) =>
    credentialView(settings, storedSecrets, now).credentials.map((c) => ({
      name: c.kind === "secret" ? "client secret" : "certificate",
      expiresAt: c.expiresAt,
      daysLeft: c.daysLeft,
      state: c.state,
    })),
  operatorSettings: microsoftOperatorSettings,
  operatorEndpoints: (operator) => {
    const { smtpHost, smtpPort, graphUrl } = operator as MicrosoftOperatorSettings;
    return [{ host: smtpHost, port: smtpPort }, hostPortOf(graphUrl)];
  },

  open(provider, env) {
    const operator = operatorOf(env);
    const graph = provider.settings.transport === "graph";
    const tokens = env.tokenSource(provider.versionKey, () =>
      entraTokenSource(
        {
          tenantId: provider.settings.tenantId,
          clientId: provider.settings.clientId,
          ...(provider.settings.certificate
            ? { certificateThumbprintSha1: provider.settings.certificate.thumbprintSha1 }
            : {}),
        },
        credentialsOf(provider.settings, provider.secrets),
        graph ? GRAPH_SCOPE : EXCHANGE_SCOPE,
        {
          operator,
          metrics: env.metrics,
          now: env.now,
        },
      ),
    );
    if (graph) {
      return graphTransport({
        graphUrl: operator.graphUrl,
        senderEmail: provider.senderEmail,
        clientId: provider.settings.clientId,
        tokens,
        policy: env.policy,
        maxConcurrent: operator.graphMaxConcurrent,
        gate: provider.gate,
        onConnection: provider.onConnection,
        now: env.now,
      });
    }
    const replies = exchangeReplies(provider.senderEmail);
    return oauthSmtpTransport({ operator, provider, env, tokens, replies });
  },

  // Exchange counts connections and messages per mailbox, whichever app sends (https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements), but only apps
  // of the mailbox's own tenant can send as it: the lane is per (tenant, mailbox), so an app of another
  // tenant naming the mailbox gets a lane of its own. The tenant is keyed as configured (lower-cased): a
  // GUID and a domain of one tenant make two lanes, which together may exceed the mailbox's limits until
  // Exchange's 432 or quota reply slows each down — safe, where a shared key guessed wrong would not be
  // (the GUID, a token's `tid`, is only known after a token). An app that merely claims the tenant
  // shares the lane but can neither pause it nor use up its window (ReplyMeaning.sender, SenderLane).
  // Graph's own limits are per app and mailbox and answered with 429 (held by the lane's pause); Exchange's
  // per-mailbox sending limits apply to both transports.
  senderLimits: (settings, senderEmail, env) => {
    const operator = operatorOf(env);
    return {
      key: `microsoft:${settings.tenantId.toLowerCase()}:${senderEmail.toLowerCase()}`,
      maxConnections: settings.transport === "graph" ? operator.graphMaxConcurrent : operator.maxConnections,
      messagesPerMinute: operator.messagesPerMinute,
      messagesPerDay: operator.messagesPerDay,
    };
  },
  explain: (error, step, settings, senderEmail) =>
    settings.transport === "graph"
      ? graphHint(error, { senderEmail, clientId: settings.clientId })
      : microsoftHint(error, step, senderEmail),
};

const exchangeReplies = (senderEmail: string): OauthSmtpReplies => ({
  explain: (error, step) => microsoftHint(error, step, senderEmail),
  interpret: (error) => interpretExchangeReply(error, senderEmail),
  tokenProblem: (token) => missingRole(token, "SMTP.SendAsApp"),
});

function microsoftHint(error: ClassifiedError, step: StepName, senderEmail: string): string | undefined {
  const meaning = interpretExchangeReply(error, senderEmail);
  if (meaning) return meaning.message;
  if (error.errorClass === "token") return undefined; // the step's detail already carries the fix
  if ((step === "resolve" || step === "connect") && error.errorClass !== "blocked") {
    return "Postern could not reach Exchange Online's SMTP endpoint. Check that outbound connections to it (port 587) are allowed.";
  }
  if (error.errorClass === "auth") {
    return "Exchange refused the XOAUTH2 login. Follow the setup guide: service principal, mailbox permission, SMTP.SendAsApp with admin consent.";
  }
  return smtpHints(error);
}
