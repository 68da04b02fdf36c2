// The Microsoft 365 provider the oauth suite sends through: the identity and Exchange fakes (in the
// world process), Postern's settings for them, and a token fetched the way any client would.
import { CLIENT_ID, CLIENT_SECRET, TENANT_ID } from "../../test/support/microsoft.ts";
import type { World } from "./world.ts";
import type { MicrosoftStats, MicrosoftWorld } from "./world-protocol.ts";

/** Exchange Online's own per-mailbox limits (https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements), which the Exchange fake defaults to. */
export const EXCHANGE_LIMITS = { concurrentConnectionsPerMailbox: 3, messagesPerMinute: 30 };

/**
 * Postern's XOAUTH2 pool: messages per connection from openSmtpPool in src/mail/smtp-target.ts (a
 * reconnect also renews the token). The floor uses the same. Keep in step with that file.
 */
export const XOAUTH2_MESSAGES_PER_CONNECTION = 100;

/** Postern's per-mailbox limits for Microsoft senders (its defaults: 2 connections, 30 a minute). */
export function microsoftLimitsEnv(limits: {
  maxConnections: number;
  messagesPerMinute: number;
}): Record<string, string> {
  return {
    POSTERN_MICROSOFT_MAX_CONNECTIONS: String(limits.maxConnections),
    POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(limits.messagesPerMinute),
  };
}

/** One client-credentials token from the identity fake, as a raw client would fetch it before sending. */
export async function fetchAccessToken(
  identityPort: number,
  scope = "https://outlook.office365.com/.default",
): Promise<string> {
  const res = await fetch(`https://localhost:${identityPort}/${TENANT_ID}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      scope,
    }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!res.ok || !body.access_token) {
    throw new Error(`token request: HTTP ${res.status} ${body.error_description ?? ""}`);
  }
  return body.access_token;
}

/** postern_oauth_token_requests_total{provider="microsoft",outcome="issued"} from Postern's /metrics. */
export async function issuedTokensMetric(url: string): Promise<number> {
  return issuedTokensIn(await (await fetch(`${url}/metrics`)).text());
}

/** The same counter in a /metrics text already read. */
export function issuedTokensIn(text: string): number {
  for (const line of text.split("\n")) {
    const sample = /^postern_oauth_token_requests_total\{([^}]*)\}\s+(\S+)$/.exec(line);
    if (!sample) continue;
    const labels = sample[1]!;
    if (labels.includes('provider="microsoft"') && labels.includes('outcome="issued"'))
      return Number(sample[2]);
  }
  return 0;
}

/** What the fakes counted between two microsoftStats calls. */
export interface RunStats {
  connections: number;
  peakConnectionsPerMailbox: number;
  concurrencyViolations: number;
  rateViolations: number;
  tokenRequests: number;
}

export function between(before: MicrosoftStats, after: MicrosoftStats): RunStats {
  return {
    connections: after.connections - before.connections,
    peakConnectionsPerMailbox: after.peakConnectionsPerMailbox,
    concurrencyViolations: after.violations.concurrency - before.violations.concurrency,
    rateViolations: after.violations.rate - before.violations.rate,
    tokenRequests: after.tokenRequests - before.tokenRequests,
  };
}

/** What the fakes have counted so far (and the mailbox's peak connections since the last call). */
export const statsOf = (world: World, fakes: MicrosoftWorld) =>
  world.call("microsoftStats", { exchangePort: fakes.exchangePort });
