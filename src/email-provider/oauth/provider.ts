import type { Config } from "../../config/config.ts";
import type { ClassifiedError } from "../../mail/smtp-errors.ts";
import type { StepName, TokenSource } from "../../mail/smtp-target.ts";
import type { KindEnvironment, ReplyMeaning, SenderLimits } from "../kinds/kind.ts";

/** The settings every OAuth provider stores: which provider, and the non-secret fields it needs. */
export interface OAuthSettings {
  provider: string;
  clientId: string;
}

/**
 * One OAuth identity provider behind the `smtp_oauth` kind (Microsoft today). It owns its fields, how a
 * client secret becomes access tokens, where its SMTP endpoint is, and what its replies mean. Adding a
 * provider is one module like this and one entry in `oauth/index.ts`.
 */
export interface OAuthProvider<
  Settings extends OAuthSettings = OAuthSettings,
  Body extends { provider: string } = { provider: string },
> {
  /** Non-secret fields besides `provider`, in display order; a change to any of them voids the stored secret. */
  destinationFields: readonly Exclude<keyof Settings & string, "provider">[];
  settingsOf(body: Body): Settings;
  /** The provider's SMTP submission endpoint, set by the operator (national clouds, local fakes). */
  smtpEndpoint(config: Config): { host: string; port: number; security: "starttls" | "tls" };
  maxConnections(config: Config): number;
  /** Creates the token source of one provider version; callers cache it (KindEnvironment.tokenSource). */
  tokenSource(settings: Settings, clientSecret: string, env: KindEnvironment): TokenSource;
  /** What an issued token shows to be wrong (e.g. a permission without admin consent), as summary and fix. */
  tokenProblem?(accessToken: string): { summary: string; hint: string } | undefined;
  senderLimits?(settings: Settings, senderEmail: string, config: Config): SenderLimits;
  interpret?(error: ClassifiedError, senderEmail: string): ReplyMeaning | undefined;
  hint(error: ClassifiedError, step: StepName, settings: Settings, senderEmail: string): string | undefined;
}
