import type net from "node:net";
import nodemailer from "nodemailer";
import { connectionFailure } from "../../../mail/https.ts";
import { nodemailerMessage, type OutgoingEmail, type SendResult } from "../../../mail/sender.ts";
import { classified, classifySmtpError } from "../../../mail/smtp-errors.ts";
import type { ConnectionGate, TokenSource } from "../../../mail/smtp-pool.ts";
import { type TestStep, testEmailStep } from "../../../mail/test-steps.ts";
import { DeliveryError, deliveryErrorOf, type Transport } from "../../../mail/transport.ts";
import type { OutboundPolicy } from "../../../security/outbound-guard.ts";
import { tokenStep } from "../../oauth/token-step.ts";
import { type GraphEndpoint, graphClient } from "./graph-http.ts";
import {
  type GraphFixValues,
  type GraphReply,
  interpretGraphReply,
  meaningMessage,
  replyLine,
} from "./graph-replies.ts";
import { missingRole } from "./token-source.ts";

export interface GraphTransportOptions extends GraphFixValues {
  /** POSTERN_MICROSOFT_GRAPH_URL, without a trailing slash. */
  graphUrl: string;
  /** App-only tokens for https://graph.microsoft.com/.default. */
  tokens: TokenSource;
  policy: OutboundPolicy;
  /** Requests in flight at once from this process (Graph: 4 per app and mailbox). */
  maxConcurrent: number;
  /** The mailbox's lane, shared by every process: one admission per request. */
  gate?: ConnectionGate | undefined;
  onConnection?: ((socket: net.Socket) => void) | undefined;
  now: () => Date;
}

/**
 * The MIME form of sendMail (https://learn.microsoft.com/graph/api/user-sendmail#example-4-send-a-new-message-using-mime-format):
 * nodemailer composes the message exactly as for SMTP, so the headers Graph's JSON form cannot carry (it
 * takes only x- headers: no Auto-Submitted, Content-Language or Message-ID) are the same on both
 * transports. The MIME form has no saveToSentItems, so the mailbox keeps a copy in Sent Items, as
 * Exchange does for SMTP submissions.
 */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
async function mimeBase64(email: OutgoingEmail): Promise<string> {
  const info = await composer.sendMail(nodemailerMessage(email));
  return (info.message as Buffer).toString("base64");
}

/** At most `limit` at once in this process, whatever the lane allows. */
function semaphore(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(run: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Microsoft Graph's sendMail behind the transport contract: an app-only token, one HTTPS request per email. */
export function graphTransport(options: GraphTransportOptions): Transport {
  const base = new URL(options.graphUrl);
  const endpoint: GraphEndpoint = {
    host: base.hostname.replace(/^\[|\]$/g, ""),
    port: Number(base.port || 443),
  };
  const url = new URL(
    `${base.pathname.replace(/\/$/, "")}/v1.0/users/${encodeURIComponent(options.senderEmail)}/sendMail`,
    base,
  );
  const client = graphClient(endpoint, { ...options, maxSockets: options.maxConcurrent });
  const limit = semaphore(options.maxConcurrent);

  /** One request with the token at hand (cached), and once more with a fresh one if Graph refused it (expired, revoked). */
  async function submit(body: string): Promise<GraphReply> {
    const attempt = async (fresh: boolean) => {
      const token = await options.tokens.getToken(fresh).catch((err: unknown) => {
        throw new DeliveryError(classifySmtpError(err));
      });
      return client.post(url, token.accessToken, "text/plain", body).catch((err: unknown) => {
        throw new DeliveryError(connectionFailure(err, { ...endpoint, operator: true }, "Microsoft Graph"));
      });
    };
    const reply = await attempt(false);
    return reply.status === 401 && reply.code === "InvalidAuthenticationToken" ? attempt(true) : reply;
  }

  async function send(email: OutgoingEmail): Promise<SendResult> {
    const body = await mimeBase64(email);
    const reply = await limit(async () => {
      const admission = await options.gate?.open();
      try {
        return await submit(body);
      } finally {
        admission?.release();
      }
    });
    if (reply.status === 202) {
      // 202 means Exchange took the message, not that it arrived: unknown recipients bounce later, to
      // the mailbox (https://learn.microsoft.com/graph/outlook-things-to-know-about-send-mail). A 2xx is never retried.
      return {
        messageId: email.messageId,
        smtpReply: `202 Accepted${reply.requestId ? ` (request-id ${reply.requestId})` : ""}`,
        note: `Accepted by Microsoft Graph for ${options.senderEmail}: not yet delivered; unknown recipients come back as non-delivery reports to ${options.senderEmail}.`,
      };
    }
    const meaning = interpretGraphReply(reply, options);
    throw new DeliveryError(
      classified(meaning.errorClass, meaningMessage(meaning), replyLine(reply), reply.status),
      {
        sender: meaning.sender,
        retryAfterSeconds: meaning.retryAfterSeconds,
      },
    );
  }

  return {
    send,
    async probe({ email }) {
      let accessToken = "";
      const [token] = await tokenStep(options.tokens, (issued) => {
        accessToken = issued;
        return undefined;
      });
      if (token!.outcome === "failed") {
        return [token!, ...(["permission", "send"] as const).map((name) => skipped(name))];
      }
      const steps: TestStep[] = [token!, permissionStep(accessToken)];
      if (!email) {
        return [
          ...steps,
          skipped("send", "Graph has no dry run for sendMail: send a test email to prove sending."),
        ];
      }
      return [
        ...steps,
        ...(await testEmailStep(
          () => send(email),
          "Microsoft Graph",
          (err) => deliveryErrorOf(err).classified,
          () => undefined,
        )),
      ];
    },
    async close() {
      client.close();
    },
  };
}

const skipped = (name: TestStep["name"], detail?: string): TestStep => ({
  name,
  outcome: "skipped",
  durationMs: 0,
  ...(detail ? { detail } : {}),
});

/**
 * What the token shows about Mail.Send. An Entra admin consent puts it in `roles`, tenant-wide; RBAC for
 * Applications grants it in Exchange for a scope of mailboxes and never shows in the token
 * (https://learn.microsoft.com/exchange/permissions-exo/application-rbac), so a token without it proves nothing.
 */
function permissionStep(accessToken: string): TestStep {
  if (missingRole(accessToken, "Mail.Send")) {
    return skipped(
      "permission",
      "The token carries no Mail.Send role. That is right with RBAC for Applications, whose grant for the mailbox lives in Exchange and never shows in a token; without that grant, sending fails with 403 ErrorAccessDenied. Send a test email to prove it.",
    );
  }
  return {
    name: "permission",
    outcome: "ok",
    durationMs: 0,
    detail: "The token carries Mail.Send (an admin consent in Entra).",
    hint: "A tenant-wide Mail.Send consent lets this app send as any mailbox of the tenant. Grant it through RBAC for Applications for this one mailbox instead (the setup guide), then remove the consent in Entra.",
  };
}

/** A request that got no answer: the outbound guard, the connection, TLS or a timeout. */
