import type net from "node:net";
import nodemailer from "nodemailer";
import {
  clean,
  connectionFailure,
  type Endpoint,
  guardedAgent,
  httpsRequest,
  retryAfter,
} from "../../../mail/https.ts";
import { nodemailerMessage, type OutgoingEmail, type SendResult } from "../../../mail/sender.ts";
import type { ClassifiedError } from "../../../mail/smtp-errors.ts";
import { failedStep, type TestStep, testEmailStep, timed } from "../../../mail/test-steps.ts";
import { DeliveryError, deliveryErrorOf, type Transport } from "../../../mail/transport.ts";
import type { OutboundPolicy } from "../../../security/outbound-guard.ts";
import { replyFailure } from "../email-api/replies.ts";
import { interpretMailgunReply, type MailgunFixValues, type MailgunReply, replyLine } from "./replies.ts";

const REQUEST_TIMEOUT_MS = 30_000;
/** More than any error or domain body we read; the rest is not kept. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_MESSAGE_CHARS = 300;

export interface MailgunTransportOptions extends MailgunFixValues {
  /** The region's base URL, or the operator's POSTERN_MAILGUN_API_URL. */
  baseUrl: string;
  apiKey: string;
  policy: OutboundPolicy;
  maxConcurrent: number;
  onConnection?: ((socket: net.Socket) => void) | undefined;
  now: () => Date;
  /** The fix for a failed step (the kind's `explain`). */
  explain: (error: ClassifiedError) => string | undefined;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * The MIME form of Mailgun's send (https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/):
 * nodemailer composes the message exactly as the SMTP transports do, so Auto-Submitted, Content-Language,
 * Message-ID and Reply-To are the same on every transport, with no mapping of each to the fields form's `h:` parameters.
 */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
async function mime(email: OutgoingEmail): Promise<Buffer> {
  return (await composer.sendMail(nodemailerMessage(email))).message as Buffer;
}

/** `to` and the message as multipart/form-data, the body Mailgun's MIME endpoint takes. */
async function multipart(to: string, message: Buffer): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  form.append("to", to);
  form.append("message", new Blob([new Uint8Array(message)], { type: "message/rfc822" }), "message.mime");
  const encoded = new Response(form);
  return {
    body: Buffer.from(await encoded.arrayBuffer()),
    contentType: encoded.headers.get("content-type") ?? "multipart/form-data",
  };
}

/**
 * Mailgun behind the transport contract, over its documented HTTP API. mailgun.js (its SDK) is not used in
 * the product: it drops the response headers of a failure (so a 429's Retry-After is lost), reports a
 * refused connection as a "400" with the socket's error text (addresses included), and takes no agent,
 * so its connections could not go to the address the outbound guard checked.
 */
export function mailgunTransport(options: MailgunTransportOptions): Transport {
  const base = new URL(options.baseUrl);
  const endpoint: Endpoint = {
    host: base.hostname.replace(/^\[|\]$/g, ""),
    port: Number(base.port || 443),
    operator: true,
  };
  const agent = guardedAgent(endpoint, options.policy, options.maxConcurrent, options.onConnection);
  const authorization = `Basic ${Buffer.from(`api:${options.apiKey}`).toString("base64")}`;
  const path = (suffix: string) => `${base.pathname.replace(/\/$/, "")}${suffix}`;

  async function request(
    method: "GET" | "POST",
    suffix: string,
    body?: { body: Buffer; contentType: string },
  ): Promise<HttpAnswer> {
    const answer = await httpsRequest(new URL(path(suffix), base), {
      method,
      agent,
      headers: {
        Authorization: authorization,
        Accept: "application/json",
        ...(body ? { "Content-Type": body.contentType, "Content-Length": body.body.length } : {}),
      },
      body: body?.body,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxBodyBytes: MAX_BODY_BYTES,
    });
    return { ...answer, body: answer.body.toString("utf8") };
  }

  const call = (...args: Parameters<typeof request>) =>
    request(...args).catch((err: unknown) => {
      throw new DeliveryError(connectionFailure(err, endpoint, "Mailgun"));
    });

  /** Status, message and Retry-After of a failed answer; the key is never in it. */
  function replyOf(answer: HttpAnswer): MailgunReply {
    let message = answer.body;
    try {
      const parsed = JSON.parse(answer.body) as { message?: unknown };
      if (typeof parsed.message === "string") message = parsed.message;
    } catch {
      // Mailgun's 401 is plain text ("Forbidden"); a proxy's page is not worth more than its status.
      if (/<html/i.test(message)) message = "";
    }
    return {
      status: answer.status,
      message: clean(message, MAX_MESSAGE_CHARS),
      retryAfterSeconds: retryAfter(answer.headers["retry-after"], options.now()),
    };
  }

  function failureOf(answer: HttpAnswer): DeliveryError {
    const reply = replyOf(answer);
    return replyFailure(interpretMailgunReply(reply, options), reply, replyLine(reply));
  }

  async function send(email: OutgoingEmail): Promise<SendResult> {
    const answer = await call(
      "POST",
      `/v3/${encodeURIComponent(options.domain)}/messages.mime`,
      await multipart(email.to, await mime(email)),
    );
    if (answer.status !== 200) throw failureOf(answer);
    let id = "";
    let message = "Queued";
    try {
      const parsed = JSON.parse(answer.body) as { id?: unknown; message?: unknown };
      if (typeof parsed.id === "string") id = clean(parsed.id, 200);
      if (typeof parsed.message === "string") message = clean(parsed.message, 100);
    } catch {
      // A 200 is an acceptance whatever its body says.
    }
    return {
      messageId: id || email.messageId,
      smtpReply: `200 ${message}${id ? ` (id ${id})` : ""}`,
      note: `Accepted by Mailgun for ${options.domain}: queued, not yet delivered; bounces show in Mailgun → Logs.`,
    };
  }

  return {
    send,
    async probe({ email }) {
      const looked = await timed(() => call("GET", `/v4/domains/${encodeURIComponent(options.domain)}`));
      const lookupError = (looked.error as DeliveryError | undefined)?.classified;
      const steps = lookupError
        ? failedStep("authenticate", lookupError, looked.durationMs, options.explain(lookupError), [
            "permission",
            "send",
          ])
        : domainSteps(looked.value!, looked.durationMs, failureOf, options);
      if (steps.some((step) => step.outcome === "failed")) return steps;
      if (!email) {
        return [
          ...steps,
          {
            name: "send",
            outcome: "skipped",
            durationMs: 0,
            detail: "Nothing was sent. Send a test email to prove delivery.",
          },
        ];
      }
      return [
        ...steps,
        ...(await testEmailStep(
          () => send(email),
          "Mailgun",
          (err) => deliveryErrorOf(err).classified,
          options.explain,
        )),
      ];
    },
    async close() {
      agent.destroy();
    },
  };
}

