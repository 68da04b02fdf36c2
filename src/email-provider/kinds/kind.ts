import type { z } from "zod";
import type { Config } from "../../config/config.ts";
import type { ClassifiedError, ErrorClass } from "../../mail/smtp-errors.ts";
import type { SmtpTarget, StepName, TestStep, TokenSource } from "../../mail/smtp-target.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import type { OutboundPolicy } from "../../security/outbound-guard.ts";

/** One invalid field of a request: its name, a stable code and what is wrong. */
export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

/** What a kind may use from the running Postern. */
export interface KindEnvironment {
  config: Config;
  policy: OutboundPolicy;
  metrics: Metrics;
  /** The process's clock (Context.now). */
  now(): Date;
  /** One token source per provider version, shared by its pool and every worker in this process. */
  tokenSource(key: string, create: () => TokenSource): TokenSource;
}

/** The provider fields every kind shares; stored in columns of their own. */
export interface CommonFields {
  senderEmail: string;
  senderName?: string | null | undefined;
  fallbackToDefault?: boolean | undefined;
}

/** Limits a provider puts on one sender, held across every Postern process (e.g. Exchange's, per mailbox). */
export interface SenderLimits {
  /**
   * Whose limits these are, e.g. "microsoft:<tenant>:login@contoso.com": senders sharing a key share the
   * limits, so a key must name only what provably shares them (the mailbox within its own tenant).
   */
  key: string;
  maxConnections: number;
  messagesPerMinute: number;
}

/** What a provider-specific reply means: a truer class, a message with the fix, and what it asks of the sender. */
export interface ReplyMeaning {
  errorClass: ErrorClass;
  message: string;
  /**
   * What a reply about the sender itself asks of everyone sharing its limits — slowDown: use fewer
   * connections; pauseSeconds: send nothing through this sender for that long. Never set for a failure
   * of one provider's own credentials or permissions: that marks only the provider failing.
   */
  sender?: { slowDown: true } | { pauseSeconds: number };
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
  /**
   * Checks that need the environment (outbound guard, TLS rules) on whichever settings are valid so
   * far — some may be missing while another field is wrong — so every problem is named in one pass.
   */
  validate(settings: Partial<Settings>, env: KindEnvironment): Promise<FieldProblem[]>;
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
  explain(
    error: ClassifiedError,
    step: StepName,
    settings: Settings,
    senderEmail: string,
  ): string | undefined;
  /** Present when the provider limits each sender: sends then take a slot shared by all processes. */
  senderLimits?(settings: Settings, senderEmail: string, env: KindEnvironment): SenderLimits | undefined;
  /** Reads the provider's own replies (e.g. Exchange's 432 4.3.2 or 5.7.139) beyond generic SMTP. */
  interpret?(error: ClassifiedError, settings: Settings, senderEmail: string): ReplyMeaning | undefined;
}
