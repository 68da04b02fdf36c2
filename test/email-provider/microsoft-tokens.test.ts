// What tokens cost: one request serves every email until the token nears expiry, and concurrent first
// sends share one request. Counted at the identity fake, over real sockets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.ts";
import type { DeliveryRoute } from "../../src/delivery/routes.ts";
import { readOperatorSettings } from "../../src/email-provider/kinds/index.ts";
import type { MicrosoftOperatorSettings } from "../../src/email-provider/kinds/microsoft/operator-settings.ts";
import { EXCHANGE_SCOPE, entraTokenSource } from "../../src/email-provider/kinds/microsoft/token-source.ts";
import { ProviderRouting } from "../../src/email-provider/routing.ts";
import type { TokenSource } from "../../src/mail/smtp-pool.ts";
import { Metrics } from "../../src/metrics/metrics.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import {
  CLIENT_ID,
  CLIENT_SECRET,
  MAILBOX,
  type MicrosoftFakes,
  startMicrosoftFakes,
  TENANT_ID,
} from "../support/microsoft.ts";

const UNLIMITED = 1_000_000;

describe("Microsoft token source", () => {
  let ms: MicrosoftFakes;
  beforeAll(async () => {
    ms = await startMicrosoftFakes();
  });
  afterAll(() => ms?.close());

  function tokenSource(): TokenSource {
    const config = loadConfig(ms.env);
    const metrics = new Metrics(async () => ({ queued: 0, active: 0, oldestAgeSeconds: 0 }));
    const source: TokenSource = entraTokenSource(
      { tenantId: TENANT_ID, clientId: CLIENT_ID },
      [{ kind: "secret", clientSecret: CLIENT_SECRET }],
      EXCHANGE_SCOPE,
      {
        operator: readOperatorSettings(config.operatorEnv).microsoft as MicrosoftOperatorSettings,
        metrics,
        now: () => new Date(),
      },
    );
    return source;
  }

  it("makes one token request for 50 concurrent callers, and one for 50 concurrent fresh ones", async () => {
    const source = tokenSource();
    const before = ms.identity.tokenRequests;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => source.getToken(false)));
    expect(ms.identity.tokenRequests - before).toBe(1);
    expect(new Set(tokens.map((t) => t.accessToken)).size).toBe(1);
    expect(tokens[0]!.expiresAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    const fresh = await Promise.all(Array.from({ length: 50 }, () => source.getToken(true)));
    expect(ms.identity.tokenRequests - before).toBe(2);
    expect(new Set(fresh.map((t) => t.accessToken)).size).toBe(1);
    expect(fresh[0]!.accessToken).not.toBe(tokens[0]!.accessToken);
    // The fresh token is what the cache serves from now on.
    expect((await source.getToken(false)).accessToken).toBe(fresh[0]!.accessToken);
    expect(ms.identity.tokenRequests - before).toBe(2);
  });
});

describe.each(backends)("token requests per email, through the pipeline (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startMicrosoftFakes({
      limits: { concurrentConnectionsPerMailbox: 10, messagesPerMinute: UNLIMITED },
      env: {
        POSTERN_MICROSOFT_MAX_CONNECTIONS: "10",
        POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: String(UNLIMITED),
      },
    });
    t = await startTestPostern(backend, {
      ...ms.env,
      POSTERN_LIMIT_IP_PER_HOUR: String(UNLIMITED),
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: String(UNLIMITED),
      POSTERN_LIMIT_ADDRESS_PER_HOUR: String(UNLIMITED),
      POSTERN_LIMIT_APP_PER_HOUR: String(UNLIMITED),
    });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  async function saveProvider(senderName: string) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody({ senderName }),
    });
    expect(res.status, res.text).toBe(200);
  }

  it("50 concurrent first sends through a new pool cost one token request", async () => {
    await saveProvider("Fifty at once");
    // A second routing is what another worker process has: its own pool and token source.
    const routing = new ProviderRouting(
      t.postern.ctx,
      () => {
        throw new Error("the default sender is not used here");
      },
      t.postern.metrics,
      { allowlist: [], trustedEndpoints: [{ host: "localhost", port: ms.exchange.port }] },
      readOperatorSettings(t.postern.ctx.config.operatorEnv),
    );
    try {
      const resolved = await routing.resolve(app.id);
      if ("held" in resolved) throw new Error("the provider is not failing here");
      const route: DeliveryRoute = resolved;
      const requests = ms.identity.tokenRequests;
      const messages = ms.exchange.messages.length;
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const slot = await route.acquireSlot!();
          if ("waitSeconds" in slot) throw new Error("no slot");
          try {
            await route.sender.send({
              from: route.from,
              to: `first-${i}@example.com`,
              subject: "Your code",
              text: "123456",
              html: "<p>123456</p>",
              messageId: `<first-${i}@postern.test>`,
            });
          } finally {
            await slot.release();
          }
        }),
      );
      expect(ms.exchange.messages.length - messages).toBe(50);
      expect(ms.identity.tokenRequests - requests).toBe(1);
      expect(ms.exchange.maxConcurrentByMailbox.get(MAILBOX)).toBeGreaterThan(1);
    } finally {
      await routing.close();
    }
  });

  it("1,000 login emails for one provider cost exactly one token request", { timeout: 240_000 }, async () => {
    await saveProvider("A thousand");
    const requests = ms.identity.tokenRequests;
    const messages = ms.exchange.messages.length;
    const started = Date.now();
    // 25 requests at a time: the API's PostgreSQL pool has 10 connections.
    for (let batch = 0; batch < 40; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, async (_, i) => {
          const res = await t.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${app.publishableKey}` },
            body: { email: `user-${batch * 25 + i}@example.com` },
          });
          expect(res.status).toBe(202);
        }),
      );
    }
    await ms.exchange.waitForMessages(messages + 1000, 200_000);
    const seconds = (Date.now() - started) / 1000;
    expect(ms.identity.tokenRequests - requests).toBe(1);
    expect(ms.exchange.limitViolations).toEqual([]);
    console.info(
      `${backend}: 1,000 login emails via Exchange fake in ${seconds.toFixed(1)} s, 1 token request`,
    );
  });
});
