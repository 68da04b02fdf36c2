import { describe, expect, it } from "vitest";
import { classifySmtpError, type ErrorClass } from "../../src/mail/smtp-errors.ts";
import { smtpHints } from "../../src/mail/smtp-hints.ts";

/**
 * What the worker is told about each failure a real server or socket gives: whether to retry, and
 * whether the provider's configuration is at fault (so it is marked failing instead of hammered).
 * The replies are as Exchange Online, Gmail and Postfix send them; the errors as Node and nodemailer
 * raise them (nodemailer keeps the socket's errno as `code`, and names the SMTP command it was in).
 */
const endpoint = { host: "smtp.example.net", port: 587 };
const reply = (command: string, response: string, code = "EENVELOPE") => ({
  code,
  command,
  response,
  responseCode: Number(response.slice(0, 3)),
  message: `Command failed: ${response}`,
});

const cases: {
  what: string;
  error: object;
  errorClass: ErrorClass;
  retryable: boolean;
  config: boolean;
  reason?: string;
}[] = [
  // On the way to the server: the network is at fault, and may not be next time.
  {
    what: "connection refused",
    error: { code: "ECONNREFUSED", message: "connect ECONNREFUSED 10.0.0.5:587", endpoint },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "refused",
  },
  {
    what: "connect timed out",
    error: { code: "ETIMEDOUT", message: "connect ETIMEDOUT 10.0.0.5:587", endpoint },
    errorClass: "timeout",
    retryable: true,
    config: false,
    reason: "timeout",
  },
  {
    what: "greeting never came",
    error: { code: "ETIMEDOUT", message: "Greeting never received" },
    errorClass: "timeout",
    retryable: true,
    config: false,
    reason: "timeout",
  },
  {
    what: "no such host",
    error: { code: "ENOTFOUND", message: "getaddrinfo ENOTFOUND smtp.nowhere.example", endpoint },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "dns",
  },
  {
    what: "connection reset",
    error: { code: "ECONNRESET", message: "read ECONNRESET" },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "reset",
  },
  {
    what: "DNS lookup failed for now",
    error: { code: "EAI_AGAIN", message: "getaddrinfo EAI_AGAIN smtp.example.com" },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "dns",
  },
  {
    what: "network unreachable",
    error: { code: "ENETUNREACH", message: "connect ENETUNREACH" },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "unreachable",
  },
  {
    what: "broken pipe",
    error: { code: "EPIPE", message: "write EPIPE" },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "reset",
  },
  {
    what: "host unreachable",
    error: { code: "EHOSTUNREACH", message: "connect EHOSTUNREACH" },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "unreachable",
  },
  {
    what: "nodemailer's socket error",
    error: { code: "ESOCKET", message: "socket closed", cause: { code: "ECONNRESET" } },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "reset",
  },
  {
    what: "a transport's own network class",
    error: {
      errorClass: "network",
      code: "ECONNREFUSED",
      message: "connect ECONNREFUSED 10.0.0.5:587 (internal address)",
    },
    errorClass: "network",
    retryable: true,
    config: false,
    reason: "refused",
  },
  {
    what: "the outbound guard refused the address",
    error: { errorClass: "blocked", code: "blocked_address", message: "10.0.0.5 is a private address" },
    errorClass: "blocked",
    retryable: false,
    config: true,
    reason: "blocked",
  },
  // TLS: retrying cannot fix a certificate or a missing STARTTLS.
  {
    what: "self-signed certificate",
    error: { code: "DEPTH_ZERO_SELF_SIGNED_CERT", message: "self-signed certificate" },
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  {
    what: "certificate for another name",
    error: {
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
      message: "Hostname/IP does not match certificate's altnames",
    },
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  {
    what: "expired certificate",
    error: { code: "ESOCKET", message: "certificate has expired", cause: { code: "CERT_HAS_EXPIRED" } },
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  {
    what: "TLS on a plain port",
    error: { code: "ESOCKET", message: "ssl3_get_record:wrong version number" },
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  {
    what: "no STARTTLS offered",
    error: { code: "ETLS", message: "Server does not support STARTTLS" },
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  {
    what: "Postfix 530 5.7.0 STARTTLS first",
    error: reply("MAIL FROM", "530 5.7.0 Must issue a STARTTLS command first"),
    errorClass: "tls",
    retryable: false,
    config: true,
    reason: "tls",
  },
  // Authentication.
  {
    what: "Gmail 535 5.7.8 bad credentials",
    error: reply(
      "AUTH PLAIN",
      "535-5.7.8 Username and Password not accepted. For more information, go to https://support.google.com/mail/?p=BadCredentials",
      "EAUTH",
    ),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  {
    what: "Exchange 535 5.7.139 SMTP AUTH disabled",
    error: reply(
      "AUTH LOGIN",
      "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
      "EAUTH",
    ),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  {
    what: "Exchange 530 5.7.57 client not authenticated",
    error: reply(
      "MAIL FROM",
      "530 5.7.57 Client not authenticated to send mail. [AM0PR01CA0001]",
      "EENVELOPE",
    ),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  {
    what: "Exchange 550 5.7.30 basic auth retired",
    error: reply(
      "AUTH LOGIN",
      "550 5.7.30 Basic authentication is not supported for Client Submission.",
      "EAUTH",
    ),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  {
    what: "454 4.7.0 temporary authentication failure",
    error: reply("AUTH PLAIN", "454 4.7.0 Temporary authentication failure", "EAUTH"),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "432 4.7.12 password transition needed",
    error: reply("AUTH PLAIN", "432 4.7.12 A password transition is needed", "EAUTH"),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "server offers no AUTH",
    error: { code: "ENOAUTH", message: 'Missing credentials for "PLAIN"' },
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  // 4yz: the server asks to come back (RFC 5321 section 4.2.1).
  {
    what: "421 4.7.0 too many connections",
    error: reply(
      "CONN",
      "421 4.7.0 smtp.example.net Error: too many connections from 203.0.113.9",
      "EPROTOCOL",
    ),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "Gmail 450 4.2.1 receiving too quickly",
    error: reply("RCPT TO", "450-4.2.1 The user you are trying to contact is receiving mail too quickly."),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "Exchange 451 4.7.500 server busy",
    error: reply("MAIL FROM", "451 4.7.500 Server busy. Please try again later from [203.0.113.9]."),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "Postfix 452 4.5.3 too many recipients",
    error: reply("RCPT TO", "452 4.5.3 Error: too many recipients"),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  {
    what: "451 4.3.0 during DATA",
    error: reply("DATA", "451 4.3.0 Error: queue file write error", "EMESSAGE"),
    errorClass: "transient",
    retryable: true,
    config: false,
  },
  // A refused sender is the provider's configuration, wherever the server says it (Postfix with
  // reject_sender_login_mismatch and smtpd_delay_reject=yes answers at RCPT TO).
  {
    what: "Postfix 553 5.7.1 sender not owned, at RCPT TO",
    error: reply(
      "RCPT TO",
      "553 5.7.1 <login@acme.example>: Sender address rejected: not owned by user acme",
    ),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  {
    what: "553 5.1.8 bad sender's system address, at MAIL FROM",
    error: reply("MAIL FROM", "553 5.1.8 <login@acme.example>: Sender address rejected: Domain not found"),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  // 5yz at RCPT: this recipient only; elsewhere: this email.
  {
    what: "550 5.1.1 no such user",
    error: reply(
      "RCPT TO",
      "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table",
    ),
    errorClass: "recipient",
    retryable: false,
    config: false,
  },
  {
    what: "Gmail 552 5.2.2 mailbox full",
    error: reply("RCPT TO", "552-5.2.2 The recipient's inbox is out of storage space."),
    errorClass: "recipient",
    retryable: false,
    config: false,
  },
  {
    what: "552 5.3.4 message too big",
    error: reply("DATA", "552 5.3.4 Message size exceeds fixed limit", "EMESSAGE"),
    errorClass: "permanent",
    retryable: false,
    config: false,
  },
  {
    what: "554 5.7.1 rejected as spam",
    error: reply("DATA", "554 5.7.1 Message rejected: spam content", "EMESSAGE"),
    errorClass: "permanent",
    retryable: false,
    config: false,
  },
  {
    what: "Exchange 550 5.7.60 not allowed to send as",
    error: reply("MAIL FROM", "550 5.7.60 SMTP; Client does not have permissions to send as this sender"),
    errorClass: "auth",
    retryable: false,
    config: true,
  },
  // Something that is not an SMTP failure at all.
  {
    what: "a thrown string",
    error: new Error("boom"),
    errorClass: "internal",
    retryable: true,
    config: false,
  },
];

describe("classifying SMTP failures", () => {
  it.each(cases)("$what → $errorClass", ({ error, errorClass, retryable, config, reason }) => {
    const classified = classifySmtpError(error);
    expect(classified).toMatchObject({ errorClass, retryable, configProblem: config });
    expect(classified.cause?.reason).toBe(reason);
    expect(classified.message).toEqual(expect.any(String));
  });

  it("keeps the server's reply and code, and never echoes a socket's address", () => {
    const refused = classifySmtpError({
      code: "ECONNREFUSED",
      message: "connect ECONNREFUSED 10.0.0.5:587",
      endpoint,
    });
    expect(refused.message).not.toContain("10.0.0.5");
    expect(refused.cause).toEqual({ host: "smtp.example.net", port: 587, reason: "refused" });
    const busy = classifySmtpError(reply("MAIL FROM", "451 4.7.500 Server busy. "));
    expect(busy).toMatchObject({ smtpReply: "451 4.7.500 Server busy.", responseCode: 451 });
    expect(busy.cause).toBeUndefined();
  });

  it("tells a refused sender from a refused password, and a STARTTLS port from a certificate problem", () => {
    const sender = classifySmtpError(
      reply("RCPT TO", "553 5.7.1 <login@acme.example>: Sender address rejected: not owned by user acme"),
    );
    expect(smtpHints(sender)).toMatch(/does not let this username send from the sender email/);
    const password = classifySmtpError({
      code: "EAUTH",
      command: "AUTH PLAIN",
      responseCode: 535,
      response: "535 5.7.8 Error: authentication failed: (reason unavailable)",
    });
    expect(smtpHints(password)).toMatch(/rejected the username or password/);
    const notTls = classifySmtpError({
      code: "ESOCKET",
      message: "ssl3_get_record:wrong version number",
      cause: { code: "ERR_SSL_WRONG_VERSION_NUMBER" },
    });
    expect(smtpHints(notTls)).toMatch(/choose security "starttls"/);
    const silent465 = classifySmtpError({
      code: "ETIMEDOUT",
      message: "Greeting never received",
      endpoint: { host: "smtp.example.net", port: 465 },
    });
    expect(smtpHints(silent465)).toMatch(/Port 465 speaks TLS from the first byte/);
  });

  it("classifies a non-error value without throwing", () => {
    expect(classifySmtpError("just a string").errorClass).toBe("internal");
    expect(classifySmtpError(undefined).errorClass).toBe("internal");
  });
});
