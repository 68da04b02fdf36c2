import https from "node:https";
import type sendgridClient from "@sendgrid/client";
import type sendgridMail from "@sendgrid/mail";
import type { OutgoingEmail, SendResult } from "../../../mail/sender.ts";
import { classified } from "../../../mail/smtp-errors.ts";
import { DeliveryError } from "../../../mail/transport.ts";
import { domainOf, loginHeaders } from "../email-api/account.ts";
import { type ApiReply, ApiReplyError, cleanText, header, retryAfterSeconds } from "../email-api/replies.ts";
import { type CheckResult, type EmailApi, endpointOf, REQUEST_TIMEOUT_MS } from "../email-api/transport.ts";
import { interpretSendgridReply, type SendgridFixValues } from "./replies.ts";

/**
 * The packages' classes, loaded when a SendGrid provider first sends or is tested, not at start. The
 * packages export a ready instance and, beside it, its class (index.js: `module.exports.Client`);
 * their types declare only the instance as a value. Each provider needs an instance of its own (a key
 * and base URL each), so the classes are taken from beside the instances.
 */
async function sendgridClasses() {
  const [client, mail] = await Promise.all([import("@sendgrid/client"), import("@sendgrid/mail")]);
  return {
    Client: (client.default as unknown as { Client: new () => typeof sendgridClient }).Client,
    MailService: (mail.default as unknown as { MailService: new () => typeof sendgridMail }).MailService,
  };
}

export interface SendgridApiOptions extends SendgridFixValues {
  /** The operator's base URL for the key's region (POSTERN_SENDGRID_API_URL or its EU one). */
  baseUrl: string;
  apiKey: string;
  maxConcurrent: number;
  now: () => Date;
}

interface SendgridErrorBody {
  errors?: { message?: unknown; field?: unknown }[];
}

/** SendGrid's answer as a reply: the first error's field as the code, the messages, the rate-limit reset. */
function replyOf(err: unknown, now: Date): ApiReply | undefined {
  const e = err as { code?: unknown; response?: { headers?: Record<string, unknown>; body?: unknown } };
  if (typeof e?.code !== "number" || !e.response) return undefined;
  const errors = (e.response.body as SendgridErrorBody | undefined)?.errors ?? [];
  const field = errors.find((x) => typeof x.field === "string")?.field;
  return {
    status: e.code,
    code: cleanText(field, 80),
    message: cleanText(
      errors
        .map((x) => cleanText(x.message))
        .filter(Boolean)
        .join("; "),
    ),
    retryAfterSeconds: retryAfterSeconds(e.response.headers, now),
  };
}

/**
 * SendGrid through its own client (@sendgrid/mail 8): one Client per provider version, pointed at the
 * operator's base URL. `setApiKey` resets the base URL to the region's host (client.js), so the base URL
 * is set after it; redirects are not followed, so the key never goes anywhere else.
 */
