import type net from "node:net";
import nodemailer from "nodemailer";
import type { OutboundPolicy } from "../security/outbound-guard.ts";
import { type MailSender, nodemailerMessage, type OutgoingEmail } from "./sender.ts";
import { classified, gatedConnect, type SmtpTarget, transportOptions } from "./smtp-connect.ts";
import type { ClassifiedError, SmtpEndpoint } from "./smtp-errors.ts";

export type { ConnectionGate, SmtpTarget, TokenSource } from "./smtp-connect.ts";

/**
 * A pooled sender for one provider version. Every new connection goes through the outbound guard;
 * XOAUTH2 connections ask the token source, and a `535` with a cached token is retried once with a
 * fresh one (Exchange answers 535 directly, so nodemailer's own renewal never triggers).
 */
export function openSmtpPool(
  target: SmtpTarget,
  policy: OutboundPolicy,
  /** Sees every connection the pool opens (for the open-connections metric). */
  onConnection?: (socket: net.Socket) => void,
): MailSender {
  const gate = target.connectionGate;
  const transport = nodemailer.createTransport({
    ...transportOptions(target),
    pool: true,
    maxConnections: target.maxConnections,
    // All connections of a pool reach the limit together and reconnect together (greeting, TLS,
    // AUTH): measured as the p99 of the bench. XOAUTH2 connections renew their token on reconnect.
    maxMessages: target.auth.method === "password" ? 1000 : 100,
    ...(gate ? { idleTimeout: gate.idleTimeoutMs } : {}),
    getSocket: (
      _options: unknown,
      callback: (err: Error | null, socketOptions?: { connection: net.Socket }) => void,
    ) => {
      gatedConnect(target, policy, gate).then(
        (socket) => {
          onConnection?.(socket);
          callback(null, { connection: socket });
        },
        (err: Error) => callback(err),
      );
    },
  } as Parameters<typeof nodemailer.createTransport>[0]);
  let forceFreshToken = false;
  if (target.auth.method === "xoauth2") {
    const { tokens } = target.auth;
    transport.set(
      "oauth2_provision_cb",
      (_user: string, renew: boolean, cb: (err: Error | null, token?: string, expires?: number) => void) => {
        const fresh = renew || forceFreshToken;
        forceFreshToken = false;
        tokens.getToken(fresh).then(
          (t) => cb(null, t.accessToken, t.expiresAt),
          (err: Error) =>
            cb(
              classified(err, (err as { errorClass?: ClassifiedError["errorClass"] }).errorClass ?? "token"),
            ),
        );
      },
    );
  }
  const sendOnce = async (email: OutgoingEmail) => {
    const info = await transport.sendMail(nodemailerMessage(email));
    return { messageId: info.messageId, smtpReply: info.response };
  };
  return {
    async send(email) {
      try {
        return await sendOnce(email);
      } catch (err) {
        // The delivery log names where a failed send was going (see AttemptCause).
        if (typeof err === "object" && err !== null && !("endpoint" in err))
          Object.assign(err, { endpoint: { host: target.host, port: target.port } satisfies SmtpEndpoint });
        const code = (err as { code?: string; responseCode?: number }).code;
        if (
          target.auth.method === "xoauth2" &&
          code === "EAUTH" &&
          (err as { responseCode?: number }).responseCode === 535
        ) {
          forceFreshToken = true;
          return sendOnce(email);
        }
        throw err;
      }
    },
    async close() {
      transport.close();
    },
  };
}
