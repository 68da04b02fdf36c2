// The senders Postern is compared with, speaking to the same server with the same message.
import sendgridClient from "@sendgrid/client";
import sendgridMail from "@sendgrid/mail";
import nodemailer from "nodemailer";
import type SMTPPool from "nodemailer/lib/smtp-pool/index.js";
import type SMTPTransport from "nodemailer/lib/smtp-transport/index.js";
import { Webhook } from "standardwebhooks";
import { loginHeaders } from "../../src/email-provider/kinds/email-api/account.ts";
import { deliveryIdOf, loginEmailPayload } from "../../src/email-provider/kinds/webhook/transport.ts";
import { composeLoginEmail } from "../../src/mail/login-email.ts";
import { messageIdFor, type OutgoingEmail, SMTP_TIMEOUTS } from "../../src/mail/sender.ts";
import { builtInTemplate } from "../../src/mail/templates/built-in.ts";
import { randomId } from "../../src/security/tokens.ts";

/** An SMTP submission server reached as Postern reaches a Basic Auth provider: STARTTLS, then AUTH. */
export interface SmtpDestination {
  host: string;
  port: number;
  username: string;
  password: string;
  senderEmail: string;
  senderName: string;
}

/** An Exchange-like submission server reached as Postern reaches it: STARTTLS, then AUTH XOAUTH2. */
export interface Xoauth2Destination {
  host: string;
  port: number;
  /** The sender mailbox: the XOAUTH2 user, the envelope sender and the From address. */
  mailbox: string;
  senderName: string;
  accessToken: string;
}

type Pool = { maxConnections: number; maxMessages: number };

/** STARTTLS required and the certificate checked, as Postern connects. */
const connectionOptions = (to: { host: string; port: number }): SMTPTransport.Options => ({
  ...SMTP_TIMEOUTS,
  host: to.host,
  port: to.port,
  secure: false,
  requireTLS: true,
  tls: { minVersion: "TLSv1.2", rejectUnauthorized: true },
});

const passwordAuth = (to: SmtpDestination) => ({ auth: { user: to.username, pass: to.password } });

/** The login email Postern would compose for `recipient`, so every sender puts the same bytes on the wire. */
function composedLoginEmail(recipient: string) {
  return composeLoginEmail(builtInTemplate("login", "en"), {
    appName: "Bench app",
    code: "123456",
    link: "http://postern.bench.localhost/v1/login/email/link?token=bench-token-0123456789abcdef",
    recipient,
    requestIp: "127.0.0.1",
    ttlMinutes: 10,
    locale: "en",
  });
}

/** As a nodemailer message. */
function loginEmail(from: { name: string; address: string }, recipient: string) {
  const { subject, html, text } = composedLoginEmail(recipient);
  return { from, to: recipient, subject, html, text };
}

/** As Postern hands it to an HTTP transport: with its Message-ID on the sender's domain. */
function outgoingLoginEmail(from: { name: string; address: string }, recipient: string): OutgoingEmail {
  return {
    ...composedLoginEmail(recipient),
    from,
    to: recipient,
    messageId: messageIdFor(randomId("dlv"), from.address),
  };
}

/** `concurrency` senders taking the next recipient as each finishes its last. */
async function inParallel(
  recipients: readonly string[],
  concurrency: number,
  send: (recipient: string) => Promise<void>,
): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < recipients.length) await send(recipients[next++]!);
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
}

/** One pooled transport, every message handed to it at once. */
async function sendAllPooled(options: SMTPPool.Options, messages: ReturnType<typeof loginEmail>[]) {
  const transport = nodemailer.createTransport(options);
  try {
    await Promise.all(messages.map((message) => transport.sendMail(message)));
  } finally {
    transport.close();
  }
}

/** (a) The floor: one pooled transport, every message handed to it at once. */
export async function sendPooled(
  to: SmtpDestination,
  recipients: readonly string[],
  pool: Pool,
): Promise<void> {
  const from = { name: to.senderName, address: to.senderEmail };
  await sendAllPooled(
    { ...connectionOptions(to), ...passwordAuth(to), pool: true, ...pool },
    recipients.map((r) => loginEmail(from, r)),
  );
}

/**
 * (a) for XOAUTH2: the same, with one access token fetched beforehand. No token source, no sender
 * limits: what the protocol itself costs.
 */
export async function sendPooledXoauth2(
  to: Xoauth2Destination,
  recipients: readonly string[],
  pool: Pool,
): Promise<void> {
  const from = { name: to.senderName, address: to.mailbox };
  const auth = { type: "OAuth2" as const, user: to.mailbox, accessToken: to.accessToken };
  await sendAllPooled(
    { ...connectionOptions(to), auth, pool: true, ...pool },
    recipients.map((r) => loginEmail(from, r)),
  );
}

