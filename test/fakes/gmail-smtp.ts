// A fake of Gmail's SMTP submission endpoint (smtp.gmail.com:587) for XOAUTH2 with tokens from the Google
// token fake. A small line-based server on node:net + node:tls, like the Exchange fake, because smtp-server
// answers a refused XOAUTH2 with its own "535 Error: Username and Password not accepted" and cannot
// produce Gmail's replies byte for byte. Replies as Gmail sends them (https://developers.google.com/gmail/imap/xoauth2-protocol,
// https://support.google.com/mail/answer/7126229, https://support.google.com/a/answer/166852):
//
// - a refused token gets the SASL error continuation `334 <base64 JSON>`; the client answers an empty
//   line, then `535-5.7.8 Username and Password not accepted…` (two lines);
// - too many logins for a user in a minute: `454-4.7.0 Too many login attempts…` at AUTH;
// - more than the daily limit of accepted messages per user: `550-5.4.5 Daily user sending limit
//   exceeded…` (three lines) at the end of DATA.
//
// Not modelled: BDAT (CHUNKING is advertised, as Gmail does), PLAIN/LOGIN with app passwords, From
// rewriting for addresses that are not the user's, bounces for unknown recipients (Gmail accepts them).
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import type { GoogleTokenFake } from "./google-token.ts";
import { parseMessage, type ReceivedMessage, waitForCount } from "./mail.ts";

export const GMAIL_SCOPE = "https://mail.google.com/";
export type GmailStage = "greeting" | "ehlo" | "auth" | "mail" | "rcpt" | "data";

export interface GmailLimits {
  /** Accepted messages per user in a rolling 24 hours; Workspace: 2,000. */
  messagesPerDay: number;
  /** XOAUTH2 logins per user per minute before 454 4.7.0 (Google publishes no figure). */
  loginsPerMinute: number;
}

export interface GmailAuthResult {
  user: string | undefined;
  success: boolean;
  /** The final reply line(s) sent. */
  reply: string;
  /** Why the fake decided so (Gmail itself never says). */
  reason: string;
  /** The XOAUTH2 initial response as received (base64). Test tokens only. */
  blob: string;
}

