import pino, { type Logger } from "pino";

/**
 * Errors as pino writes them, without the parameters of a failed statement: Drizzle's message
 * ("Failed query: … params: …") and its `params` would copy request values (addresses, hashes) into the log.
 */
function serializeError(err: Error): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  if (typeof serialized.query !== "string" || !("params" in serialized)) return serialized;
  const { params: _params, ...rest } = serialized;
  return {
    ...rest,
    message: `Failed query: ${serialized.query}`,
    stack: String(rest.stack ?? "")
      .split("\n")
      .filter((line) => line.startsWith("    at "))
      .join("\n"),
  };
}

/**
 * Structured logs with secrets redacted wherever they might appear in a logged object.
 * Secrets are also never passed to the logger on purpose; this is the net under that rule.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      serializers: { err: serializeError },
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