/**
 * (b) The peers' way: a new transport, so a new TCP + TLS + EHLO + AUTH, for every message (Keycloak,
 * GoTrue, Kratos, Zitadel and Logto all do this), with `parallel` messages in flight.
 */
export async function sendConnectionPerEmail(
  to: SmtpDestination,
  recipients: readonly string[],
  parallel: number,
): Promise<void> {
  const from = { name: to.senderName, address: to.senderEmail };
  await inParallel(recipients, parallel, async (recipient) => {
    const transport = nodemailer.createTransport({
      ...connectionOptions(to),
      ...passwordAuth(to),
      pool: false,
    });
    try {
      await transport.sendMail(loginEmail(from, recipient));
    } finally {
      transport.close();
    }
  });
}

/** Microsoft Graph's sendMail reached with one access token fetched beforehand. */
export interface GraphDestination {
  /** The Graph base URL (POSTERN_MICROSOFT_GRAPH_URL). */
  graphUrl: string;
  mailbox: string;
  senderName: string;
  accessToken: string;
}

/**
 * (a) for Graph: plain fetch POSTs of the MIME message, `concurrency` in flight, no token source, no
 * sender limits, no outbound guard: what the HTTP API itself costs. Any answer but 202 fails the run.
 */
export async function sendThroughGraph(
  to: GraphDestination,
  recipients: readonly string[],
  concurrency: number,
): Promise<void> {
  const from = { name: to.senderName, address: to.mailbox };
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  const url = `${to.graphUrl}/v1.0/users/${encodeURIComponent(to.mailbox)}/sendMail`;
  await inParallel(recipients, concurrency, async (recipient) => {
    const info = await composer.sendMail(loginEmail(from, recipient));
    const res = await fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${to.accessToken}`, "content-type": "text/plain" },
      body: (info.message as Buffer).toString("base64"),
    });
    await res.arrayBuffer();
    if (res.status !== 202) throw new Error(`Graph answered ${res.status}`);
  });
}

/** SendGrid's Mail Send API at `baseUrl` (POSTERN_SENDGRID_API_URL), with one API key. */
export interface SendgridDestination {
  baseUrl: string;
  apiKey: string;
  senderEmail: string;
  senderName: string;
}

/**
 * (a) for SendGrid: its own SDK (@sendgrid/mail) as a developer calls it, `concurrency` sends in flight,
 * the message Postern sends (its headers, tracking off), no queue, no sender limits. A refusal throws.
 */
export async function sendThroughSendgrid(
  to: SendgridDestination,
  recipients: readonly string[],
  concurrency: number,
): Promise<void> {
  sendgridClient.setApiKey(to.apiKey);
  // After the key: setApiKey sets the base URL to SendGrid's own host.
  sendgridClient.setDefaultRequest("baseUrl", `${to.baseUrl}/`);
  sendgridMail.setClient(sendgridClient);
  const from = { name: to.senderName, address: to.senderEmail };
  await inParallel(recipients, concurrency, async (recipient) => {
    const email = outgoingLoginEmail(from, recipient);
    await sendgridMail.send({
      to: email.to,
      from: { email: from.address, name: from.name },
      subject: email.subject,
      text: email.text,
      html: email.html,
      headers: loginHeaders(email),
      trackingSettings: {
        clickTracking: { enable: false, enableText: false },
        openTracking: { enable: false },
        subscriptionTracking: { enable: false },
      },
    });
  });
}

/** A developer's Standard Webhooks endpoint and the secret Postern created for it. */
export interface WebhookDestination {
  url: string;
  secret: string;
  /** The app the payload names, as Postern's does. */
  appId: string;
  senderEmail: string;
  senderName: string;
}

/**
 * (a) for the webhook: Postern's payload for each login email, signed with the Standard Webhooks library
 * (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md) and POSTed
 * with fetch, `concurrency` in flight: no queue, no outbound guard. Any answer but 2xx fails the run.
 */
export async function sendThroughWebhook(
  to: WebhookDestination,
  recipients: readonly string[],
  concurrency: number,
): Promise<void> {
  const signer = new Webhook(to.secret);
  const from = { name: to.senderName, address: to.senderEmail };
  await inParallel(recipients, concurrency, async (recipient) => {
    const email = outgoingLoginEmail(from, recipient);
    const id = deliveryIdOf(email.messageId);
    const body = JSON.stringify(loginEmailPayload(email, to.appId));
    const at = new Date();
    const res = await fetch(to.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signer.sign(id, at, body),
      },
      body,
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`the webhook endpoint answered ${res.status}`);
  });
}
