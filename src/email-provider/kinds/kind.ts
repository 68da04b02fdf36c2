import type { z } from "zod";
import type { Config } from "../../config/config.ts";
import type { ClassifiedError } from "../../mail/smtp-errors.ts";
import type { SmtpTarget, StepName, TestStep, TokenSource } from "../../mail/smtp-target.ts";
import type { OutboundPolicy } from "../../security/outbound-guard.ts";

/** What a kind may use from the running Postern. */
export interface KindEnvironment {
  config: Config;
  policy: OutboundPolicy;
  /** One token source per provider version, shared by its pool and every worker in this process. */
  tokenSource(key: string, create: () => TokenSource): TokenSource;
}

/** The provider fields every kind shares; stored in columns of their own. */
export interface CommonFields {
  senderEmail: string;
  senderName?: string | null | undefined;
  fallbackToDefault?: boolean | undefined;
}

/**
 * One kind of custom email provider (Basic Auth SMTP, OAuth SMTP, …) behind one small contract:
 * its request schema, which fields are secret and which say where the secret goes, how it becomes
 * an SMTP target, and how its failures are explained. Adding a kind is a new module and a registry entry.
 */
export interface ProviderKind<
  Body extends CommonFields & { type: string } = CommonFields & { type: string },
  Settings extends object = object,
> {
  type: Body["type"];
  /** The PUT body for this kind, including the common fields; the secret is optional (kept when allowed). */
  bodySchema: z.ZodType<Body>;
  /** The one write-only field of this kind. */
  secretField: "password" | "clientSecret";
  settingsOf(body: Body): Settings;
  secretOf(body: Body): string | undefined;
  /**
   * True when `after` would send the stored secret somewhere `before` did not: then the secret must
   * be entered again, so a stored credential can never be replayed to a new server (Keycloak #39486).
   */
  destinationChanged(before: Settings, after: Settings): boolean;
  /** Checks that need the environment (outbound guard, TLS rules); throws DomainError naming the field. */
  validate(settings: Settings, env: KindEnvironment): Promise<void>;
  /** Non-secret fields for API responses. */
  view(settings: Settings): Record<string, unknown>;
  /** Fields the audit log may show changing (never the secret). */
  auditedFields: readonly string[];
  smtpTarget(
    settings: Settings,
    secret: string,
    senderEmail: string,
    env: KindEnvironment,
    versionKey: string,
  ): SmtpTarget;
  /** Steps that run before the SMTP dialogue in a connection test (e.g. getting a token). */
  preflight?(
    settings: Settings,
    secret: string,
    env: KindEnvironment,
    versionKey: string,
  ): Promise<TestStep[]>;
  explain(error: ClassifiedError, step: StepName, settings: Settings): string | undefined;
}
