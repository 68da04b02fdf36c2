// The Microsoft 365 fakes wired together: a tenant with an app registration whose service principal
// may send as one mailbox, and the Postern settings that point at them. Used by the Microsoft tests
// and by benchmarks of the OAuth path. Needs NODE_EXTRA_CA_CERTS=test/fakes/certs/ca.pem.
import { type ExchangeLimits, type ExchangeSmtpFake, startExchangeSmtpFake } from "../fakes/exchange-smtp.ts";
import {
  type FakeApp,
  type MicrosoftIdentityFake,
  startMicrosoftIdentityFake,
} from "../fakes/microsoft-identity.ts";

export const TENANT_ID = "3f1d6a0e-8c2b-4e5f-9a7d-0b1c2d3e4f50";
export const TENANT_DOMAIN = "contoso.onmicrosoft.com";
export const CLIENT_ID = "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f";
export const CLIENT_SECRET = "Kn0wn~Client.Secret_For-Leak/Search+1";
export const MAILBOX = "login@contoso.onmicrosoft.com";

export interface MicrosoftFakes {
  identity: MicrosoftIdentityFake;
  exchange: ExchangeSmtpFake;
  app: FakeApp;
  /** POSTERN_MICROSOFT_* settings that send Postern to the fakes. */
  env: Record<string, string>;
  /** A valid `smtp_oauth` PUT body for the fakes' app and mailbox. */
  providerBody(overrides?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

export async function startMicrosoftFakes(
  options: { limits?: Partial<ExchangeLimits>; env?: Record<string, string> } = {},
): Promise<MicrosoftFakes> {
  const identity = await startMicrosoftIdentityFake({
    tenants: [{ id: TENANT_ID, domains: [TENANT_DOMAIN] }],
  });
  const app = identity.addApp(TENANT_ID, { clientId: CLIENT_ID, secret: CLIENT_SECRET });
  const exchange = await startExchangeSmtpFake({
    identity,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  exchange.allowApp(app, MAILBOX);
  return {
    identity,
    exchange,
    app,
    env: {
      POSTERN_MICROSOFT_AUTHORITY_HOST: `https://localhost:${identity.port}`,
      POSTERN_MICROSOFT_SMTP: `localhost:${exchange.port}`,
      ...options.env,
    },
    providerBody: (overrides = {}) => ({
      type: "smtp_oauth",
      provider: "microsoft",
      senderEmail: MAILBOX,
      senderName: "Contoso Login",
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tenantId: TENANT_ID,
      ...overrides,
    }),
    async close() {
      await exchange.close();
      await identity.close();
    },
  };
}
