// The senders Postern is compared with, speaking to the same SMTP server with the same message.
import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { composeLoginEmail } from "../../src/mail/login-email.ts";
import { SMTP_TIMEOUTS } from "../../src/mail/sender.ts";

/** An SMTP submission server reached as Postern reaches a Basic Auth provider: STARTTLS, then AUTH. */
export interface SmtpDestination {
  host: string;
  port: number;
  username: string;
  password: string;
  senderEmail: string;
  senderName: string;
}

const connectionOptions = (to: SmtpDestination): SMTPTransport.Options => ({
  ...SMTP_TIMEOUTS,
  host: to.host,
  port: to.port,
  secure: false,
  requireTLS: true,
  tls: { minVersion: "TLSv1.2", rejectUnauthorized: true },
  auth: { user: to.username, pass: to.password },
});

/** The login email Postern would compose for `recipient`, so every sender puts the same bytes on the wire. */
function loginEmail(to: SmtpDestination, recipient: string) {
  const content = composeLoginEmail({
    appName: "Bench app",
    code: "123456",
    link: "http://postern.bench.localhost/v1/login/email/link?token=bench-token-0123456789abcdef",
    recipient,
    requestIp: "127.0.0.1",
    ttlMinutes: 10,
  });
  return { from: { name: to.senderName, address: to.senderEmail }, to: recipient, ...content };
}

/** (a) The floor: one pooled transport, every message handed to it at once. */
export async function sendPooled(
  to: SmtpDestination,
  recipients: readonly string[],
  pool: { maxConnections: number; maxMessages: number },
): Promise<void> {
  const options: SMTPPool.Options = { ...connectionOptions(to), pool: true, ...pool };
  const transport = nodemailer.createTransport(options);
  try {
    await Promise.all(recipients.map((r) => transport.sendMail(loginEmail(to, r))));
  } finally {
    transport.close();
  }
}

/**
 * (b) The peers' way: a new transport, so a new TCP + TLS + EHLO + AUTH, for every message (Keycloak,
 * GoTrue, Kratos, Zitadel and Logto all do this; research B8), with `parallel` messages in flight.
 */
export async function sendConnectionPerEmail(
  to: SmtpDestination,
  recipients: readonly string[],
  parallel: number,
): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < recipients.length) {
      const recipient = recipients[next++]!;
      const transport = nodemailer.createTransport({ ...connectionOptions(to), pool: false });
      try {
        await transport.sendMail(loginEmail(to, recipient));
      } finally {
        transport.close();
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, sender));
}
