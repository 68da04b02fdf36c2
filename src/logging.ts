import pino, { type Logger } from "pino";

/**
 * Structured logs with secrets redacted wherever they might appear in a logged object.
 * Secrets are also never passed to the logger on purpose; this is the net under that rule.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          "password",
          "*.password",
          "clientSecret",
          "*.clientSecret",
          "secretKey",
          "*.secretKey",
          "accessToken",
          "*.accessToken",
          "code",
          "token",
          "req.headers.authorization",
          "req.headers.cookie",
          "req.headers['x-csrf-token']",
          "res.headers['set-cookie']",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
