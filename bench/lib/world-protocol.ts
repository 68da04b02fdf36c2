// The calls the bench makes into its "world" process (see world.ts), typed end to end.
import type { ExchangeLimits } from "../../test/fakes/exchange-smtp.ts";
import type { GraphLimits } from "../../test/fakes/graph.ts";
import type { SmtpServerFakeOptions } from "../../test/fakes/smtp-server.ts";

/** The serialisable part of the SMTP fake's options (no callbacks cross a process boundary). */
export type SmtpOptions = Pick<SmtpServerFakeOptions, "security" | "users" | "authMethods" | "name" | "host">;

/** One end user asking an app for a login email. */
export interface Login {
  email: string;
  publishableKey: string;
}

export interface LoginLoad {
  /** Postern's base URL. */
  url: string;
  /** One request each, in this order. */
  logins: Login[];
  /** Requests in flight at most. */
  concurrency: number;
  /** Open-loop pacing: request i starts at i / rate seconds, whether or not earlier ones answered. */
  ratePerSecond?: number;
  /**
   * Client addresses to send from, in turn (all of 127.0.0.0/8 is loopback on Linux), so that the
   * requests look like many end users rather than one. Default: 127.0.0.1 only.
   */
  sourceAddresses?: string[];
}

export interface LoginLoadResult {
  /** Per login, in the order given: when its request started and when its response arrived (clock.now). */
  startedAt: number[];
  respondedAt: number[];
  /** HTTP status → count; "error" for requests that failed without a response. */
  statuses: Record<string, number>;
  firstFailure: string | undefined;
}

/** The Microsoft 365 fakes of one run, as Postern and the floor reach them. */
export interface MicrosoftWorld {
  /** The Exchange fake's port, which names these fakes in later calls. */
  exchangePort: number;
  identityPort: number;
  /** POSTERN_MICROSOFT_AUTHORITY_HOST and POSTERN_MICROSOFT_SMTP pointing at the fakes. */
  env: Record<string, string>;
  /** A valid `smtp_oauth` PUT body for the fakes' app and mailbox. */
  provider: Record<string, unknown>;
}

/** What the Microsoft fakes counted; cumulative unless said otherwise. */
export interface MicrosoftStats {
  /** POSTs to the identity fake's token endpoint, whatever their outcome. */
  tokenRequests: number;
  /** TCP connections the Exchange fake accepted. */
  connections: number;
  /** Most authenticated connections the sender mailbox held at once, since the previous microsoftStats call. */
  peakConnectionsPerMailbox: number;
  /** Messages Exchange refused for the mailbox's limits: 432 4.3.2 (connections) and 554 5.2.0 (a minute's quota). */
  violations: { concurrency: number; rate: number };
  /** XOAUTH2 logins refused. */
  authFailures: number;
  /** Emails accepted for a recipient that already had one. */
  duplicates: number;
}

/** The Graph fakes of one run (identity and Graph sendMail), as Postern and the floor reach them. */
export interface GraphWorld {
  /** The Graph fake's port, which names these fakes in later calls. */
  graphPort: number;
  graphUrl: string;
  identityPort: number;
  /** POSTERN_MICROSOFT_* pointing at the fakes. */
  env: Record<string, string>;
  /** A valid Microsoft PUT body with `transport: "graph"`. */
  provider: Record<string, unknown>;
}

/** What the Graph fakes counted; cumulative unless said otherwise. */
export interface GraphStats {
  tokenRequests: number;
  /** sendMail requests, whatever their answer. */
  requests: number;
  /** Most requests in flight at once for the mailbox, since the previous graphStats call. */
  peakConcurrency: number;
  /** 429s, for any of Graph's or Exchange's limits. */
  throttled: number;
  /** Emails accepted for a recipient that already had one. */
  duplicates: number;
}

/** What the SendGrid fake counted of /v3/mail/send; cumulative. */
export interface SendgridStats {
  /** Requests, whatever their answer. */
  requests: number;
  /** Answered 202. */
  accepted: number;
  /** 429s for the fake's per-key request window. */
  throttled: number;
  /** Per API key: the most requests it had in flight at once, over the fake's life. */
  peakInFlight: Record<string, number>;
  /** Emails accepted for a recipient that already had one. */
  duplicates: number;
}

/** What the webhook receiver counted; cumulative. */
export interface WebhookStats {
  /** Requests, whatever their answer. */
  requests: number;
  /** Answered 2xx (a verified delivery, or one it had already accepted). */
  accepted: number;
  /** Answered 401: the signature did not verify with the receiver's secrets. */
  badSignatures: number;
  /** Verified deliveries of a webhook-id seen before, or of a recipient that already had an email. */
  duplicates: number;
}

export interface ProcessUsage {
  cpuMs: number;
  rssBytes: number;
}

/** Each call: what it takes and what it answers. */
export interface WorldCalls {
  startSmtp: { params: SmtpOptions; result: { port: number } };
  postLogins: { params: LoginLoad; result: LoginLoadResult };
  /** Waits until every recipient has had a message accepted; answers the accept times in the same order. */
  awaitAccepted: { params: { recipients: string[]; timeoutMs: number }; result: { acceptedAt: number[] } };
  /** Like awaitAccepted, but when time is up answers what it has: null for recipients still waiting. */
  acceptedWithin: {
    params: { recipients: string[]; timeoutMs: number };
    result: { acceptedAt: (number | null)[] };
  };
  /**
   * Connections one SMTP server (by port) has accepted, the most it held open at once (closing ones
   * included), and emails it accepted for a recipient that already had one.
   */
  smtpStats: {
    params: { port: number };
    result: { connections: number; peakConnections: number; duplicates: number };
  };
  /** A Microsoft identity fake and an Exchange fake with these per-mailbox limits, the app allowed to send. */
  startMicrosoft: { params: { limits: ExchangeLimits }; result: MicrosoftWorld };
  microsoftStats: { params: { exchangePort: number }; result: MicrosoftStats };
  /** The identity fake and a Graph fake with these limits and latency, the app allowed to send as the mailbox. */
  startGraph: { params: { limits: Partial<GraphLimits>; latencyMs: number }; result: GraphWorld };
  graphStats: { params: { graphPort: number }; result: GraphStats };
  /**
   * A SendGrid fake answering after `latencyMs`, with these API keys (mail.send scope, the sender's
   * domain authenticated) and no request window to speak of.
   */
  startSendgrid: {
    params: { apiKeys: string[]; senderDomain: string; latencyMs: number };
    result: { port: number; url: string };
  };
  sendgridStats: { params: { port: number }; result: SendgridStats };
  /** A developer's webhook endpoint that verifies every request (secrets set by webhookSecrets). */
  startWebhook: { params: Record<string, never>; result: { port: number; url: string } };
  /** The secrets the receiver verifies with: Postern creates one when the provider is saved. */
  webhookSecrets: { params: { port: number; secrets: string[] }; result: Record<string, never> };
  webhookStats: { params: { port: number }; result: WebhookStats };
  usage: { params: Record<string, never>; result: ProcessUsage };
}

export type WorldCall = keyof WorldCalls;

export type WorldRequest = {
  [K in WorldCall]: { id: number; call: K; params: WorldCalls[K]["params"] };
}[WorldCall];

export type WorldReply =
  | { id: number; ok: true; result: WorldCalls[WorldCall]["result"] }
  | { id: number; ok: false; error: string };
