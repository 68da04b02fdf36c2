import type { AttemptCause } from "../db/schema.ts";

/**
 * Classifies a failed SMTP send into what the worker should do about it.
 * RFC 5321: 4yz is transient, 5yz permanent; TLS and authentication failures are configuration
 * problems that retrying the same send cannot fix (RFC 5321 §4.2.1, RFC 3463 enhanced codes) — but
 * fixing the provider can, so the email waits for that (see Blame) instead of failing.
 */
export type ErrorClass =
  | "network" // refused, reset, DNS, unreachable: retry
  | "timeout" // retry
  | "tls" // certificate not trusted, name mismatch, STARTTLS missing: configuration
  | "auth" // credentials rejected: configuration
  | "transient" // 4xx reply: retry
  | "permanent" // 5xx reply: fail now
  | "recipient" // the recipient was refused: fail this email only
  | "blocked" // the outbound guard refused the destination: configuration
  | "token" // the OAuth token endpoint refused: configuration
  | "internal";

/**
 * Whom a failure blames, which decides what happens to the email (DESIGN.md, Reliability rules):
 * - recipient: this email was refused (unknown user, mailbox full, policy): it fails at once;
 * - provider: the provider cannot send at all just now (credentials, connection, TLS, a refused
 *   destination, a token): the email waits and retries until its login expires, or moves to the
 *   default sender where the developer allowed it, and the provider is marked failing;
 * - transient: a hiccup (4xx, an unexpected error): the email retries with backoff.
 */
export type Blame = "recipient" | "provider" | "transient";

/** The destination of a failed send, attached to the error by the transport that knows it. */
export interface SmtpEndpoint {
  host: string;
  port: number;
}

export interface ClassifiedError {
  errorClass: ErrorClass;
  blame: Blame;
  /** Whether the same send, unchanged, may succeed later without anyone fixing anything. */
  retryable: boolean;
  /** True when the provider's configuration is at fault: mark it failing instead of hammering it. */
  configProblem: boolean;
  /** The server's reply line, when there was one (never contains our credentials). */
  smtpReply: string | undefined;
  responseCode: number | undefined;
  /** A sentence for the developer; raw socket errors are not echoed. */
  message: string;
  /** Set for failures on the way to the server (network, timeout, TLS, a refused destination). */
  cause?: AttemptCause;
}

interface SmtpLikeError {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  cause?: { code?: string };
  errorClass?: ErrorClass;
  /** Set by the connecting code (src/mail/smtp-target.ts): the configured host, not the resolved address. */
  endpoint?: SmtpEndpoint;
}

const BLAME: Record<ErrorClass, Blame> = {
  network: "provider",
  timeout: "provider",
  tls: "provider",
  auth: "provider",
  blocked: "provider",
  token: "provider",
  transient: "transient",
  internal: "transient",
  recipient: "recipient",
  permanent: "recipient",
};

export const blameOf = (errorClass: ErrorClass): Blame => BLAME[errorClass];

const NETWORK_WORDS: Record<AttemptCause["reason"], string> = {
  refused: "the connection was refused",
  timeout: "the connection timed out",
  dns: "the host name did not resolve",
  reset: "the connection was reset",
  unreachable: "the host is unreachable",
  tls: "the TLS handshake failed",
  blocked: "the destination is not allowed",
  other: "the connection failed",
};

const REASON_BY_CODE: Record<string, AttemptCause["reason"]> = {
  ECONNREFUSED: "refused",
  ETIMEDOUT: "timeout",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EDNS: "dns",
  unresolvable: "dns",
  EHOSTUNREACH: "unreachable",
  ENETUNREACH: "unreachable",
  ECONNRESET: "reset",
  EPIPE: "reset",
  blocked_address: "blocked",
  blocked_port: "blocked",
  invalid_host: "blocked",
};

/** Node's errno codes first; nodemailer wraps some of them in its own words. */
function reasonOf(e: SmtpLikeError): AttemptCause["reason"] | undefined {
  const byCode = REASON_BY_CODE[e.code ?? ""] ?? REASON_BY_CODE[e.cause?.code ?? ""];
  if (byCode) return byCode;
  const text = e.message ?? "";
  if (/getaddrinfo/.test(text)) return "dns";
  if (/socket hang up|closed unexpectedly/i.test(text)) return "reset";
  if (/timeout|timed out/i.test(text)) return "timeout";
  return undefined;
}

/** The cause of a failure on the way to the server; undefined when the server answered (its reply says why). */
function causeOf(e: SmtpLikeError, errorClass: ErrorClass): AttemptCause | undefined {
  if (!["network", "timeout", "tls", "blocked"].includes(errorClass)) return undefined;
  const reason =
    errorClass === "tls" ? "tls" : errorClass === "timeout" ? "timeout" : (reasonOf(e) ?? "other");
  return { ...(e.endpoint ? { host: e.endpoint.host, port: e.endpoint.port } : {}), reason };
}

/** "Could not reach the SMTP server at smtp.acme.com:587: the connection was refused." */
function networkMessage(e: SmtpLikeError, errorClass: "network" | "timeout"): string {
  const cause = causeOf(e, errorClass)!;
  const where = cause.host ? ` at ${cause.host}${cause.port ? `:${cause.port}` : ""}` : "";
  return cause.reason === "timeout"
    ? `The SMTP server${where} did not answer in time (${NETWORK_WORDS.timeout}).`
    : `Could not reach the SMTP server${where}: ${NETWORK_WORDS[cause.reason]}.`;
}

