import type net from "node:net";
import type { OutboundPolicy } from "../security/outbound-guard.ts";
import type { ConnectionGate, SmtpTarget } from "./smtp-connect.ts";
import { classifySmtpError } from "./smtp-errors.ts";
import { openSmtpPool } from "./smtp-pool.ts";
import { testSmtpTarget } from "./smtp-probe.ts";
import type { Explain, TestStep } from "./test-steps.ts";
import { DeliveryError, type ReplyMeaning, type Transport } from "./transport.ts";

export interface SmtpTransportOptions {
  policy: OutboundPolicy;
  /** The fix for a failed test step (the kind's words). */
  explain: Explain;
  /** Reads a provider's own replies (e.g. Exchange's 432 4.3.2) beyond generic SMTP. */
  interpret?: ((error: ReturnType<typeof classifySmtpError>) => ReplyMeaning | undefined) | undefined;
  /** Steps that run before the SMTP dialogue in a test (e.g. a token), stopping it when one fails. */
  preflight?: (() => Promise<TestStep[]>) | undefined;
  gate?: ConnectionGate | undefined;
  onConnection?: ((socket: net.Socket) => void) | undefined;
}

/**
 * SMTP behind the transport contract: sends go through a pool opened on first use (every connection
 * checked by the outbound guard), a test runs the step-by-step dialogue on a connection of its own,
 * and every failure is classified here, where SMTP is known.
 */
export function smtpTransport(target: SmtpTarget, options: SmtpTransportOptions): Transport {
  let pool: ReturnType<typeof openSmtpPool> | undefined;
  return {
    async send(email) {
      pool ??= openSmtpPool(
        options.gate ? { ...target, connectionGate: options.gate } : target,
        options.policy,
        options.onConnection,
      );
      try {
        return await pool.send(email);
      } catch (err) {
        const classified = classifySmtpError(err);
        const meaning = options.interpret?.(classified);
        if (!meaning) throw new DeliveryError(classified);
        // Read again with the kind's class: blame, retry and message follow from it as for any error.
        const reread = classifySmtpError({
          errorClass: meaning.errorClass,
          message: meaning.message,
          response: classified.smtpReply,
          responseCode: classified.responseCode,
        });
        throw new DeliveryError(reread, { sender: meaning.sender });
      }
    },
    async probe({ email }) {
      const before = options.preflight ? await options.preflight() : [];
      if (before.some((s) => s.outcome === "failed")) return before;
      return [
        ...before,
        ...(await testSmtpTarget(target, options.policy, {
          ...(email ? { email } : {}),
          explain: options.explain,
        })),
      ];
    },
    async close() {
      await pool?.close();
    },
  };
}
