// The Basic Auth provider every suite sends through: a local SMTP server and the provider that points at it.
import type { SmtpDestination } from "./senders.ts";
import type { World } from "./world.ts";

const USERNAME = "bench";
const PASSWORD = "bench-Passw0rd!";

/**
 * Postern's pool for one Basic Auth provider: maxConnections from src/email-provider/kinds/smtp-basic.ts,
 * maxMessages from openSmtpPool in src/mail/smtp-target.ts. The floor uses the same, so the ratio
 * measures Postern's own overhead and not a difference in pooling. Keep in step with those files.
 */
export const POSTERN_POOL = { maxConnections: 3, maxMessages: 1_000 };

/**
 * A new SMTP server in the world process, as a submission server greets: STARTTLS required, AUTH PLAIN
 * or LOGIN, the test CA's certificate for localhost, and smtp-server's ~100 ms greeting delay.
 */
export async function startBasicAuthServer(world: World): Promise<SmtpDestination> {
  const { port } = await world.call("startSmtp", {
    security: "starttls",
    users: { [USERNAME]: PASSWORD },
    authMethods: ["PLAIN", "LOGIN"],
  });
  return {
    host: "localhost",
    port,
    username: USERNAME,
    password: PASSWORD,
    senderEmail: "login@bench.example",
    senderName: "Bench Login",
  };
}

/** The PUT /api/apps/{id}/email-provider body for a Basic Auth provider on `to`. */
export function basicAuthProvider(
  to: SmtpDestination,
  sender = { email: to.senderEmail, name: to.senderName },
) {
  return {
    type: "smtp_basic",
    senderEmail: sender.email,
    senderName: sender.name,
    host: to.host,
    port: to.port,
    security: "starttls",
    username: to.username,
    password: to.password,
  };
}

/** The operator's default sender on `to`, as POSTERN_DEFAULT_SMTP_URL (STARTTLS required by default). */
export function defaultSmtpUrl(to: SmtpDestination): string {
  return `smtp://${encodeURIComponent(to.username)}:${encodeURIComponent(to.password)}@${to.host}:${to.port}`;
}
