// One SMTP session of the Exchange Online fake: the command state machine, STARTTLS, AUTH, DATA.
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { type SecureContext, TLSSocket } from "node:tls";
import type { ExchangeDirectory } from "./exchange-directory.ts";
import type { ExchangeReplies } from "./exchange-replies.ts";
import type { ExchangeAuthResult, ExchangeLimits, InjectStage, LimitViolation } from "./exchange-smtp.ts";
import { parseMessage, type ReceivedMessage } from "./mail.ts";

export interface SessionContext {
  directory: ExchangeDirectory;
  secureContext: SecureContext;
  mailboxPermissionFailure: "auth" | "data";
  limits: ExchangeLimits;
  messages: ReceivedMessage[];
  authResults: ExchangeAuthResult[];
  limitViolations: LimitViolation[];
  maxConcurrentByMailbox: Map<string, number>;
  /** mailbox → its open authenticated sessions, oldest first. */
  authenticated: Map<string, ExchangeSession[]>;
  /** mailbox → times of accepted messages, for the per-minute quota. */
  acceptedAt: Map<string, number[]>;
  takeInjection(stage: InjectStage): string | undefined;
}

/** RFC 4954 allows 12,288-octet AUTH lines; real XOAUTH2 lines run to several KB (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth). */
const maxLine = 16 * 1024;
const crlf = Buffer.from("\r\n");

type Mode = "command" | "data" | "xoauth2" | "login-user" | "login-password";

export class ExchangeSession {
  private buffer = Buffer.alloc(0);
  private mode: Mode = "command";
  private busy = false;
  private closed = false;
  private secure = false;
  private greeted = false;
  private auth: { mailbox: string; spObjectId: string; canLogOn: boolean } | undefined;
  private mailFrom: string | undefined;
  private rcptTo: string[] = [];
  private data: Buffer[] = [];
  private readonly clientIp: string;

  constructor(
    private socket: Socket,
    private readonly ctx: SessionContext,
    private readonly r: ExchangeReplies,
  ) {
    this.clientIp = socket.remoteAddress ?? "127.0.0.1";
  }

  start(): void {
    this.listen();
    this.socket.once("close", () => this.cleanup());
    const injected = this.ctx.takeInjection("greeting");
    if (injected) {
      this.send(injected);
      this.socket.end();
      return;
    }
    this.send(this.r.greeting());
  }

