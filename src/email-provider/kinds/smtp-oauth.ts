import type { TestStep } from "../../mail/smtp-target.ts";
import { oauthFields, oauthProvider, type SmtpOauthBody, smtpOauthBody } from "../oauth/index.ts";
import type { OAuthSettings } from "../oauth/provider.ts";
import { TokenError } from "../oauth/token-error.ts";
import type { ProviderKind } from "./kind.ts";

type Settings = OAuthSettings & Record<string, string>;

/**
 * SMTP with an OAuth app-only token (XOAUTH2) instead of a password. What differs between identity
 * providers (fields, tokens, endpoint, replies) lives in the provider's module under `oauth/`.
 */
export const smtpOauth: ProviderKind<SmtpOauthBody, Settings> = {
  type: "smtp_oauth",
  bodySchema: smtpOauthBody,
  secretField: "clientSecret",
  settingsOf: (body) => oauthProvider(body.provider).settingsOf(body) as Settings,
  secretOf: (body) => body.clientSecret,
  // The client secret goes to the provider's token endpoint for this tenant and client: any change there
  // could hand it to someone else's app registration.
  destinationChanged: (before, after) =>
    before.provider !== after.provider ||
    oauthProvider(after.provider).destinationFields.some((field) => before[field] !== after[field]),
  auditedFields: ["provider", ...oauthFields],
  // The endpoints are the operator's (POSTERN_MICROSOFT_*), trusted as configured for this kind's TLS
  // connections only (SmtpTarget.operatorEndpoint): nothing to check here.
  validate: async () => [],
  view: (settings) => ({ ...settings, clientSecretSet: true }),

  smtpTarget(settings, secret, senderEmail, env, versionKey) {
    const provider = oauthProvider(settings.provider);
    return {
      ...provider.smtpEndpoint(env.config),
      operatorEndpoint: true,
      auth: {
        method: "xoauth2",
        user: senderEmail,
        tokens: env.tokenSource(versionKey, () => provider.tokenSource(settings, secret, env)),
      },
      maxConnections: provider.maxConnections(env.config),
    };
  },

  /** The token step: the connection test's SMTP steps then reuse this token (same token source). */
  async preflight(settings, secret, env, versionKey): Promise<TestStep[]> {
    const provider = oauthProvider(settings.provider);
    const tokens = env.tokenSource(versionKey, () => provider.tokenSource(settings, secret, env));
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const token = await tokens.getToken(false);
      const durationMs = elapsed();
      const problem = provider.tokenProblem?.(token.accessToken);
      if (problem) {
        return [
          {
            name: "token",
            outcome: "failed",
            durationMs,
            detail: problem.summary,
            hint: problem.hint,
            errorClass: "token",
          },
        ];
      }
      return [
        {
          name: "token",
          outcome: "ok",
          durationMs,
          detail: `Token issued, valid until ${new Date(token.expiresAt).toISOString()}`,
        },
      ];
    } catch (err) {
      const error =
        err instanceof TokenError ? err : new TokenError("token", "The token request failed.", undefined);
      return [
        {
          name: "token",
          outcome: "failed",
          durationMs: elapsed(),
          detail: error.summary,
          errorClass: error.errorClass,
          ...(error.hint ? { hint: error.hint } : {}),
        },
      ];
    }
  },

  explain: (error, step, settings, senderEmail) =>
    oauthProvider(settings.provider).hint(error, step, settings, senderEmail),
  senderLimits: (settings, senderEmail, env) =>
    oauthProvider(settings.provider).senderLimits?.(settings, senderEmail, env.config),
  interpret: (error, settings, senderEmail) =>
    oauthProvider(settings.provider).interpret?.(error, senderEmail),
};
