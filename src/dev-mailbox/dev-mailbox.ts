import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { randomId } from "../security/tokens.ts";

export interface DevMessage {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  receivedAt: string;
}

const KEEP = 500;

/**
 * The built-in dev mailbox: a real SMTP server on loopback that keeps what it receives, so the
 * default route is exercised through the same SMTP code path as a real server.
 */
export class DevMailbox {
  private readonly messages: DevMessage[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      disableReverseLookup: true,
      banner: "Postern dev mailbox",
      logger: false,
      onData: (stream, _session, callback) => {
        // mailparser loads with the first email, not at start (a fifth of a second of start-up).
        import("mailparser")
          .then(({ simpleParser }) => simpleParser(stream))
          .then((mail) => {
            this.messages.unshift({
              id: randomId("msg"),
              from: mail.from?.text ?? "",
              to: (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) =>
                a.value.map((v) => v.address ?? ""),
              ),
              subject: mail.subject ?? "",
              text: mail.text ?? "",
              html: typeof mail.html === "string" ? mail.html : "",
              receivedAt: new Date().toISOString(),
            });
            this.messages.length = Math.min(this.messages.length, KEEP);
            callback();
          })
          .catch((err: Error) => callback(err));
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  /** Newest first. */
  list(): DevMessage[] {
    return [...this.messages];
  }

  clear(): void {
    this.messages.length = 0;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
