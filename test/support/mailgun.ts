// The Mailgun fake (a US host) with one account: an active domain, an unverified one, a sandbox and a
// domain of the EU region; and the Postern settings that point at it. Needs NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { type MailgunFake, type MailgunFakeOptions, startMailgunFake } from "../fakes/mailgun.ts";

export const MAILGUN_API_KEY = "Kn0wn-mailgun-key-For-Leak-Search-0123456789";
export const MAILGUN_DOMAIN = "mg.acme.example";
export const MAILGUN_SENDER = "login@mg.acme.example";

export interface MailgunFakes {
  mailgun: MailgunFake;
  env: Record<string, string>;
  providerBody(overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startMailgunFakes(
  options: { fake?: Partial<MailgunFakeOptions>; env?: Record<string, string> } = {},
): Promise<MailgunFakes> {
  const mailgun = await startMailgunFake({
    accounts: [
      {
        apiKey: MAILGUN_API_KEY,
        domains: [
          { name: MAILGUN_DOMAIN },
          { name: "new.acme.example", state: "unverified" },
          { name: "sandbox0a1b2c.mailgun.org", authorizedRecipients: ["owner@example.com"] },
          { name: "mg.eu-acme.example", region: "eu" },
        ],
      },
    ],
    ...options.fake,
  });
  return {
    mailgun,
    env: {
      POSTERN_MAILGUN_API_URL: mailgun.url,
      POSTERN_MAILGUN_MESSAGES_PER_MINUTE: "100000",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
      POSTERN_LIMIT_PROVIDER_TESTS_PER_MINUTE: "1000",
      ...options.env,
    },
    providerBody: (overrides = {}) => ({
      type: "mailgun",
      senderEmail: MAILGUN_SENDER,
      senderName: "Acme Login",
      domain: MAILGUN_DOMAIN,
      region: "us",
      apiKey: MAILGUN_API_KEY,
      ...overrides,
    }),
    close: () => mailgun.close(),
  };
}
