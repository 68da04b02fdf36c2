// The SES fake with one account whose domain is verified, and the Postern settings that point at it.
// Needs NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { type SesAccountSpec, type SesFake, startSesFake } from "../fakes/ses.ts";

export const ACCESS_KEY_ID = "AKIAPOSTERNTEST0001";
export const SECRET_ACCESS_KEY = "Kn0wn/Ses+Secret-For-Leak-Search0123456789";
export const SES_SENDER = "login@acme.example";
export const SES_REGION = "eu-west-1";

export interface SesFakes {
  ses: SesFake;
  /** POSTERN_SES_* settings that send Postern to the fake, and login limits a burst does not hit. */
  env: Record<string, string>;
  /** A valid `ses` PUT body for the fake's account. */
  providerBody(overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startSesFakes(
  options: { account?: Partial<SesAccountSpec>; env?: Record<string, string> } = {},
): Promise<SesFakes> {
  const ses = await startSesFake({
    accounts: [
      {
        accessKeyId: ACCESS_KEY_ID,
        secretAccessKey: SECRET_ACCESS_KEY,
        region: SES_REGION,
        verified: ["acme.example", "owner@example.com"],
        configurationSets: ["logins"],
        ...options.account,
      },
    ],
  });
  return {
    ses,
    env: {
      POSTERN_SES_API_URL: ses.url,
      POSTERN_SES_MESSAGES_PER_SECOND: "100",
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
      ...options.env,
    },
    providerBody: (overrides = {}) => ({
      type: "ses",
      senderEmail: SES_SENDER,
      senderName: "Acme Login",
      region: SES_REGION,
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
      ...overrides,
    }),
    close: () => ses.close(),
  };
}
