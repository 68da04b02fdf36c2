// Exchange Online client-submission reply texts (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
// [OBS] = seen verbatim in posted transcripts; [INF] = our guess where no transcript was found.

export interface ReplyHosts {
  /** Front-end name in the greeting and EHLO, e.g. "PN4P287CA0064.outlook.office365.com". */
  hostname: string;
  /** Host in "[<host> <ISO ts> <session>]" trailers, e.g. "PN4P287CA0064.INDP287.PROD.OUTLOOK.COM". */
  diagnosticHost: string;
  /** Mailbox server in "[Hostname=...]" trailers of STOREDRV replies. */
  mailboxServer: string;
}

/** RFC 1123 date with a numeric zone, as in "Sat, 26 Apr 2025 18:08:13 +0000" [OBS]. */
const rfc1123 = (date: Date): string => date.toUTCString().replace("GMT", "+0000");

export function exchangeReplies(hosts: ReplyHosts, sessionId: string) {
  // Since ~2023 most errors end with "[<host> <ISO8601 ms> <16-hex session>]" [OBS].
  const trailer = (): string => `[${hosts.diagnosticHost} ${new Date().toISOString()} ${sessionId}]`;
  const storeTrailer = `[Hostname=${hosts.mailboxServer}]`;
  const capabilities = (secure: boolean): string[] => [
    "SIZE 157286400",
    "PIPELINING",
    "DSN",
    "ENHANCEDSTATUSCODES",
    // AUTH only after STARTTLS, and only LOGIN and XOAUTH2 [OBS: git-send-email, PHPMailer #3035, MailKit #1770].
    secure ? "AUTH LOGIN XOAUTH2" : "STARTTLS",
    "8BITMIME",
    "BINARYMIME",
    "CHUNKING",
    "SMTPUTF8",
  ];
  return {
    greeting: () =>
      `220 ${hosts.hostname} Microsoft ESMTP MAIL Service ready at ${rfc1123(new Date())} [${sessionId}]`,
    ehlo(clientIp: string, secure: boolean): string {
      const lines = [`${hosts.hostname} Hello [${clientIp}]`, ...capabilities(secure)];
      return lines.map((line, i) => `250${i === lines.length - 1 ? " " : "-"}${line}`).join("\r\n");
    },
    helo: (clientIp: string) => `250 ${hosts.hostname} Hello [${clientIp}]`,
    invalidDomain: () => `501 5.5.4 Invalid domain name ${trailer()}`,
    startTls: "220 2.0.0 SMTP server ready",
    unrecognizedAuth: "504 5.7.4 Unrecognized authentication type",
    authContinue: "334 ",
    loginUsername: "334 VXNlcm5hbWU6",
    loginPassword: "334 UGFzc3dvcmQ6",
    authOk: "235 2.7.0 Authentication successful",
    authFailed: () => `535 5.7.3 Authentication unsuccessful ${trailer()}`,
    smtpAuthDisabled: (scope: "Tenant" | "Mailbox") =>
      `535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the ${scope}. Visit https://aka.ms/smtp_auth_disabled for more information. ${trailer()}`,
    // Basic auth (AUTH LOGIN) is being retired; Microsoft's current wording [OBS].
    basicAuthDisabled: () =>
      `535 5.7.139 Authentication unsuccessful, basic authentication is disabled. ${trailer()}`,
    notAuthenticated: () => `530 5.7.57 Client not authenticated to send mail. ${trailer()}`,
    senderOk: "250 2.1.0 Sender OK",
    recipientOk: "250 2.1.5 Recipient OK",
    startData: "354 Start mail input; end with <CRLF>.<CRLF>",
    // Microsoft does not document the text after "OK"; this is what clients log.
    queued: (messageId: string) => `250 2.0.0 OK ${messageId} ${storeTrailer}`,
    sendAsDenied: (user: string, from: string) =>
      `554 5.2.252 SendAsDenied; ${user} not allowed to send as ${from}; STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[EndDiagnosticData] ${storeTrailer}`,
    mailboxLogonFailure: () =>
      `430 4.2.0 STOREDRV; mailbox logon failure; STOREDRV.Submission.Exception:ConnectionFailedTransientException.MapiExceptionLogonFailed; Failed to process message due to a transient exception with message [BeginDiagnosticData]Cannot open mailbox.[EndDiagnosticData] ${storeTrailer}`,
    // Seen at end of DATA with a [Hostname=...] trailer (nodemailer "Message failed: 432 ...", 2018-2020).
    threadLimit: () => `432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded ${storeTrailer}`,
    submissionQuota: () =>
      `554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Message submission quota exceeded[EndDiagnosticData] ${storeTrailer}`,
    quit: "221 2.0.0 Service closing transmission channel",
    // [INF] below: plausible Exchange texts, not seen in transcripts.
    sendHelloFirst: () => `503 5.5.2 Send hello first ${trailer()}`,
    badSequence: (what: string) => `503 5.5.1 Bad sequence of commands; ${what} ${trailer()}`,
    syntaxError: () => `501 5.5.4 Invalid arguments ${trailer()}`,
    unrecognized: () => `500 5.3.3 Unrecognized command ${trailer()}`,
    authAborted: () => `501 5.0.0 Authentication aborted ${trailer()}`,
    lineTooLong: () => `500 5.5.6 Line too long ${trailer()}`,
    ok: "250 2.0.0 OK",
    reset: "250 2.0.0 Resetting",
  };
}

export type ExchangeReplies = ReturnType<typeof exchangeReplies>;