/** What GET /v4/domains/{domain} (the route mailgun.js uses) says: the key works (or not), and the domain's state (https://documentation.mailgun.com/docs/mailgun/api-reference/). */
function domainSteps(
  answer: HttpAnswer,
  durationMs: number,
  failureOf: (answer: HttpAnswer) => DeliveryError,
  options: MailgunTransportOptions,
): TestStep[] {
  const values: MailgunFixValues = options;
  const keyWorks: TestStep = {
    name: "authenticate",
    outcome: "ok",
    durationMs,
    detail: `Mailgun accepted the API key (${values.region.toUpperCase()} region).`,
  };
  if (answer.status === 403) {
    // A domain sending key may send but not read the domain.
    return [
      {
        name: "authenticate",
        outcome: "skipped",
        durationMs,
        detail:
          "This key may not read the domain (a domain sending key can only send): send a test email to prove it.",
      },
      { name: "permission", outcome: "skipped", durationMs: 0 },
    ];
  }
  if (answer.status === 404) {
    const error = failureOf(answer).classified;
    return [keyWorks, ...failedStep("permission", error, 0, options.explain(error), ["send"])];
  }
  if (answer.status !== 200) {
    const error = failureOf(answer).classified;
    return failedStep("authenticate", error, durationMs, options.explain(error), ["permission", "send"]);
  }
  let domain: { state?: unknown; type?: unknown; is_disabled?: unknown } = {};
  try {
    domain = (JSON.parse(answer.body) as { domain?: typeof domain }).domain ?? {};
  } catch {
    // Unreadable: the state stays unknown.
  }
  const state = typeof domain.state === "string" ? clean(domain.state, 40) : "unknown";
  const sandbox = domain.type === "sandbox";
  if (state !== "active" || domain.is_disabled === true) {
    return [
      keyWorks,
      {
        name: "permission",
        outcome: "failed",
        durationMs: 0,
        errorClass: "auth",
        detail: `${values.domain} is ${domain.is_disabled === true ? "disabled" : state} in Mailgun, so it cannot send yet.`,
        hint: `Publish the DNS records Mailgun lists under Send → Sending → Domains → ${values.domain} → DNS records (SPF, DKIM, MX) and press Verify; a disabled domain is explained by Mailgun support.`,
      },
      { name: "send", outcome: "skipped", durationMs: 0 },
    ];
  }
  return [
    keyWorks,
    {
      name: "permission",
      outcome: "ok",
      durationMs: 0,
      detail: `${values.domain} is active${sandbox ? " (a sandbox domain)" : ""}.`,
      ...(sandbox
        ? {
            hint: "A sandbox domain sends only to its Authorized Recipients (at most 5): add and verify a domain of your own before real users log in.",
          }
        : {}),
    },
  ];
}