export function sendgridApi(options: SendgridApiOptions): EmailApi {
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: options.maxConcurrent,
    minVersion: "TLSv1.2",
  });
  let clients: Promise<{ client: typeof sendgridClient; mail: typeof sendgridMail }> | undefined;
  const sdk = () =>
    (clients ??= sendgridClasses().then(({ Client, MailService }) => {
      const client = new Client();
      client.setApiKey(options.apiKey);
      client.setDefaultRequest("baseUrl", `${options.baseUrl}/`);
      client.setDefaultRequest("httpsAgent", agent);
      // axios options the request type does not list: no redirects (the key would go with them), a timeout.
      client.setDefaultRequest({ maxRedirects: 0, timeout: REQUEST_TIMEOUT_MS } as never);
      const mail = new MailService();
      mail.setClient(client);
      return { client, mail };
    }));
  const vendor = "SendGrid";
  const interpret = (reply: ApiReply) => interpretSendgridReply(reply, options);

  /** A GET of the management API; a refused one thrown as its reply. */
  async function get<T>(url: string): Promise<T> {
    try {
      const { client } = await sdk();
      const [, body] = await client.request({ method: "GET", url });
      return body as T;
    } catch (err) {
      const reply = replyOf(err, options.now());
      throw reply ? new ApiReplyError(reply) : err;
    }
  }

  async function submit(email: OutgoingEmail): Promise<SendResult> {
    const { mail } = await sdk();
    try {
      const [response] = await mail.send({
        to: email.to,
        from: { email: email.from.address, name: email.from.name },
        subject: email.subject,
        text: email.text,
        ...(email.html ? { html: email.html } : {}),
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        headers: loginHeaders(email),
        // Click tracking would route the magic link through SendGrid's redirector, and open tracking
        // adds a pixel: neither belongs in a login email (https://www.twilio.com/docs/sendgrid/ui/account-and-settings/tracking).
        trackingSettings: {
          clickTracking: { enable: false, enableText: false },
          openTracking: { enable: false },
          subscriptionTracking: { enable: false },
        },
      });
      const id = cleanText(header(response.headers as Record<string, unknown>, "x-message-id"), 80);
      return {
        messageId: email.messageId,
        smtpReply: `${response.statusCode} Accepted${id ? ` (x-message-id ${id})` : ""}`,
        note: "Accepted by SendGrid: not yet delivered; bounces show in SendGrid's Activity Feed.",
      };
    } catch (err) {
      const reply = replyOf(err, options.now());
      throw reply ? new ApiReplyError(reply) : err;
    }
  }

  /** The key's scopes, as the first check of a connection test found them, for the second. */
  let scopesSeen: string[] = [];
  async function keyStep(): Promise<CheckResult> {
    const { scopes = [] } = await get<{ scopes?: string[] }>("/v3/scopes");
    scopesSeen = scopes;
    return { outcome: "ok", detail: "SendGrid accepted the API key." };
  }

  async function senderStep(): Promise<CheckResult> {
    if (!scopesSeen.includes("mail.send")) {
      throw new DeliveryError(
        classified(
          "auth",
          "The API key may not send email (it has no mail.send scope). In the SendGrid console → Settings → API Keys, edit the key: Restricted Access with Mail Send: Full Access.",
        ),
      );
    }
    const domain = domainOf(options.senderEmail);
    const unreadable: string[] = [];
    if (scopesSeen.includes("whitelabel.read")) {
      const domains = await get<{ domain?: string; valid?: boolean }[]>("/v3/whitelabel/domains");
      const match = domains.find((d) => domain === d.domain?.toLowerCase());
      if (match?.valid) {
        return { outcome: "ok", detail: `The sender's domain ${match.domain} is authenticated in SendGrid.` };
      }
    } else unreadable.push("authenticated domains (Sender Authentication: Read Access)");
    try {
      const { results = [] } = await get<{ results?: { from_email?: string; verified?: boolean }[] }>(
        "/v3/verified_senders",
      );
      const sender = results.find((s) => s.from_email?.toLowerCase() === options.senderEmail.toLowerCase());
      if (sender?.verified) {
        return { outcome: "ok", detail: `${options.senderEmail} is a verified Single Sender in SendGrid.` };
      }
      if (unreadable.length === 0) {
        throw new DeliveryError(
          classified(
            "auth",
            `${options.senderEmail} is neither a verified Single Sender nor on an authenticated domain of this SendGrid account, so SendGrid will refuse to send From it. In the SendGrid console → Settings → Sender Authentication, authenticate ${domain} or verify ${options.senderEmail} as a Single Sender.`,
          ),
        );
      }
    } catch (err) {
      if (!(err instanceof ApiReplyError) || (err.reply.status !== 403 && err.reply.status !== 401))
        throw err;
      unreadable.push("verified senders");
    }
    return {
      outcome: "skipped",
      detail: `This API key may not read the account's ${unreadable.join(" or ")}, so Postern cannot tell whether ${options.senderEmail} is a verified Sender Identity: send a test email to prove it. A key with Mail Send only is the right key for Postern.`,
    };
  }

  return {
    vendor,
    endpoint: endpointOf(options.baseUrl),
    idName: "x-message-id",
    submit,
    checks: [
      { name: "authenticate", run: keyStep },
      { name: "permission", run: senderStep },
    ],
    noSendDetail: "No email was sent: send a test email to prove that SendGrid delivers From this sender.",
    interpret,
    unreachableHint:
      "Postern could not reach SendGrid's API: outbound HTTPS (port 443) to it must be allowed, and a TLS-inspecting proxy's CA trusted (NODE_EXTRA_CA_CERTS).",
    async close() {
      agent.destroy();
    },
  };
}
