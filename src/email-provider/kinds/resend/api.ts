import { Resend } from "resend";
import type { OutgoingEmail, SendResult } from "../../../mail/sender.ts";
import { classified } from "../../../mail/smtp-errors.ts";
import { DeliveryError } from "../../../mail/transport.ts";
import { domainOf, fromLine, loginHeaders } from "../email-api/account.ts";
import { type ApiReply, ApiReplyError, cleanText, retryAfterSeconds } from "../email-api/replies.ts";
import { type CheckResult, type EmailApi, endpointOf } from "../email-api/transport.ts";
import { interpretResendReply, type ResendFixValues } from "./replies.ts";

export interface ResendApiOptions extends ResendFixValues {
  /** POSTERN_RESEND_API_URL, given to the client itself (never through RESEND_BASE_URL, which is process-wide). */
  baseUrl: string;
  apiKey: string;
  requestsPerSecond: number;
  now: () => Date;
}

type ResendResult<T> = {
  data: T | null;
  error: { name?: unknown; message?: unknown; statusCode?: unknown } | null;
  headers: Record<string, string> | null;
};

/**
 * The client answers `{data, error, headers}` instead of throwing; an error with no status is a request
 * that got no answer, whose cause the client does not keep (connection, DNS and TLS look alike): only a
 * timeout can be told, by our own signal.
 */
function unwrap<T>(result: ResendResult<T>, signal: AbortSignal, now: Date): T {
  if (!result.error) return result.data as T;
  const status = result.error.statusCode;
  if (typeof status !== "number") {
    throw signal.aborted
      ? Object.assign(new Error("timeout"), { name: "TimeoutError" })
      : new Error("unreachable");
  }
  const reply: ApiReply = {
    status,
    code: cleanText(result.error.name, 60),
    message: cleanText(result.error.message),
    retryAfterSeconds: retryAfterSeconds(result.headers, now),
  };
  throw new ApiReplyError(reply);
}

/** Resend through its own client (resend 6), pointed at the operator's base URL. */
export function resendApi(options: ResendApiOptions): EmailApi {
  const client = new Resend(options.apiKey, { baseUrl: options.baseUrl });
  const interpret = (reply: ApiReply) => interpretResendReply(reply, options);

  async function submit(email: OutgoingEmail, signal: AbortSignal): Promise<SendResult> {
    const result = await client.emails.send(
      {
        from: fromLine(email.from),
        to: [email.to],
        subject: email.subject,
        text: email.text,
        ...(email.html ? { html: email.html } : {}),
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        headers: loginHeaders(email),
      },
      // The delivery's Message-ID as the idempotency key: a send retried after a lost answer (timeout,
      // crash) is not sent twice within Resend's 24 hours (https://resend.com/docs/dashboard/emails/idempotency-keys).
      { idempotencyKey: email.messageId.slice(0, 256), signal },
    );
    const sent = unwrap(result as ResendResult<{ id?: string }>, signal, options.now());
    const id = cleanText(sent?.id, 80);
    return {
      messageId: email.messageId,
      smtpReply: `200 OK${id ? ` (id ${id})` : ""}`,
      note: "Accepted by Resend: not yet delivered; bounces show in Resend → Emails.",
    };
  }

  /** Whether this is a full-access key (it lists domains) or a sending-only one, which may only send. */
  let domains: { name?: string; status?: string; click_tracking?: boolean }[] | "sending-only" = [];

  async function keyStep(signal: AbortSignal): Promise<CheckResult> {
    try {
      const listed = unwrap(
        (await client.domains.list({}, { signal })) as ResendResult<{ data?: typeof domains }>,
        signal,
        options.now(),
      );
      domains = Array.isArray(listed?.data) ? listed.data : [];
      return {
        outcome: "ok",
        detail: "Resend accepted the API key (a full-access key: it can list domains).",
      };
    } catch (err) {
      if (!(err instanceof ApiReplyError) || err.reply.code !== "restricted_api_key") throw err;
      domains = "sending-only";
      return {
        outcome: "ok",
        detail: "Resend recognised the API key: a sending-only key, which may send but not list domains.",
      };
    }
  }

  async function domainStep(): Promise<CheckResult> {
    const domain = domainOf(options.senderEmail);
    if (domains === "sending-only") {
      return {
        outcome: "skipped",
        detail: `A sending-only key cannot read the team's domains, so only a test email proves that it may send From ${options.senderEmail}. That is the right kind of key for Postern.`,
      };
    }
    const found = domains.find((d) => d.name?.toLowerCase() === domain);
    if (found?.status !== "verified") {
      throw new DeliveryError(
        classified(
          "auth",
          `The domain ${domain} is ${found ? `${cleanText(found.status, 40)}, not verified,` : "not on this Resend team"}, so Resend will refuse to send From ${options.senderEmail}. In Resend → Domains, add ${domain}, create the DNS records it shows and press Verify.`,
        ),
      );
    }
    return {
      outcome: "ok",
      detail: `The domain ${domain} is verified in Resend.`,
      ...(found.click_tracking
        ? {
            hint: `Click tracking is on for ${domain}: Resend rewrites every link, the magic link too, through its redirector. Turn it off in Resend → Domains → ${domain} → Configuration.`,
          }
        : {}),
    };
  }

  return {
    vendor: "Resend",
    endpoint: endpointOf(options.baseUrl),
    idName: "id",
    submit,
    checks: [
      { name: "authenticate", run: keyStep },
      { name: "permission", run: domainStep },
    ],
    noSendDetail: `No email was sent: send a test email to prove that Resend sends From ${options.senderEmail}.`,
    interpret,
    unreachableHint:
      "Postern could not reach Resend's API (its client does not say whether the connection, DNS or TLS failed): outbound HTTPS (port 443) to it must be allowed, and a TLS-inspecting proxy's CA trusted (NODE_EXTRA_CA_CERTS).",
    requestsPerSecond: options.requestsPerSecond,
  };
}