export interface GmailSmtpFake {
  readonly port: number;
  readonly messages: ReceivedMessage[];
  readonly authResults: GmailAuthResult[];
  /** Every reply line the fake sent, in order, to check clients against Gmail's wording. */
  readonly transcript: string[];
  readonly limits: GmailLimits;
  readonly connections: number;
  /** Highest number of simultaneously authenticated connections per user. */
  readonly maxConcurrentByUser: Map<string, number>;
  /** The next reply at `stage` becomes `reply` (full reply text, lines joined by CRLF). */
  injectOnce(stage: GmailStage, reply: string): void;
  /** Messages a user has had accepted in the last 24 hours, as if sent earlier today. */
  setSentToday(user: string, count: number): void;
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

const maxLine = 16 * 1024;
const crlf = Buffer.from("\r\n");
const sessionId = () => `${randomBytes(6).toString("base64url")}.${Math.floor(Math.random() * 100)}`;

/** Gmail's replies; each ends with Gmail's transaction id and "- gsmtp". */
const replies = {
  greeting: (id: string) => `220 smtp.gmail.com ESMTP ${id} - gsmtp`,
  ehlo: (ip: string, secure: boolean) =>
    [
      `250-smtp.gmail.com at your service, [${ip}]`,
      "250-SIZE 35882577",
      "250-8BITMIME",
      secure ? "250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH" : "250-STARTTLS",
      "250-ENHANCEDSTATUSCODES",
      "250-PIPELINING",
      "250-CHUNKING",
      "250 SMTPUTF8",
    ].join("\r\n"),
  startTls: "220 2.0.0 Ready to start TLS",
  mustStartTls: (id: string) => `530 5.7.0 Must issue a STARTTLS command first. ${id} - gsmtp`,
  authRequired: (id: string) =>
    `530-5.7.0 Authentication Required. For more information, go to\r\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError ${id} - gsmtp`,
  authOk: "235 2.7.0 Accepted",
  authContinue: "334 ",
  // {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}, as Gmail sends it.
  authError: (status: "400" | "401") =>
    `334 ${Buffer.from(JSON.stringify({ status, schemes: "Bearer", scope: GMAIL_SCOPE })).toString("base64")}`,
  badCredentials: (id: string) =>
    `535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials ${id} - gsmtp`,
  tooManyLogins: (id: string) =>
    `454-4.7.0 Too many login attempts, please try again later. For more information, go to\r\n454 4.7.0  https://support.google.com/mail/answer/7126229 ${id} - gsmtp`,
  dailyLimit: (id: string) =>
    `550-5.4.5 Daily user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 ${id} - gsmtp`,
  senderOk: (id: string) => `250 2.1.0 OK ${id} - gsmtp`,
  recipientOk: (id: string) => `250 2.1.5 OK ${id} - gsmtp`,
  startData: (id: string) => `354 Go ahead ${id} - gsmtp`,
  queued: (id: string) => `250 2.0.0 OK  ${Math.floor(Date.now() / 1000)} ${id} - gsmtp`,
  badSequence: (id: string) => `503 5.5.1 Bad sequence of commands. ${id} - gsmtp`,
  syntax: (id: string) => `555 5.5.2 Syntax error. ${id} - gsmtp`,
  unrecognized: (id: string) => `502 5.5.1 Unrecognized command. ${id} - gsmtp`,
  quit: (id: string) => `221 2.0.0 closing connection ${id} - gsmtp`,
  reset: "250 2.1.5 Flushed",
};

export async function startGmailSmtpFake(options: {
  google: GoogleTokenFake;
  limits?: Partial<GmailLimits>;
  cert?: CertChoice;
  host?: string;
  port?: number;
}): Promise<GmailSmtpFake> {
  const limits: GmailLimits = { messagesPerDay: 2000, loginsPerMinute: 1000, ...options.limits };
  const secureContext: SecureContext = createSecureContext({
    ...tlsCredentials(options.cert),
    minVersion: "TLSv1.2",
  });
  const messages: ReceivedMessage[] = [];
  const authResults: GmailAuthResult[] = [];
  const transcript: string[] = [];
  const injections = new Map<GmailStage, string[]>();
  const acceptedAt = new Map<string, number[]>();
  const loginsAt = new Map<string, number[]>();
  const authenticated = new Map<string, number>();
  const maxConcurrentByUser = new Map<string, number>();
  const sockets = new Set<Socket>();
  let connections = 0;

  const recent = (byUser: Map<string, number[]>, user: string, windowMs: number) => {
    const now = Date.now();
    const times = (byUser.get(user) ?? []).filter((t) => t > now - windowMs);
    byUser.set(user, times);
    return times;
  };

  function session(raw: Socket): void {
    let socket: Socket = raw;
    let buffer = Buffer.alloc(0);
    let mode: "command" | "data" | "xoauth2" | "xoauth2-error" = "command";
    let secure = false;
    let greeted = false;
    let user: string | undefined;
    let mailFrom: string | undefined;
    let rcptTo: string[] = [];
    let data: Buffer[] = [];
    let busy = false;
    let closed = false;
    const ip = raw.remoteAddress?.replace(/^::ffff:/, "") ?? "127.0.0.1";

    const send = (reply: string) => {
      transcript.push(reply);
      if (!closed && socket.writable) socket.write(`${reply}\r\n`);
    };
    const injected = (stage: GmailStage) => {
      const reply = injections.get(stage)?.shift();
      if (reply === undefined) return false;
      send(reply);
      if (reply.startsWith("421")) socket.end();
      return true;
    };
    const listen = () => {
      socket.on("data", (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        void pump();
      });
      socket.on("error", () => socket.destroy());
    };
    raw.once("close", () => {
      closed = true;
      if (user) authenticated.set(user, (authenticated.get(user) ?? 1) - 1);
    });

    async function pump(): Promise<void> {
      if (busy) return;
      busy = true;
      try {
        while (!closed) {
          const newline = buffer.indexOf(0x0a);
          if (mode !== "data" && (newline < 0 ? buffer.length : newline) > maxLine) {
            send(`500 5.5.2 Line too long. ${sessionId()} - gsmtp`);
            socket.end();
            return;
          }
          if (newline < 0) return;
          let line = buffer.subarray(0, newline);
          buffer = buffer.subarray(newline + 1);
          if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
          if (mode === "data") await dataLine(line);
          else await commandLine(line.toString("utf8"));
        }
      } finally {
        busy = false;
      }
    }

    async function commandLine(line: string): Promise<void> {
      const id = sessionId();
      if (mode === "xoauth2") {
        mode = "command";
        return xoauth2(line);
      }
      if (mode === "xoauth2-error") {
        // The client's empty response to the error continuation; anything else ends the exchange too.
        mode = "command";
        return send(replies.badCredentials(id));
      }
      const space = line.indexOf(" ");
      const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
      const arg = space < 0 ? "" : line.slice(space + 1).trim();
      switch (verb) {
        case "EHLO":
        case "HELO":
          if (injected("ehlo")) return;
          greeted = true;
          mailFrom = undefined;
          rcptTo = [];
          return send(verb === "EHLO" ? replies.ehlo(ip, secure) : `250 smtp.gmail.com at your service`);
        case "STARTTLS":
          if (secure) return send(replies.badSequence(id));
          send(replies.startTls);
          buffer = Buffer.alloc(0);
          greeted = false;
          socket.removeAllListeners("data");
          socket = new TLSSocket(socket, { isServer: true, secureContext });
          secure = true;
          listen();
          return;
        case "AUTH": {
          if (!greeted) return send(replies.badSequence(id));
          if (!secure) return send(replies.mustStartTls(id));
          if (user) return send(replies.badSequence(id));
          const [mechanism = "", initial] = arg.split(/\s+/);
          if (mechanism.toUpperCase() !== "XOAUTH2")
            return send(`504 5.7.4 Unrecognized authentication type. ${id} - gsmtp`);
          if (initial === undefined) {
            mode = "xoauth2";
            return send(replies.authContinue);
          }
          return xoauth2(initial);
        }
        case "MAIL": {
          if (!user) return send(replies.authRequired(id));
          const match = /^FROM:\s*<([^>]*)>/i.exec(arg);
          if (!match) return send(replies.syntax(id));
          if (injected("mail")) return;
          mailFrom = match[1] ?? "";
          return send(replies.senderOk(id));
        }
        case "RCPT": {
          if (mailFrom === undefined) return send(replies.badSequence(id));
          const match = /^TO:\s*<([^>]+)>/i.exec(arg);
          if (!match?.[1]) return send(replies.syntax(id));
          if (injected("rcpt")) return;
          rcptTo.push(match[1]);
          return send(replies.recipientOk(id));
        }
        case "DATA":
          if (mailFrom === undefined || rcptTo.length === 0) return send(replies.badSequence(id));
          mode = "data";
          data = [];
          return send(replies.startData(id));
        case "RSET":
          mailFrom = undefined;
          rcptTo = [];
          return send(replies.reset);
        case "NOOP":
          return send(`250 2.0.0 OK ${id} - gsmtp`);
        case "QUIT":
          send(replies.quit(id));
          socket.end();
          return;
        default:
          return send(replies.unrecognized(id));
      }
    }

    function xoauth2(blob: string) {
      const id = sessionId();
      const fields = Buffer.from(blob, "base64").toString("utf8").split("\x01");
      const claimed = fields
        .find((f) => f.startsWith("user="))
        ?.slice(5)
        .toLowerCase();
      const bearer = /^auth=Bearer (.+)$/.exec(fields.find((f) => f.startsWith("auth=")) ?? "")?.[1];
      const record = (success: boolean, reply: string, reason: string) => {
        authResults.push({ user: claimed, success, reply, reason, blob });
        send(reply);
      };
      const refuse = (status: "400" | "401", reason: string) => {
        authResults.push({ user: claimed, success: false, reply: replies.badCredentials(id), reason, blob });
        mode = "xoauth2-error";
        send(replies.authError(status));
      };
      if (claimed && recent(loginsAt, claimed, 60_000).push(Date.now()) > limits.loginsPerMinute) {
        return record(false, replies.tooManyLogins(id), "too many logins");
      }
      const reply = injections.get("auth")?.shift();
      if (reply !== undefined) return record(false, reply, "injected");
      if (!claimed || !bearer) return refuse("400", "malformed XOAUTH2 response");
      const lookup = options.google.lookupToken(bearer);
      if (!lookup.ok) return refuse("401", lookup.reason);
      const { token } = lookup;
      if (!token.scopes.includes(GMAIL_SCOPE)) return refuse("400", `token lacks ${GMAIL_SCOPE}`);
      if (token.user !== claimed) return refuse("400", `token is for ${token.user}, not ${claimed}`);
      const account = options.google.user(claimed);
      if (!account || account.suspended) return refuse("400", "no such active user");
      if (!account.gmail) return refuse("400", "Gmail is turned off for the user");
      user = claimed;
      const open = (authenticated.get(user) ?? 0) + 1;
      authenticated.set(user, open);
      maxConcurrentByUser.set(user, Math.max(maxConcurrentByUser.get(user) ?? 0, open));
      record(true, replies.authOk, "ok");
    }

    async function dataLine(line: Buffer): Promise<void> {
      if (!(line.length === 1 && line[0] === 0x2e)) {
        data.push(line[0] === 0x2e ? line.subarray(1) : line, crlf); // dot-unstuffing (RFC 5321 §4.5.2)
        return;
      }
      mode = "command";
      const id = sessionId();
      const envelope = { mailFrom: mailFrom ?? "", rcptTo };
      mailFrom = undefined;
      rcptTo = [];
      const message = await parseMessage(Buffer.concat(data), envelope, user);
      data = [];
      if (injected("data")) return;
      const sent = recent(acceptedAt, user!, 24 * 60 * 60_000);
      if (sent.length >= limits.messagesPerDay) return send(replies.dailyLimit(id));
      sent.push(Date.now());
      messages.push(message);
      send(replies.queued(id));
    }

    listen();
    if (!injected("greeting")) send(replies.greeting(sessionId()));
  }

  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    connections++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    session(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");

  return {
    port: address.port,
    messages,
    authResults,
    transcript,
    limits,
    get connections() {
      return connections;
    },
    maxConcurrentByUser,
    injectOnce(stage, reply) {
      if (!/^[45]\d\d[ -]/.test(reply)) throw new Error("injected replies must be 4xx/5xx replies");
      injections.set(stage, [...(injections.get(stage) ?? []), reply]);
    },
    setSentToday(user, count) {
      acceptedAt.set(
        user.toLowerCase(),
        Array.from({ length: count }, () => Date.now() - 60_000),
      );
    },
    waitForMessages: (n, timeoutMs = 5000) => waitForCount(messages, n, timeoutMs),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
