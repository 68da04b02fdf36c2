import { z } from "zod";
import { checkOutboundTarget, OutboundBlockedError } from "../../security/outbound-guard.ts";
import { commonFields } from "../model.ts";
import { smtpHints } from "./hints.ts";
import type { ProviderKind } from "./kind.ts";

/** A hostname or IP literal: no scheme, no path, no port. */
const hostSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(253, "must be at most 253 characters")
  .regex(
    /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9a-fA-F:.]+)$/,
    "must be a host name or IP address, without scheme, path or port",
  );

export const smtpBasicBody = z.strictObject({
  type: z.literal("smtp_basic"),
  ...commonFields,
  host: hostSchema,
  port: z.number().int("must be a whole number").min(1, "must be 1–65535").max(65535, "must be 1–65535"),
  security: z.enum(["starttls", "tls", "none"]),
  username: z
    .string()
    .min(1, "must not be empty")
    .max(256, "must be at most 256 characters")
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters"),
  password: z
    .string()
    .min(1, "must not be empty")
    .max(1024, "must be at most 1024 characters")
    .regex(/^[^\r\n\0]*$/, "must not contain line breaks or NUL")
    .optional(),
});
type Body = z.infer<typeof smtpBasicBody>;

export interface SmtpBasicSettings {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  username: string;
}

const normalHost = (host: string) => host.toLowerCase().replace(/\.$/, "");

export const smtpBasic: ProviderKind<Body, SmtpBasicSettings> = {
  type: "smtp_basic",
  bodySchema: smtpBasicBody,
  secretField: "password",
  settingsOf: (body) => ({
    host: normalHost(body.host),
    port: body.port,
    security: body.security,
    username: body.username,
  }),
  secretOf: (body) => body.password,
  destinationChanged: (before, after) =>
    before.host !== after.host ||
    before.port !== after.port ||
    before.security !== after.security ||
    before.username !== after.username,
  auditedFields: ["host", "port", "security", "username"],
  async validate(settings, env) {
    if (settings.host === undefined) return [];
    // An invalid port is reported by the schema; the host is still checked in the same pass (with the
    // submission port standing in), so a private host does not wait for a second save to be named.
    const hostOnly = settings.port === undefined;
    try {
      const checked = await checkOutboundTarget(normalHost(settings.host), settings.port ?? 587, env.policy);
      if (hostOnly) return [];
      if (settings.security === "none" && !checked.allowlisted)
        return [
          {
            field: "security",
            code: "plaintext_not_allowed",
            message:
              "Unencrypted SMTP is only allowed for relays on the operator's allowlist; use starttls or tls.",
          },
        ];
      return [];
    } catch (err) {
      if (err instanceof OutboundBlockedError) {
        if (hostOnly && err.code === "blocked_port") return [];
        return [
          { field: err.code === "blocked_port" ? "port" : "host", code: err.code, message: err.message },
        ];
      }
      throw err;
    }
  },
  view: (s) => ({
    host: s.host,
    port: s.port,
    security: s.security,
    username: s.username,
    passwordSet: true,
  }),
  smtpTarget: (s, secret) => ({
    host: s.host,
    port: s.port,
    security: s.security,
    auth: { method: "password", user: s.username, pass: secret },
    maxConnections: 3,
  }),
  explain: (error) => smtpHints(error),
};
