import type { ClassifiedError } from "./smtp-errors.ts";

/** What a developer can do about a failed SMTP step (each failure gets an actionable hint). */
export function smtpHints(error: ClassifiedError): string | undefined {
  const reply = error.smtpReply ?? "";
  if (/5\.7\.30/.test(reply)) {
    return "Microsoft 365 no longer accepts passwords for SMTP. Switch this provider to OAuth (Microsoft) and follow the setup guide.";
  }
  if (error.responseCode === 530 && /STARTTLS/i.test(reply))
    return 'The server requires STARTTLS: choose security "starttls" (usually port 587).';
  switch (error.errorClass) {
    case "auth":
      return error.responseCode !== undefined && error.responseCode !== 535 && /sender/i.test(error.message)
        ? "The server does not let this username send from the sender email. Use a sender the account owns, or let the account send as it on the server (Postfix: smtpd_sender_login_maps; Exchange: Send As)."
        : "The server rejected the username or password (535). Check both, and that SMTP AUTH is enabled for this mailbox.";
    case "tls":
      if (/did not answer in TLS/.test(error.message))
        return 'This port does not speak TLS from the first byte: choose security "starttls" (usually port 587), or "tls" with the server\'s TLS port (usually 465).';
      return /STARTTLS/i.test(error.message)
        ? 'The server does not offer STARTTLS on this port. Use port 465 with security "tls", or a port where the server offers STARTTLS.'
        : "The server's certificate is not trusted or does not match the host name. Use the host name the certificate was issued for; a private CA can be trusted with NODE_EXTRA_CA_CERTS.";
    case "blocked":
      return error.message;
    case "network":
      return "Nothing accepted the connection. Check the host and port, and that the server accepts connections from Postern.";
    case "timeout":
      // Port 465 speaks TLS first and waits for the client's: a client expecting a greeting times out.
      return error.cause?.port === 465
        ? 'The server did not answer in time. Port 465 speaks TLS from the first byte: choose security "tls" for it.'
        : "The server did not answer in time. Check the host and port, and any firewall between Postern and the server.";
    case "recipient":
      return "The server refused the recipient address.";
    case "permanent":
      return "The server refused the message; its reply says why.";
    case "transient":
      return "The server asked to try again later; Postern retries login emails automatically.";
    default:
      return undefined;
  }
}
