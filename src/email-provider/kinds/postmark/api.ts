import type { ServerClient } from "postmark";
import type { OutgoingEmail, SendResult } from "../../../mail/sender.ts";
import { classified } from "../../../mail/smtp-errors.ts";
import { DeliveryError } from "../../../mail/transport.ts";
import { fromLine, loginHeaders } from "../email-api/account.ts";
import { type ApiReply, ApiReplyError, cleanText, retryAfterSeconds } from "../email-api/replies.ts";
import { type CheckResult, type EmailApi, endpointOf, REQUEST_TIMEOUT_MS } from "../email-api/transport.ts";
import { interpretPostmarkReply, type PostmarkFixValues } from "./replies.ts";

export interface PostmarkApiOptions extends PostmarkFixValues {
  /** POSTERN_POSTMARK_API_URL. */
  baseUrl: string;
  serverToken: string;
  now: () => Date;
}

/** What one request's fetch saw: the response's headers (Retry-After), or the error that kept it from answering. */
interface Seen {
  headers?: Headers;
  error?: unknown;
}

/**
 * Postmark through its own client (postmark 5, on fetch): a ServerClient per request, pointed at the
 * operator's base URL (`requestHost`) with a fetch of our own that keeps what the client's errors drop —
 * the response's headers and the cause of a failed connection (the client reduces both to a message).
 */
let postmark: Promise<typeof import("postmark")> | undefined;
/** The postmark package loads with the first Postmark provider a process uses, not at start. */
function postmarkLibrary() {
  postmark ??= import("postmark");
  return postmark;
}

export function postmarkApi(options: PostmarkApiOptions): EmailApi {
  const base = new URL(options.baseUrl);
  const requestHost = `${base.host}${base.pathname.replace(/\/$/, "")}`;
  const interpret = (reply: ApiReply) => interpretPostmarkReply(reply, options);

  async function call<T>(run: (client: ServerClient) => Promise<T>): Promise<T> {
    const seen: Seen = {};
    const { ServerClient } = await postmarkLibrary();
    const client = new ServerClient(options.serverToken, {
      useHttps: true,
      requestHost,
      timeout: REQUEST_TIMEOUT_MS / 1000,
      fetch: async (input, init) => {
        try {
          // Redirects are not followed: the token header would go with them.
          const response = await fetch(input, { ...init, redirect: "manual" });
          seen.headers = response.headers;
          return response;
        } catch (err) {
          seen.error = err;
          throw err;
        }
      },
    });
    try {
      return await run(client);
    } catch (err) {
      const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
      if (seen.error !== undefined || typeof e.statusCode !== "number" || e.statusCode === 0) {
        throw seen.error ?? err;
      }
      throw new ApiReplyError({
        status: e.statusCode,
        code: typeof e.code === "number" && e.code > 0 ? String(e.code) : "",
        message: cleanText(e.message),
        retryAfterSeconds: retryAfterSeconds(seen.headers, options.now()),
      });
    }
  }

  async function submit(email: OutgoingEmail): Promise<SendResult> {
    const sent = await call((client) =>
      client.sendEmail({
        From: fromLine(email.from),
        To: email.to,
        Subject: email.subject,
        TextBody: email.text,
        ...(email.html ? { HtmlBody: email.html } : {}),
        ...(email.replyTo ? { ReplyTo: email.replyTo } : {}),
        MessageStream: options.messageStream,
        Headers: Object.entries(loginHeaders(email)).map(([Name, Value]) => ({ Name, Value })),
        // Link tracking would route the magic link through Postmark's redirector, open tracking adds a
        // pixel: neither belongs in a login email (https://postmarkapp.com/developer/user-guide/tracking-links).
        TrackOpens: false,
        TrackLinks: "None" as never,
      }),
    );
    const id = cleanText(sent.MessageID, 80);
    return {
      messageId: email.messageId,
      smtpReply: `200 OK${id ? ` (MessageID ${id})` : ""}`,
      note: "Accepted by Postmark: not yet delivered; bounces show in the stream's Activity.",
    };
  }

  async function serverStep(): Promise<CheckResult> {
    const server = await call((client) => client.getServer());
    const name = cleanText(server.Name, 100);
    if (String(server.DeliveryType) === "Sandbox") {
      throw new DeliveryError(
        classified(
          "auth",
          `The server token belongs to "${name}", a Sandbox server: Postmark accepts its emails and never delivers them. Use the token of a Live server (Postmark → Servers → your server → Settings shows its delivery type).`,
        ),
      );
    }
    return { outcome: "ok", detail: `Postmark accepted the server token of the server "${name}".` };
  }

  async function streamStep(): Promise<CheckResult> {
    const stream = await call((client) => client.getMessageStream(options.messageStream));
    const type = cleanText(stream.MessageStreamType, 40);
    if (type === "Inbound" || stream.ArchivedAt) {
      throw new DeliveryError(
        classified(
          "auth",
          `The message stream "${options.messageStream}" cannot send: it is ${stream.ArchivedAt ? "archived" : "an inbound stream"}. Enter a transactional stream's ID ("outbound" is the default one).`,
        ),
      );
    }
    const signatures = `Postmark shows sender signatures only to an account token, which Postern does not ask for: send a test email to prove that ${options.senderEmail} is a confirmed sender signature.`;
    return {
      outcome: "ok",
      detail: `The server has the ${type.toLowerCase()} stream "${options.messageStream}". ${signatures}`,
      ...(type === "Broadcasts"
        ? {
            hint: "This is a broadcast stream, made for newsletters (its emails need an unsubscribe link). Login emails belong on a transactional stream such as outbound.",
          }
        : {}),
    };
  }

  return {
    vendor: "Postmark",
    endpoint: endpointOf(options.baseUrl),
    idName: "MessageID",
    submit,
    checks: [
      { name: "authenticate", run: serverStep },
      { name: "permission", run: streamStep },
    ],
    noSendDetail: `No email was sent: send a test email to prove that Postmark sends From ${options.senderEmail}.`,
    interpret,
    unreachableHint:
      "Postern could not reach Postmark's API: outbound HTTPS (port 443) to it must be allowed, and a TLS-inspecting proxy's CA trusted (NODE_EXTRA_CA_CERTS).",
  };
}
