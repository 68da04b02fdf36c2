// The Google fakes wired together: a Workspace domain whose service account is delegated Gmail for a
// sender mailbox, and the Postern settings that point at them. Needs NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import {
  GMAIL_SCOPE,
  type GmailLimits,
  type GmailSmtpFake,
  startGmailSmtpFake,
} from "../fakes/gmail-smtp.ts";
import { type GoogleTokenFake, startGoogleTokenFake } from "../fakes/google-token.ts";
import type { FakeServiceAccount, ServiceAccountKeyFile } from "../fakes/google-workspace.ts";

export const DOMAIN = "acme-workspace.example";
export const MAILBOX = `login@${DOMAIN}`;

export interface GoogleFakes {
  google: GoogleTokenFake;
  gmail: GmailSmtpFake;
  account: FakeServiceAccount;
  keyFile: ServiceAccountKeyFile;
  /** The key file as the Cloud console downloads it (pretty-printed JSON). */
  keyText: string;
  /** POSTERN_GOOGLE_* settings that send Postern to the fakes. */
  env: Record<string, string>;
  /** A valid Google PUT body for the fakes' service account and mailbox. */
  providerBody(overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startGoogleFakes(
  options: { limits?: Partial<GmailLimits>; env?: Record<string, string> } = {},
): Promise<GoogleFakes> {
  const google = await startGoogleTokenFake();
  const gmail = await startGmailSmtpFake({ google, ...(options.limits ? { limits: options.limits } : {}) });
  const { account, keyFile } = google.createServiceAccount({
    name: "postern-sender",
    projectId: "acme-login-123",
  });
  google.addUser(MAILBOX);
  google.delegate(DOMAIN, account.clientId, [GMAIL_SCOPE]);
  const keyText = `${JSON.stringify(keyFile, null, 2)}\n`;
  return {
    google,
    gmail,
    account,
    keyFile,
    keyText,
    env: {
      POSTERN_GOOGLE_TOKEN_URL: google.tokenUrl,
      POSTERN_GOOGLE_SMTP: `localhost:${gmail.port}`,
      ...options.env,
    },
    providerBody: (overrides = {}) => ({
      type: "smtp_oauth",
      provider: "google",
      senderEmail: MAILBOX,
      senderName: "Acme Login",
      serviceAccountKey: keyText,
      ...overrides,
    }),
    async close() {
      await gmail.close();
      await google.close();
    },
  };
}
