import { z } from "zod";
import type { OperatorSettings } from "../kind.ts";

const positiveInt = z.coerce.number().int().positive();
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. smtp.office365.com:587");
const httpsBase = (example: string) =>
  z.url({ protocol: /^https$/, error: `must be an https:// URL such as ${example}` });

/** Where Microsoft 365 is for this operator (national clouds, local fakes) and how hard to use it. */
export interface MicrosoftOperatorSettings {
  authorityHost: string;
  smtpHost: string;
  smtpPort: number;
  /** Connections per mailbox across all processes; Exchange allows 3 (room for the mailbox's own clients). */
  maxConnections: number;
  messagesPerMinute: number;
  messagesPerDay: number;
  graphUrl: string;
  /** Graph allows 4 concurrent requests per app and mailbox (https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits). */
  graphMaxConcurrent: number;
}

const schema = z.object({
  POSTERN_MICROSOFT_AUTHORITY_HOST: httpsBase("https://login.microsoftonline.com").default(
    "https://login.microsoftonline.com",
  ),
  POSTERN_MICROSOFT_SMTP: hostPort.default("smtp.office365.com:587"),
  // Exchange allows 3 concurrent connections per mailbox; 2 leaves
  // room for other clients of the same mailbox (https://learn.microsoft.com/exchange/troubleshoot/send-emails/smtp-submission-improvements).
  POSTERN_MICROSOFT_MAX_CONNECTIONS: positiveInt.default(2),
  // Exchange Online's sending limit: 30 messages a minute per mailbox (https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits).
  POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: positiveInt.default(30),
  // And 10,000 recipients a day per mailbox (the same page); a login email has one recipient.
  POSTERN_MICROSOFT_MESSAGES_PER_DAY: positiveInt.default(10_000),
  POSTERN_MICROSOFT_GRAPH_URL: httpsBase("https://graph.microsoft.com").default(
    "https://graph.microsoft.com",
  ),
});

export const microsoftOperatorSettings: OperatorSettings<MicrosoftOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    const [smtpHost, smtpPort] = e.POSTERN_MICROSOFT_SMTP.split(":") as [string, string];
    return {
      authorityHost: e.POSTERN_MICROSOFT_AUTHORITY_HOST.replace(/\/$/, ""),
      smtpHost,
      smtpPort: Number(smtpPort),
      maxConnections: e.POSTERN_MICROSOFT_MAX_CONNECTIONS,
      messagesPerMinute: e.POSTERN_MICROSOFT_MESSAGES_PER_MINUTE,
      messagesPerDay: e.POSTERN_MICROSOFT_MESSAGES_PER_DAY,
      graphUrl: e.POSTERN_MICROSOFT_GRAPH_URL.replace(/\/$/, ""),
      graphMaxConcurrent: 4,
    };
  },
};
