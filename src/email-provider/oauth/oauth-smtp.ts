import type { ClassifiedError } from "../../mail/smtp-errors.ts";
import type { TokenSource } from "../../mail/smtp-pool.ts";
import { smtpTransport } from "../../mail/smtp-transport.ts";
import type { StepName } from "../../mail/test-steps.ts";
import type { ReplyMeaning, Transport } from "../../mail/transport.ts";
import type { KindEnvironment, OpenProvider } from "../kinds/kind.ts";
import { tokenStep } from "./token-step.ts";

/**
 * XOAUTH2 to an identity provider's SMTP submission endpoint (the operator's, trusted as configured)
 * as the sender mailbox: the transport of the OAuth SMTP kinds. A test gets the token first; the SMTP
 * steps then reuse it (the same token source).
 */
export function oauthSmtpTransport(options: {
  endpoint: { host: string; port: number; maxConnections: number };
  provider: OpenProvider<unknown>;
  env: KindEnvironment;
  tokens: TokenSource;
  explain: (error: ClassifiedError, step: StepName) => string | undefined;
  interpret: (error: ClassifiedError) => ReplyMeaning | undefined;
  /** What an issued token shows to be wrong (e.g. a role without admin consent). */
  tokenProblem: (accessToken: string) => { summary: string; hint: string } | undefined;
}): Transport {
  const { endpoint, provider, tokens } = options;
  return smtpTransport(
    {
      host: endpoint.host,
      port: endpoint.port,
      security: "starttls",
      operatorEndpoint: true,
      auth: { method: "xoauth2", user: provider.senderEmail, tokens },
      maxConnections: endpoint.maxConnections,
    },
    {
      policy: options.env.policy,
      explain: options.explain,
      interpret: options.interpret,
      preflight: () => tokenStep(tokens, options.tokenProblem),
      gate: provider.gate,
      onConnection: provider.onConnection,
    },
  );
}