  private listen(): void {
    this.socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      void this.pump();
    });
    this.socket.on("error", () => this.socket.destroy());
  }

  /**
   * Closes the session as a server's idle timeout does (RFC 5321 §4.5.3.2: 421, then close), unless a
   * command or a message is in progress. Returns whether it closed.
   */
  closeIfIdle(): boolean {
    if (this.closed || this.busy || this.mode !== "command" || this.mailFrom) return false;
    this.send("421 4.4.2 Connection dropped due to SocketTimeout");
    this.socket.end();
    return true;
  }

  private send(reply: string): void {
    if (!this.closed && this.socket.writable) this.socket.write(`${reply}\r\n`);
  }

  private cleanup(): void {
    this.closed = true;
    if (!this.auth) return;
    const open = this.ctx.authenticated.get(this.auth.mailbox) ?? [];
    this.ctx.authenticated.set(
      this.auth.mailbox,
      open.filter((s) => s !== this),
    );
  }

  /** Handles complete lines one at a time, so pipelined commands wait for async ones. */
  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.closed) {
        const newline = this.buffer.indexOf(0x0a);
        const tooLong = this.mode !== "data" && (newline < 0 ? this.buffer.length : newline) > maxLine;
        if (tooLong) {
          this.send(this.r.lineTooLong());
          this.socket.end();
          return;
        }
        if (newline < 0) return;
        let line = this.buffer.subarray(0, newline);
        this.buffer = this.buffer.subarray(newline + 1);
        if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
        if (this.mode === "data") await this.dataLine(line);
        else await this.commandLine(line.toString("utf8"));
      }
    } finally {
      this.busy = false;
    }
  }

  private async commandLine(line: string): Promise<void> {
    const mode = this.mode;
    this.mode = "command";
    if (mode === "xoauth2") return this.xoauth2(line);
    if (mode === "login-user") return this.loginUser();
    if (mode === "login-password") return this.loginPassword();
    const space = line.indexOf(" ");
    const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
    const arg = space < 0 ? "" : line.slice(space + 1).trim();
    switch (verb) {
      case "EHLO":
      case "HELO":
        return this.hello(verb, arg);
      case "STARTTLS":
        return this.startTls();
      case "AUTH":
        return this.authCommand(arg);
      case "MAIL":
        return this.mail(arg);
      case "RCPT":
        return this.rcpt(arg);
      case "DATA":
        return this.dataCommand(arg);
      case "RSET":
        this.resetTransaction();
        return this.send(this.r.reset);
      case "NOOP":
        return this.send(this.r.ok);
      case "QUIT":
        this.send(this.r.quit);
        this.socket.end();
        return;
      default:
        return this.send(this.r.unrecognized());
    }
  }

  /** Sends an injected failure for `stage` if one is queued. */
  private injected(stage: InjectStage): boolean {
    const reply = this.ctx.takeInjection(stage);
    if (reply) this.send(reply);
    return reply !== undefined;
  }

  private resetTransaction(): void {
    this.mailFrom = undefined;
    this.rcptTo = [];
  }

  private hello(verb: string, arg: string) {
    if (!arg) return this.send(this.r.invalidDomain());
    if (this.injected("ehlo")) return;
    this.greeted = true;
    this.resetTransaction();
    this.send(verb === "EHLO" ? this.r.ehlo(this.clientIp, this.secure) : this.r.helo(this.clientIp));
  }

  private startTls() {
    if (!this.greeted) return this.send(this.r.sendHelloFirst());
    if (this.secure) return this.send(this.r.badSequence("TLS already active"));
    if (this.injected("starttls")) return;
    this.send(this.r.startTls);
    // Drop anything pipelined after STARTTLS in clear text (RFC 3207 §4.2) and forget the EHLO.
    this.buffer = Buffer.alloc(0);
    this.greeted = false;
    this.resetTransaction();
    this.socket.removeAllListeners("data"); // its error handler stays and now destroys the TLS socket
    this.socket = new TLSSocket(this.socket, { isServer: true, secureContext: this.ctx.secureContext });
    this.secure = true;
    this.listen();
  }

  private authCommand(arg: string): Promise<void> | void {
    const [mechanism = "", initial] = arg.split(/\s+/);
    if (!this.greeted) return this.send(this.r.sendHelloFirst());
    // Exchange offers no AUTH before STARTTLS; asking anyway gets 504 (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth, mattermost #954).
    if (!this.secure) return this.send(this.r.unrecognizedAuth);
    if (this.auth) return this.send(this.r.badSequence("already authenticated"));
    switch (mechanism.toUpperCase()) {
      case "XOAUTH2":
        if (initial !== undefined) return this.xoauth2(initial);
        this.mode = "xoauth2";
        return this.send(this.r.authContinue);
      case "LOGIN":
        this.mode = initial === undefined ? "login-user" : "login-password";
        return this.send(initial === undefined ? this.r.loginUsername : this.r.loginPassword);
      default:
        return this.send(this.r.unrecognizedAuth);
    }
  }

  private loginUser(): void {
    this.mode = "login-password";
    this.send(this.r.loginPassword);
  }

  /** Basic auth is off for the fake; the username and password are never recorded. */
  private loginPassword(): void {
    const reply = this.r.basicAuthDisabled();
    this.ctx.authResults.push({
      mechanism: "LOGIN",
      mailbox: undefined,
      appId: undefined,
      success: false,
      reply,
      reason: "basic authentication is disabled",
    });
    this.send(reply);
  }

  private async xoauth2(blob: string): Promise<void> {
    if (blob === "*") return this.send(this.r.authAborted());
    const record = (reply: string, decision: { mailbox?: string; appId?: string }, reason: string) => {
      this.ctx.authResults.push({
        mechanism: "XOAUTH2",
        mailbox: decision.mailbox,
        appId: decision.appId,
        success: reply.startsWith("235"),
        reply,
        reason,
        blob,
      });
      this.send(reply);
    };
    const decision = await this.ctx.directory.authorize(blob);
    const injected = this.ctx.takeInjection("auth");
    if (injected) return record(injected, decision, "injected");
    if (!decision.ok) {
      const reply =
        decision.failure === "disabled-tenant"
          ? this.r.smtpAuthDisabled("Tenant")
          : decision.failure === "disabled-mailbox"
            ? this.r.smtpAuthDisabled("Mailbox")
            : this.r.authFailed();
      return record(reply, decision, decision.reason);
    }
    if (!decision.canLogOn && this.ctx.mailboxPermissionFailure === "auth") {
      return record(this.r.authFailed(), decision, "service principal has no FullAccess on the mailbox");
    }
    const mailbox = decision.mailbox.toLowerCase();
    this.auth = { mailbox, spObjectId: decision.spObjectId, canLogOn: decision.canLogOn };
    const open = [...(this.ctx.authenticated.get(mailbox) ?? []), this];
    this.ctx.authenticated.set(mailbox, open);
    const max = this.ctx.maxConcurrentByMailbox.get(mailbox) ?? 0;
    this.ctx.maxConcurrentByMailbox.set(mailbox, Math.max(max, open.length));
    record(this.r.authOk, decision, "ok");
  }

  private mail(arg: string) {
    if (!this.greeted) return this.send(this.r.sendHelloFirst());
    if (!this.auth) return this.send(this.r.notAuthenticated());
    if (this.mailFrom !== undefined) return this.send(this.r.badSequence("sender already specified"));
    const match = /^FROM:\s*<([^>]*)>/i.exec(arg);
    if (!match) return this.send(this.r.syntaxError());
    if (this.injected("mail")) return;
    this.mailFrom = match[1] ?? "";
    this.send(this.r.senderOk);
  }

  private rcpt(arg: string) {
    if (this.mailFrom === undefined) return this.send(this.r.badSequence("need MAIL command"));
    const match = /^TO:\s*<([^>]+)>/i.exec(arg);
    if (!match?.[1]) return this.send(this.r.syntaxError());
    if (this.injected("rcpt")) return;
    this.rcptTo.push(match[1]);
    this.send(this.r.recipientOk);
  }

  private dataCommand(arg: string) {
    if (this.mailFrom === undefined || this.rcptTo.length === 0) {
      return this.send(this.r.badSequence("need RCPT command"));
    }
    if (arg) return this.send(this.r.syntaxError());
    this.mode = "data";
    this.data = [];
    this.send(this.r.startData);
  }

  private async dataLine(line: Buffer): Promise<void> {
    if (line.length === 1 && line[0] === 0x2e) {
      this.mode = "command";
      return this.endOfData();
    }
    // Dot-unstuffing (RFC 5321 §4.5.2).
    this.data.push(line[0] === 0x2e ? line.subarray(1) : line, crlf);
  }

  private async endOfData(): Promise<void> {
    const auth = this.auth;
    const envelope = { mailFrom: this.mailFrom ?? "", rcptTo: this.rcptTo };
    this.resetTransaction();
    if (!auth) return this.send(this.r.notAuthenticated()); // MAIL FROM already demanded it
    const message = await parseMessage(Buffer.concat(this.data), envelope, auth.mailbox);
    this.data = [];
    if (this.injected("data")) return;
    if (!auth.canLogOn) return this.send(this.r.mailboxLogonFailure());
    const position = (this.ctx.authenticated.get(auth.mailbox) ?? []).indexOf(this);
    if (position >= this.ctx.limits.concurrentConnectionsPerMailbox) {
      this.ctx.limitViolations.push({ mailbox: auth.mailbox, limit: "concurrency", at: new Date() });
      return this.send(this.r.threadLimit());
    }
    const now = Date.now();
    const recent = (this.ctx.acceptedAt.get(auth.mailbox) ?? []).filter((t) => t > now - 60_000);
    this.ctx.acceptedAt.set(auth.mailbox, recent);
    if (recent.length >= this.ctx.limits.messagesPerMinute) {
      this.ctx.limitViolations.push({ mailbox: auth.mailbox, limit: "rate", at: new Date() });
      return this.send(this.r.submissionQuota());
    }
    // From header and envelope sender must be the mailbox, or a SendAs grant must exist (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
    for (const from of [envelope.mailFrom, message.from?.address ?? ""]) {
      if (!this.ctx.directory.maySendAs(auth.mailbox, auth.spObjectId, from)) {
        return this.send(this.r.sendAsDenied(auth.mailbox, from));
      }
    }
    recent.push(now);
    this.ctx.messages.push(message);
    const messageId = message.headers.get("message-id");
    const id = typeof messageId === "string" ? messageId : `<${randomBytes(8).toString("hex")}@fake>`;
    this.send(this.r.queued(id));
  }
}
