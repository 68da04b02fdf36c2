import type net from "node:net";
import type { z } from "zod";
import type { Config } from "../../config/config.ts";
import type { ClassifiedError } from "../../mail/smtp-errors.ts";
import type { ConnectionGate, TokenSource } from "../../mail/smtp-pool.ts";
import type { StepName } from "../../mail/test-steps.ts";
import type { Transport } from "../../mail/transport.ts";
import type { Metrics } from "../../metrics/metrics.ts";
import type { OutboundPolicy } from "../../security/outbound-guard.ts";
import type { FormField } from "./form.ts";

export type { ReplyMeaning, SenderReaction, Transport } from "../../mail/transport.ts";

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
  /** Each kind's operator settings (POSTERN_<KIND>_*), read once at start: see `operatorSettings`. */
  operator: Record<string, unknown>;
  /** The process's clock (Context.now). */
  now(): Date;
  /** One token source per provider version, shared by its transport and every worker in this process. */
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
  /** A vendor's per-second request rate (Resend's 2 a second, SES's maximum send rate), held besides the minute's. */
  messagesPerSecond?: number;
  /** A rolling day's messages (Gmail's 2,000 per user, Exchange's 10,000 recipients per mailbox), counted by the hour. */
  messagesPerDay?: number;
}

/** One stored credential's expiry, as the view, /metrics and the weekly warning email show it. */
export interface CredentialExpiry {
  /** What it is, in words: "client secret", "certificate". */
  name: string;
  expiresAt: string | null;
  daysLeft: number | null;
  state: "ok" | "expiring" | "expired" | "unknown";
}

/** Where a kind sends, for the outbound guard: the operator's endpoints are trusted as configured. */
export interface OperatorEndpoint {
  host: string;
  port: number;
}

/** A saved (or tested) provider as a transport needs it: the secrets are open, in memory only. */
export interface OpenProvider<Settings> {
  settings: Settings;
  secrets: Record<string, string>;
  senderEmail: string;
  /** Unique per provider version (or per test): token sources are cached under it. */
  versionKey: string;
  /** The cross-process gate for connections where the provider limits senders (see SenderLimits). */
  gate?: ConnectionGate | undefined;
  /** Sees every connection the transport opens (the open-connections metric). */
  onConnection?: ((socket: net.Socket) => void) | undefined;
}

/** A kind's operator settings: environment variables read once at start, with their defaults. */
export interface OperatorSettings<T> {
  schema: z.ZodObject;
  read(env: Record<string, unknown>): T;
}

/**
 * One kind of custom email provider (SMTP with a password, Microsoft 365, …) behind one contract: its
 * request, stored and shown fields, its form, how it opens a transport, how its failures are
 * explained, its limits and its operator settings. Adding a kind is a folder and a registry line.
 */
export interface ProviderKind<
  Body extends CommonFields & { type: string } = CommonFields & { type: string },
  Settings extends object = object,
> {
  /** The registry key, also the metric label: "smtp_basic", "microsoft". */
  id: string;
  /** The body's discriminators: `type`, and `provider` for the OAuth SMTP kinds. */
  match: { type: string; provider?: string };
  /** The PUT body for this kind, including the common fields; secrets are optional (kept when allowed). */
  bodySchema: z.ZodObject;
  /** The kind's own fields of the provider view (never a secret: `…Set` booleans say one is stored). */
  viewSchema: z.ZodObject;
  form: { label: string; description: string; fields: FormField[] };
  /** The write-only fields; a new provider needs `requiredSecrets` (e.g. one credential of several). */
  secretFields: readonly string[];
  requiredSecrets(body: Body): readonly string[];
  /** Stored secrets a body drops on purpose (e.g. the old credential at the end of a rotation). */
  discardedSecrets?(body: Body): readonly string[];
  /**
   * Work a body asks for before it is saved or tested (e.g. creating a key pair, checking an uploaded
   * certificate against its key): a completed body, or the problems by field. `revealOnce`: values the
   * kind created that the developer must see once (a signing secret Postern made): the save's response
   * shows them under `provider.revealedOnce`, and nothing ever shows them again.
   */
  prepare?(
    body: Body,
    stored: Settings | undefined,
    env: KindEnvironment,
  ): Promise<{ body: Body; revealOnce?: Record<string, string> } | { problems: FieldProblem[] }>;
  settingsOf(body: Body): Settings;
  secretsOf(body: Body): Record<string, string | undefined>;
  /**
   * True when `after` would send the stored secrets somewhere `before` did not: then they must be
   * entered again, so a stored credential can never be replayed to a new server (Keycloak #39486).
   */
  destinationChanged(before: Settings, after: Settings): boolean;
  /**
   * Checks that need the environment (outbound guard, TLS rules) on whichever settings are valid so
   * far — some may be missing while another field is wrong — so every problem is named in one pass.
   */
  validate(settings: Partial<Settings>, env: KindEnvironment): Promise<FieldProblem[]>;
  /** The kind's fields for API responses, matching `viewSchema`. */
  view(settings: Settings, storedSecrets: readonly string[], now: Date): Record<string, unknown>;
  /** Fields the audit log may show changing (never a secret). */
  auditedFields: readonly string[];
  open(provider: OpenProvider<Settings>, env: KindEnvironment): Transport;
  /** When each stored credential stops working, where the kind's credentials expire (Entra secrets, certificates). */
  credentialExpiries?(settings: Settings, storedSecrets: readonly string[], now: Date): CredentialExpiry[];
  /** The fix for a failure at a step (the delivery log explains stored attempts with it too). */
  explain(
    error: ClassifiedError,
    step: StepName,
    settings: Settings,
    senderEmail: string,
  ): string | undefined;
  /** Present when the provider limits each sender: sends then take a slot shared by all processes. */
  senderLimits?(settings: Settings, senderEmail: string, env: KindEnvironment): SenderLimits | undefined;
  operatorSettings?: OperatorSettings<unknown>;
  /** The operator's own endpoints this kind connects to (trusted by the outbound guard over TLS). */
  operatorEndpoints?(operator: unknown): OperatorEndpoint[];
}
