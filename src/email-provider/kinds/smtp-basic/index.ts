import { z } from "zod";
import { smtpHints } from "../../../mail/smtp-hints.ts";
import { smtpTransport } from "../../../mail/smtp-transport.ts";
import { checkOutboundTarget, OutboundBlockedError } from "../../../security/outbound-guard.ts";
import { commonFields } from "../../model.ts";
import type { FormField } from "../form.ts";
import type { ProviderKind } from "../kind.ts";

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
export type SmtpBasicBody = z.infer<typeof smtpBasicBody>;

export interface SmtpBasicSettings {
  host: string;
  port: number;
  security: "starttls" | "tls" | "none";
  username: string;
}

const viewSchema = z.object({
  host: z.string(),
  port: z.number(),
  security: z.enum(["starttls", "tls", "none"]),
  username: z.string(),
  passwordSet: z.boolean(),
});

const fields: FormField[] = [
  {
    name: "host",
    label: "SMTP host",
    input: "text",
    required: true,
    placeholder: "smtp.example.com",
    autocomplete: "off",
    destination: true,
    lowercase: true,
  },
  {
    name: "security",
    label: "Security",
    input: "select",
    required: true,
    default: "starttls",
    destination: true,
    options: [
      { value: "starttls", label: "STARTTLS (usually port 587)" },
      { value: "tls", label: "Implicit TLS (usually port 465)" },
      { value: "none", label: "None (allowlisted relays only)" },
    ],
  },
  { name: "port", label: "Port", input: "number", required: true, placeholder: "587", destination: true },
  {
    name: "username",
    label: "Username",
    input: "text",
    required: true,
    autocomplete: "off",
    destination: true,
  },
  {
    name: "password",
    label: "Password",
    input: "password",
    secret: true,
    required: true,
    autocomplete: "new-password",
    setFlag: "passwordSet",
    help: "Write-only: Postern seals it and never shows it again.",
  },
];

const normalHost = (host: string) => host.toLowerCase().replace(/\.$/, "");

export const smtpBasic: ProviderKind<SmtpBasicBody, SmtpBasicSettings> = {
  id: "smtp_basic",
  match: { type: "smtp_basic" },
  bodySchema: smtpBasicBody,
  viewSchema,
  form: {
    label: "Basic Auth",
    description: "Any SMTP server that accepts a username and password, over STARTTLS or implicit TLS.",
    fields,
  },
  secretFields: ["password"],
  requiredSecrets: () => ["password"],
  settingsOf: (body) => ({
    host: normalHost(body.host),
    port: body.port,
    security: body.security,
    username: body.username,
  }),
  secretsOf: (body) => ({ password: body.password }),
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
  open: (provider, env) =>
    smtpTransport(
      {
        host: provider.settings.host,
        port: provider.settings.port,
        security: provider.settings.security,
        auth: { method: "password", user: provider.settings.username, pass: provider.secrets.password! },
        maxConnections: 3,
      },
      {
        policy: env.policy,
        explain: (error) => smtpHints(error),
        gate: provider.gate,
        onConnection: provider.onConnection,
      },
    ),
  explain: (error) => smtpHints(error),
};
