// A fake of Exchange Online SMTP client submission (smtp.office365.com:587) for app-only XOAUTH2.
// A small line-based server on node:net + node:tls, because smtp-server cannot produce Microsoft's
// replies byte for byte (https://nodemailer.com/extras/smtp-server/). Replies: exchange-replies.ts; token,
// service-principal and mailbox checks: exchange-directory.ts, validated through the identity fake.
//
// Not modelled: BDAT/CHUNKING and BINARYMIME are advertised (as Exchange does) but not implemented, the
// Gmail-style 334 error continuation (Microsoft answers 535 directly, https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth), HVE's near-expiry
// rejection, and re-checking a session's token after its exp.
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext } from "node:tls";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { ExchangeDirectory } from "./exchange-directory.ts";
import { type ExchangeReplies, exchangeReplies, type ReplyHosts } from "./exchange-replies.ts";
import { ExchangeSession, type SessionContext } from "./exchange-session.ts";
import { type ReceivedMessage, waitForCount } from "./mail.ts";
import type { MicrosoftIdentityFake } from "./microsoft-identity.ts";

export type InjectStage = "greeting" | "ehlo" | "starttls" | "auth" | "mail" | "rcpt" | "data";

export interface ExchangeLimits {
  /** Authenticated connections per mailbox; later ones get 432 4.3.2 at end of DATA. Exchange: 3. */
  concurrentConnectionsPerMailbox: number;
  /** Accepted messages per mailbox per rolling minute; more get 554 5.2.0. Exchange: 30. */
  messagesPerMinute: number;
}

export interface ExchangeSmtpFakeOptions {
  identity: MicrosoftIdentityFake;
  hostname?: string;
  diagnosticHost?: string;
  mailboxServer?: string;
  /**
   * Where a missing mailbox permission surfaces: 535 5.7.3 at AUTH (default) or 430 4.2.0 at end of
   * DATA; both are reported (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
   */
  mailboxPermissionFailure?: "auth" | "data";
  limits?: Partial<ExchangeLimits>;
  cert?: CertChoice;
  host?: string;
  port?: number;
}

export interface ExchangeAuthResult {
  mechanism: "XOAUTH2" | "LOGIN";
  mailbox: string | undefined;
  appId: string | undefined;
  success: boolean;
  /** The reply line sent. */
  reply: string;
  /** Why the fake decided so (Exchange itself never says). */
  reason: string;
  /** The XOAUTH2 initial response as received (base64), to check clients byte for byte. Test tokens only. */
  blob?: string;
}

export interface LimitViolation {
  mailbox: string;
  limit: "concurrency" | "rate";
  at: Date;
}

export interface ExchangeSmtpFake extends Pick<ExchangeDirectory, ExchangeDirectoryMethods> {
  readonly port: number;
  readonly host: string;
  readonly messages: ReceivedMessage[];
  readonly authResults: ExchangeAuthResult[];
  readonly limitViolations: LimitViolation[];
  /** Highest number of simultaneously authenticated connections seen, per mailbox. */
  readonly maxConcurrentByMailbox: Map<string, number>;
  /** TCP connections accepted so far. */
  readonly connections: number;
  readonly limits: ExchangeLimits;
  /** Registers the app's service principal and gives it FullAccess to the mailbox (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth). */
  allowApp(app: { tenantId: string; clientId: string; servicePrincipalId: string }, mailbox: string): void;
  /** The next reply at `stage` becomes `reply` (a full line such as "430 4.2.0 ..."), which fails that step. */
  injectOnce(stage: InjectStage, reply: string): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Times out every idle connection now (421, then close), so the client's next message opens a new one. */
  closeIdleConnections(): number;
  close(): Promise<void>;
}

type ExchangeDirectoryMethods =
  | "registerServicePrincipal"
  | "grantMailbox"
  | "grantSendAs"
  | "setTenantSmtpAuthDisabled"
  | "setMailboxSmtpAuthDisabled";

export async function startExchangeSmtpFake(options: ExchangeSmtpFakeOptions): Promise<ExchangeSmtpFake> {
  const hosts: ReplyHosts = {
    hostname: options.hostname ?? "FAKE01CA0001.outlook.office365.com",
    diagnosticHost: options.diagnosticHost ?? "FAKE01CA0001.EURP123.PROD.OUTLOOK.COM",
    mailboxServer: options.mailboxServer ?? "FAKE01MB0001.eurprd01.prod.outlook.com",
  };
  const directory = new ExchangeDirectory(options.identity);
  const injections = new Map<InjectStage, string[]>();
  const sockets = new Set<Socket>();
  const sessions = new Set<ExchangeSession>();
  const secureContext: SecureContext = createSecureContext({
    ...tlsCredentials(options.cert),
    minVersion: "TLSv1.2", // https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth: TLS 1.2+ required
  });
  const context: SessionContext = {
    directory,
    secureContext,
    mailboxPermissionFailure: options.mailboxPermissionFailure ?? "auth",
    limits: { concurrentConnectionsPerMailbox: 3, messagesPerMinute: 30, ...options.limits },
    messages: [],
    authResults: [],
    limitViolations: [],
    maxConcurrentByMailbox: new Map(),
    authenticated: new Map(),
    acceptedAt: new Map(),
    takeInjection: (stage) => injections.get(stage)?.shift(),
  };
  let connections = 0;

  const server: Server = createServer((socket) => {
    // As smtp-server does: without it every reply waits on a delayed ACK (~25 ms per message).
    socket.setNoDelay(true);
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    const sessionId = randomBytes(8).toString("hex").toUpperCase();
    const replies: ExchangeReplies = exchangeReplies(hosts, sessionId);
    const session = new ExchangeSession(socket, context, replies);
    sessions.add(session);
    socket.once("close", () => sessions.delete(session));
    session.start();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");

  return {
    port: address.port,
    host: address.address,
    messages: context.messages,
    authResults: context.authResults,
    limitViolations: context.limitViolations,
    maxConcurrentByMailbox: context.maxConcurrentByMailbox,
    get connections() {
      return connections;
    },
    limits: context.limits,
    registerServicePrincipal: (tenantId, appId, objectId) =>
      directory.registerServicePrincipal(tenantId, appId, objectId),
    grantMailbox: (mailbox, spObjectId) => directory.grantMailbox(mailbox, spObjectId),
    grantSendAs: (address, trustee) => directory.grantSendAs(address, trustee),
    setTenantSmtpAuthDisabled: (tenantId, disabled) =>
      directory.setTenantSmtpAuthDisabled(tenantId, disabled),
    setMailboxSmtpAuthDisabled: (mailbox, disabled) =>
      directory.setMailboxSmtpAuthDisabled(mailbox, disabled),
    allowApp(app, mailbox) {
      directory.registerServicePrincipal(app.tenantId, app.clientId, app.servicePrincipalId);
      directory.grantMailbox(mailbox, app.servicePrincipalId);
    },
    injectOnce(stage, reply) {
      if (!/^[45]\d\d[ -]/.test(reply)) throw new Error("injected replies must be 4xx/5xx reply lines");
      injections.set(stage, [...(injections.get(stage) ?? []), reply]);
    },
    waitForMessages: (n, timeoutMs = 5000) => waitForCount(context.messages, n, timeoutMs),
    closeIdleConnections: () => [...sessions].filter((session) => session.closeIfIdle()).length,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
