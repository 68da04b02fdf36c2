import { z } from "zod";
import type { OperatorSettings } from "../kind.ts";

const positiveInt = z.coerce.number().int().positive();
const hostPort = z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port, e.g. smtp.gmail.com:587");

/** Where Google is for this operator (a proxy, the local fakes) and how hard to use it. */
export interface GoogleOperatorSettings {
  tokenUrl: string;
  smtpHost: string;
  smtpPort: number;
  /** Connections per sender mailbox across all processes. */
  maxConnections: number;
  messagesPerMinute: number;
  messagesPerDay: number;
}

const schema = z.object({
  POSTERN_GOOGLE_TOKEN_URL: z
    .url({
      protocol: /^https$/,
      error: "must be an https:// URL such as https://oauth2.googleapis.com/token",
    })
    .default("https://oauth2.googleapis.com/token"),
  // Gmail's submission endpoint for Workspace users (https://support.google.com/a/answer/176600).
  POSTERN_GOOGLE_SMTP: hostPort.default("smtp.gmail.com:587"),
  // Google publishes no connection limit for smtp.gmail.com; every new connection is a login, and too
  // many logins get 454 4.7.0 (https://support.google.com/mail/answer/7126229). Two pooled connections
  // per mailbox log in rarely.
  POSTERN_GOOGLE_MAX_CONNECTIONS: positiveInt.default(2),
  // Google's limit is 2,000 messages a day per user (https://support.google.com/a/answer/166852), with
  // no per-minute figure; 60 a minute lets a burst of logins out at once while a runaway takes over half
  // an hour to use up the day.
  POSTERN_GOOGLE_MESSAGES_PER_MINUTE: positiveInt.default(60),
  // The 2,000 a day itself, held per mailbox across processes; lower it when other clients send as the mailbox too.
  POSTERN_GOOGLE_MESSAGES_PER_DAY: positiveInt.default(2_000),
});

export const googleOperatorSettings: OperatorSettings<GoogleOperatorSettings> = {
  schema,
  read(env) {
    const e = env as z.infer<typeof schema>;
    const [smtpHost, smtpPort] = e.POSTERN_GOOGLE_SMTP.split(":") as [string, string];
    return {
      tokenUrl: e.POSTERN_GOOGLE_TOKEN_URL,
      smtpHost,
      smtpPort: Number(smtpPort),
      maxConnections: e.POSTERN_GOOGLE_MAX_CONNECTIONS,
      messagesPerMinute: e.POSTERN_GOOGLE_MESSAGES_PER_MINUTE,
      messagesPerDay: e.POSTERN_GOOGLE_MESSAGES_PER_DAY,
    };
  },
};