/** Node's and OpenSSL's codes for a TLS handshake or certificate that failed. */
export const TLS_ERROR_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_NOT_YET_VALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

function isTlsFailure(e: SmtpLikeError): boolean {
  if (e.code === "ETLS") return true;
  if (TLS_ERROR_CODES.has(e.code ?? "") || TLS_ERROR_CODES.has(e.cause?.code ?? "")) return true;
  return /certificate|self[- ]signed|altnames|wrong version number|STARTTLS/i.test(e.message ?? "");
}

export function classifySmtpError(err: unknown): ClassifiedError {
  const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as SmtpLikeError;
  const classified = classifyReply(e);
  const cause = causeOf(e, classified.errorClass);
  return cause ? { ...classified, cause } : classified;
}

/** A classified failure: the blame, whether to retry and whether the configuration is at fault follow from the class. */
export function classified(
  errorClass: ErrorClass,
  message: string,
  smtpReply?: string,
  responseCode?: number,
): ClassifiedError {
  const blame = blameOf(errorClass);
  const retryable = blame === "transient" || errorClass === "network" || errorClass === "timeout";
  return {
    errorClass,
    blame,
    retryable,
    configProblem: blame === "provider" && !retryable,
    smtpReply,
    responseCode,
    message,
  };
}

// Exchange: "550 5.7.60 SMTP; Client does not have permissions to send as this sender".
const SENDER_REFUSED = /Sender address rejected|not owned by user|\b5\.1\.[78]\b|\b5\.7\.60\b/i;

const NETWORK_CODES = new Set([
  "ECONNECTION",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

function classifyReply(e: SmtpLikeError): ClassifiedError {
  const reply = e.response?.trim();
  const code = e.responseCode;
  const as = (errorClass: ErrorClass, message: string) => classified(errorClass, message, reply, code);

  if (e.errorClass) {
    // Socket errors carry resolved addresses and errno text (a port-scan oracle: https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html): name the configured host,
    // the port and what happened in words instead. The outbound guard has already refused private
    // destinations, so this says nothing about internal networks.
    if (e.errorClass === "network" || e.errorClass === "timeout") {
      return as(e.errorClass, networkMessage(e, e.errorClass));
    }
    return as(e.errorClass, e.message ?? "Send failed.");
  }
  if (code === 550 && /5\.7\.30/.test(reply ?? "")) {
    return as(
      "auth",
      "Microsoft 365 has retired basic authentication for SMTP: use the OAuth (Microsoft) provider instead.",
    );
  }
  if (e.code === "EAUTH" || e.code === "ENOAUTH" || e.command?.startsWith("AUTH")) {
    return code !== undefined && code >= 400 && code < 500
      ? as("transient", "The server could not check the credentials just now.")
      : as("auth", "The SMTP server rejected the credentials.");
  }
  // Exchange Online: "530 5.7.57 Client not authenticated to send mail" — the session never
  // authenticated (https://learn.microsoft.com/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365).
  if (code === 530 && /5\.7\.57/.test(reply ?? "")) {
    return as("auth", "The SMTP server requires authentication before it accepts email (530 5.7.57).");
  }
  if (code === 530 && /STARTTLS/i.test(reply ?? "")) {
    return as("tls", "The server requires STARTTLS before anything else.");
  }
  if (isTlsFailure(e)) {
    const missing = /STARTTLS/i.test(e.message ?? "") && !/certificate/i.test(e.message ?? "");
    // OpenSSL's "wrong version number": what answered was not TLS, usually a STARTTLS port (587).
    const notTls =
      [e.code, e.cause?.code].includes("ERR_SSL_WRONG_VERSION_NUMBER") ||
      /wrong version number/i.test(e.message ?? "");
    return as(
      "tls",
      missing
        ? "The server does not offer STARTTLS, and Postern does not send login emails unencrypted."
        : notTls
          ? "The server did not answer in TLS on this port: it expects STARTTLS, or no TLS at all."
          : "The server's TLS certificate is not trusted or does not match the host name.",
    );
  }
  // A refused sender is the provider's configuration, not this recipient's: Postfix's
  // reject_sender_login_mismatch answers at RCPT TO ("553 5.7.1 <login@acme.example>: Sender address
  // rejected: not owned by user acme", https://www.postfix.org/postconf.5.html#reject_sender_login_mismatch),
  // and RFC 3463 X.1.7 / X.1.8 name the sender's address.
  if (code !== undefined && code >= 500 && SENDER_REFUSED.test(reply ?? "")) {
    return as("auth", "The SMTP server does not let this account send from the sender address.");
  }
  if (code !== undefined && e.command === "RCPT TO" && code >= 500) {
    return as("recipient", "The server refused the recipient address.");
  }
  if (code !== undefined && code >= 400 && code < 500)
    return as("transient", "The server asked to try again later.");
  if (code !== undefined && code >= 500) return as("permanent", "The server refused the email.");
  if (e.code === "ETIMEDOUT" || /timeout|timed out/i.test(e.message ?? "")) {
    return as("timeout", networkMessage(e, "timeout"));
  }
  if (e.code && NETWORK_CODES.has(e.code)) return as("network", networkMessage(e, "network"));
  return as("internal", "The email could not be sent.");
}
