// A generic SMTP server (password AUTH) for tests, built on the smtp-server package.
// Settings from https://nodemailer.com/extras/smtp-server/ and stack-notes.md: reverse lookup off (else a DNS
// query per connection) and 16 KiB command lines (real XOAUTH2 lines exceed the old 4 KiB default).
import type { Socket } from "node:net";
import {
  SMTPServer,
  type SMTPServerAuthentication,
  type SMTPServerAuthenticationResponse,
  type SMTPServerError,
  type SMTPServerOptions,
  type SMTPServerSession,
} from "smtp-server";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { parseMessage, type ReceivedMessage, waitForCount } from "./mail.ts";

export interface SmtpReply {
  code: number;
  /** Reply text after the code; include the enhanced status code yourself, e.g. "4.3.0 Try again later". */
  message?: string;
}

export type SmtpAuthMethod = "PLAIN" | "LOGIN" | "XOAUTH2" | "CRAM-MD5";

export interface SmtpServerFakeOptions {
  /** "starttls": plain, STARTTLS offered; "tls": implicit TLS; "none": STARTTLS never offered. Default "starttls". */
  security?: "starttls" | "tls" | "none";
  cert?: CertChoice;
  /** username → password (for XOAUTH2: → access token). AUTH is required when given, not offered otherwise. */
  users?: Record<string, string>;
  authMethods?: SmtpAuthMethod[];
  /** Replies at end of DATA, consumed one per message; 250 once empty. Also live on the handle. */
  replies?: SmtpReply[];
  rejectRecipients?: (address: string) => SmtpReply | undefined;
  /** Awaited before AUTH is answered: holds a client mid-login, e.g. while the test changes something. */
  beforeAuthReply?: () => Promise<void>;
  /** Text after "220 <name> ESMTP". */
  banner?: string;
  /** Server host name in the greeting and EHLO reply. Default "smtp.test.local". */
  name?: string;
  host?: string;
  port?: number;
}

export interface AuthAttempt {
  method: string;
  username: string | undefined;
  success: boolean;
}

export interface RejectedMessage {
  message: ReceivedMessage;
  reply: SmtpReply;
}

export interface SmtpServerFake {
  readonly port: number;
  readonly host: string;
  /** Messages answered with 250. */
  readonly messages: ReceivedMessage[];
  /** Messages answered with a scripted error reply. */
  readonly rejectedMessages: RejectedMessage[];
  /** The live reply queue; push to script further replies. */
  readonly replies: SmtpReply[];
  readonly authAttempts: AuthAttempt[];
  /** TCP connections accepted so far (including ones whose TLS handshake failed). */
  readonly connections: number;
  readonly currentConnections: number;
  readonly maxConcurrentConnections: number;
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  /** Simulates an outage: stops listening and drops every open connection. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function replyError(reply: SmtpReply): SMTPServerError {
  return Object.assign(new Error(reply.message ?? ""), { responseCode: reply.code });
}

export async function startSmtpServer(options: SmtpServerFakeOptions = {}): Promise<SmtpServerFake> {
  const security = options.security ?? "starttls";
  const users = options.users;
  const host = options.host ?? "127.0.0.1";
  const messages: ReceivedMessage[] = [];
  const rejectedMessages: RejectedMessage[] = [];
  const replies: SmtpReply[] = [...(options.replies ?? [])];
  const authAttempts: AuthAttempt[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let maxConcurrentConnections = 0;

  const disabledCommands: string[] = [];
  if (security === "none") disabledCommands.push("STARTTLS");
  if (!users) disabledCommands.push("AUTH");

  const checkCredentials = (auth: SMTPServerAuthentication): boolean => {
    const expected = auth.username === undefined ? undefined : users?.[auth.username];
    if (expected === undefined) return false;
    switch (auth.method) {
      case "XOAUTH2":
        return auth.accessToken === expected;
      case "CRAM-MD5":
        return auth.validatePassword(expected);
      default:
        return auth.password === expected;
    }
  };

  const serverOptions: SMTPServerOptions = {
    ...tlsCredentials(options.cert),
    secure: security === "tls",
    name: options.name ?? "smtp.test.local",
    banner: options.banner,
    disabledCommands,
    authMethods: options.authMethods ?? ["PLAIN", "LOGIN"],
    authOptional: !users,
    // "none" exists to test clients that must refuse to send a password in clear text.
    allowInsecureAuth: security === "none",
    disableReverseLookup: true,
    maxCommandLength: 16 * 1024,
    closeTimeout: 1000,
    logger: false,
    onAuth(
      auth: SMTPServerAuthentication,
      _session: SMTPServerSession,
      callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
    ) {
      // Never record the password or token.
      const success = checkCredentials(auth);
      authAttempts.push({ method: auth.method, username: auth.username, success });
      const answer = () => {
        if (success) callback(null, { user: auth.username });
        else callback(replyError({ code: 535, message: "5.7.8 Error: authentication failed" }));
      };
      if (options.beforeAuthReply) options.beforeAuthReply().then(answer, answer);
      else answer();
    },
    onRcptTo(address, _session, callback) {
      const reject = options.rejectRecipients?.(address.address);
      callback(reject ? replyError(reject) : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("error", (err: Error) => callback(err));
      stream.on("end", () => {
        const envelope = {
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        };
        const authUser = typeof session.user === "string" ? session.user : undefined;
        const reply = replies.shift() ?? { code: 250 };
        parseMessage(Buffer.concat(chunks), envelope, authUser).then(
          (message) => {
            if (reply.code < 400) {
              messages.push(message);
              callback(null, reply.message ?? "OK: message queued");
            } else {
              rejectedMessages.push({ message, reply });
              callback(replyError(reply));
            }
          },
          (err: Error) => callback(err),
        );
      });
    },
  };

  let server: SMTPServer;
  let port = options.port ?? 0;

  const listen = async (): Promise<void> => {
    server = new SMTPServer(serverOptions);
    server.server.on("connection", (socket: Socket) => {
      connections++;
      sockets.add(socket);
      maxConcurrentConnections = Math.max(maxConcurrentConnections, sockets.size);
      socket.once("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        // Client-side failures (e.g. a client rejecting our certificate) surface as server errors.
        server.on("error", () => {});
        resolve();
      });
    });
    const address = server.server.address();
    if (address === null || typeof address === "string") throw new Error("unexpected listen address");
    port = address.port;
  };

  let running = false;
  const stop = async (): Promise<void> => {
    if (!running) return;
    running = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen();
  running = true;

  return {
    get port() {
      return port;
    },
    host,
    messages,
    rejectedMessages,
    replies,
    authAttempts,
    get connections() {
      return connections;
    },
    get currentConnections() {
      return sockets.size;
    },
    get maxConcurrentConnections() {
      return maxConcurrentConnections;
    },
    waitForMessages: (n, timeoutMs = 5000) => waitForCount(messages, n, timeoutMs),
    stop,
    async restart() {
      if (running) return;
      await listen();
      running = true;
    },
    close: stop,
  };
}
