import type { ClassifiedError } from "../../mail/smtp-errors.ts";
import type { TokenSource } from "../../mail/smtp-pool.ts";
import { smtpTransport } from "../../mail/smtp-transport.ts";
import type { StepName } from "../../mail/test-steps.ts";
import type { ReplyMeaning, Transport } from "../../mail/transport.ts";
import type { KindEnvironment, OpenProvider } from "../kinds/kind.ts";
import { tokenStep } from "./token-step.ts";

/** How one OAuth SMTP service's answers read, for one sender: hints, reply meanings, token checks. */
export interface OauthSmtpReplies {
  explain: (error: ClassifiedError, step: StepName) => string | undefined;
  interpret: (error: ClassifiedError) => ReplyMeaning | undefined;
  /** What an issued token shows to be wrong (e.g. a role without admin consent). */
  tokenProblem: (accessToken: string) => { summary: string; hint: string } | undefined;
}

/**
 * XOAUTH2 to an identity provider's SMTP submission endpoint (the operator's, trusted as configured)
 * as the sender mailbox: the transport of the OAuth SMTP kinds. A test gets the token first; the SMTP
 * steps then reuse it (the same token source).
 */
export function oauthSmtpTransport(options: {
  operator: { smtpHost: string; smtpPort: number; maxConnections: number };
  provider: OpenProvider<unknown>;
  env: KindEnvironment;
  tokens: TokenSource;
  replies: OauthSmtpReplies;
}): Transport {
  const { operator, provider, tokens, replies } = options;
  return smtpTransport(
    {
      host: operator.smtpHost,
      port: operator.smtpPort,
      security: "starttls",
      operatorEndpoint: true,
      auth: { method: "xoauth2", user: provider.senderEmail, tokens },
      maxConnections: operator.maxConnections,
    },
    {
      policy: options.env.policy,
      explain: replies.explain,
      interpret: replies.interpret,
      preflight: () => tokenStep(tokens, replies.tokenProblem),
      gate: provider.gate,
      onConnection: provider.onConnection,
    },
  );
}
