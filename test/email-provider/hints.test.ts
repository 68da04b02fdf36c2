import { describe, expect, it } from "vitest";
import { classifySmtpError } from "../../src/mail/smtp-errors.ts";
import { smtpHints } from "../../src/mail/smtp-hints.ts";

// nodemailer's error objects as it builds them (code, responseCode, response, command).
const smtpError = (code: string, responseCode: number, response: string, command: string) =>
  Object.assign(new Error(`${command} failed: ${response}`), { code, responseCode, response, command });

describe("what a developer is told about an SMTP failure", () => {
  it("says Microsoft retired basic authentication on 550 5.7.30", () => {
    const error = classifySmtpError(
      smtpError(
        "EAUTH",
        550,
        "550 5.7.30 Basic authentication is not supported for Client Submission.",
        "AUTH PLAIN",
      ),
    );
    expect(error).toMatchObject({ errorClass: "auth", retryable: false, configProblem: true });
    expect(smtpHints(error)).toMatch(/OAuth \(Microsoft\)/);
  });

  it("says the server requires STARTTLS on 530", () => {
    const error = classifySmtpError(
      smtpError("EENVELOPE", 530, "530 5.7.0 Must issue a STARTTLS command first", "MAIL FROM"),
    );
    expect(smtpHints(error)).toMatch(/requires STARTTLS/);
  });

  it("never echoes raw socket errors", () => {
    const error = classifySmtpError(
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.7:25"), {
        code: "ECONNECTION",
        errorClass: "network",
      }),
    );
    expect(error.message).not.toMatch(/ECONNREFUSED|10\.0\.0\.7/);
    expect(error.retryable).toBe(true);
  });
});
