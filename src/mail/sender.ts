import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";

/** One login email, ready for the wire. Headers are built only from these structured fields. */
export interface OutgoingEmail {
  from: { name: string; address: string };
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Derived from the delivery id, so a duplicate send after a crash is recognisable. */
  messageId: string;
  /** Where replies go (the app's branding); a canonical address. */
  replyTo?: string | undefined;
  /** The locale the words are in, sent as Content-Language (RFC 3282). */
  language?: string | undefined;
}

/** `<id@domain>` on the sender's own domain, as receivers expect of a message from that domain. */
export function messageIdFor(id: string, senderAddress: string): string {
  const domain = senderAddress.slice(senderAddress.lastIndexOf("@") + 1) || "postern.localhost";
  return `<${id}@${domain}>`;
}

export interface SendResult {
  messageId: string;
  /** The server's answer: an SMTP reply line, or an HTTP API's status and request id. */
  smtpReply: string;
  /** What the answer means when it is less than delivery (e.g. Graph's 202: accepted, not yet delivered). */
  note?: string;
}

/** Something that delivers an email over SMTP: the default sender, or a custom provider's pool. */
export interface MailSender {
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): Promise<void>;
}

/** Timeouts tighter than nodemailer's minutes-long defaults (Keycloak's email sender uses 10 s each). */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
};

/**
 * The one mapping of a login email to nodemailer's message. Addresses are passed as objects and the
 * envelope is set explicitly, so nodemailer never re-parses an address string (which could find other
 * recipients in it); `to` is a canonical address (src/email-address).
 */
export function nodemailerMessage(email: OutgoingEmail) {
  return {
    from: { name: email.from.name, address: email.from.address },
    to: { name: "", address: email.to },
    envelope: { from: email.from.address, to: [email.to] },
    subject: email.subject,
    text: email.text,
    html: email.html,
    messageId: email.messageId,
    ...(email.replyTo ? { replyTo: { name: "", address: email.replyTo } } : {}),
    headers: {
      // RFC 3834: an automatic message, so auto-responders (vacation replies) stay silent.
      "Auto-Submitted": "auto-generated",
      // Exchange and Outlook's own way of saying the same to their out-of-office replies.
      "X-Auto-Response-Suppress": "All",
      ...(email.language ? { "Content-Language": email.language } : {}),
    },
  };
}

/** Wraps a pooled nodemailer transport as a MailSender. */
export function poolSender(options: SMTPPool.Options): MailSender {
  const transport = nodemailer.createTransport({ ...SMTP_TIMEOUTS, ...options, pool: true });
  return {
    async send(email) {
      const info = await transport.sendMail(nodemailerMessage(email));
      return { messageId: info.messageId, smtpReply: info.response };
    },
    async close() {
      transport.close();
    },
  };
}

/**
 * The operator's default sender, from POSTERN_DEFAULT_SMTP_URL. TLS is required (STARTTLS on smtp://,
 * implicit on smtps://) unless the URL says `?tls=optional` or `?tls=off`.
 */
export function defaultSenderOptions(url: string): SMTPPool.Options {
  const parsed = new URL(url);
  const secure = parsed.protocol === "smtps:";
  const tls = parsed.searchParams.get("tls") ?? "required";
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ""),
    port: Number(parsed.port || (secure ? 465 : 587)),
    secure,
    requireTLS: !secure && tls === "required",
    ignoreTLS: tls === "off",
    tls: { minVersion: "TLSv1.2" },
    ...(parsed.username
      ? { auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) } }
      : {}),
    maxConnections: 5,
    maxMessages: 1000,
  };
}

export function parseFromAddress(value: string): { name: string; address: string } {
  const match = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value);
  if (match) return { name: match[1]?.trim() || match[2]!, address: match[2]! };
  return { name: value.trim(), address: value.trim() };
}
