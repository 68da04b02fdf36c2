// Login emails through Microsoft 365 with Microsoft Graph, end to end over real sockets: Postern's worker,
// the Microsoft identity fake (app-only tokens for https://graph.microsoft.com/.default) and the Graph
// sendMail fake (token checks, RBAC for Applications, limits, 202 Accepted).
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { CLIENT_ID, MAILBOX } from "../support/microsoft.ts";
import { type GraphFakes, startGraphFakes } from "../support/microsoft-graph.ts";
import { deliveryWhen, sendLogin } from "./support.ts";

const BURST = 1_000;
const LIFTED = {
  // Exchange's 30 a minute would make the burst measure the quota: lifted at the fake and in Postern alike.
  POSTERN_MICROSOFT_MESSAGES_PER_MINUTE: "1000000",
  POSTERN_LIMIT_IP_PER_HOUR: "100000",
  POSTERN_LIMIT_APP_PER_HOUR: "100000",
  POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
  POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
};

type Attempt = { outcome: string; smtpReply?: string; message?: string };

describe.each(backends)("Microsoft 365 delivery through Microsoft Graph (%s)", (backend) => {
  let ms: GraphFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startGraphFakes({ limits: { messagesPerMinutePerMailbox: 1_000_000 }, env: LIFTED });
    t = await startTestPostern(backend, ms.env);
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });
  afterEach(async () => {
    ms.identity.setGraphRoles(CLIENT_ID, []);
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
  });

  async function saveProvider(overrides: Record<string, unknown> = {}) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody(overrides),
    });
    expect(res.status, res.text).toBe(200);
    return res.body;
  }
  const login = (email: string) => sendLogin(t, app.publishableKey, email);
  const delivered = (id: string) => deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");

  it("sends the login email as MIME through sendMail, with SMTP's headers, and logs it as accepted, not delivered", async () => {
    const saved = await saveProvider({ senderName: "Contoso Login" });
    expect((saved.provider as { transport: string }).transport).toBe("graph");
    const d = await delivered(await login("alice@example.com"));
    expect(d).toMatchObject({ route: "custom", sender: `Contoso Login <${MAILBOX}>` });
    const attempt = d.attempts[0] as Attempt;
    expect(attempt.smtpReply).toMatch(/^202 Accepted \(request-id [0-9a-f-]{36}\)$/);
    expect(attempt.message).toBe(
      `Accepted by Microsoft Graph for ${MAILBOX}: not yet delivered; unknown recipients come back as non-delivery reports to ${MAILBOX}.`,
    );
    const mail = ms.graph.messages.find((m) => m.to.some((r) => r.address === "alice@example.com"))!;
    expect(mail).toMatchObject({ format: "mime", mailbox: MAILBOX, permission: "rbac", from: MAILBOX });
    expect(attempt.smtpReply).toContain(mail.requestId);
    expect(mail.text).toMatch(/login code is \d{6}/);
    const headers = mail.mime!.headers;
    expect(headers.get("auto-submitted")).toBe("auto-generated");
    expect(headers.get("x-auto-response-suppress")).toBe("All");
    expect(String(headers.get("message-id"))).toMatch(new RegExp(`^<.+@${MAILBOX.split("@")[1]}>$`));
    expect(headers.get("content-language")).toBeDefined();
  });

  it("asks Entra for one Graph token, and never for another while it is valid", async () => {
    await saveProvider({ senderName: "Token reuse" });
    const before = ms.identity.tokenRequestLog.length;
    for (const who of ["t1", "t2", "t3"]) await delivered(await login(`${who}@example.com`));
    const requests = ms.identity.tokenRequestLog.slice(before);
    expect(requests).toHaveLength(1);
    // The Graph fake refuses any other audience (401): every send used this one Graph token.
    expect(ms.graph.requestLog.filter((r) => r.status === 401)).toEqual([]);
  });

  it("replaces a revoked token once (401 InvalidAuthenticationToken) and delivers", async () => {
    await saveProvider({ senderName: "Revoked" });
    await delivered(await login("before-revoke@example.com"));
    const requests = ms.identity.tokenRequests;
    ms.identity.revoke(CLIENT_ID);
    const d = await delivered(await login("after-revoke@example.com"));
    expect(d.attempts).toHaveLength(1);
    expect(ms.identity.tokenRequests - requests).toBe(1);
    const refused = ms.graph.requestLog.filter(
      (r) => r.status === 401 && r.code === "InvalidAuthenticationToken",
    );
    expect(refused.length).toBeGreaterThanOrEqual(1);
  });

  it(`delivers ${BURST} emails with at most one token request, at most 4 requests at a time`, {
    timeout: 300_000,
  }, async () => {
    await saveProvider({ senderName: "Burst" });
    await delivered(await login("warm-up@example.com"));
    const tokens = ms.identity.tokenRequests;
    const accepted = ms.graph.messages.length;
    const started = Date.now();
    for (let batch = 0; batch < BURST / 25; batch++) {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          t.request("POST", "/v1/login/email", {
            headers: { authorization: `Bearer ${app.publishableKey}` },
            body: { email: `burst-${batch * 25 + i}@example.com` },
          }),
        ),
      );
    }
    await ms.graph.waitForMessages(accepted + BURST, 280_000);
    const seconds = (Date.now() - started) / 1000;
    const tokenRequests = ms.identity.tokenRequests - tokens;
    expect(tokenRequests).toBeLessThanOrEqual(1);
    expect(ms.graph.limitViolations).toEqual([]);
    const peak = ms.graph.peakConcurrency(MAILBOX);
    expect(peak).toBeLessThanOrEqual(4);
    const rows = await waitFor(
      async () => {
        const found = await queryRows<{ status: string }>(
          t.postern.ctx.db,
          sql`select status from deliveries where app_id = ${app.id} and recipient like 'burst-%'`,
        );
        return found.length === BURST && found.every((r) => r.status === "sent") ? found : undefined;
      },
      60_000,
      "every burst delivery marked sent",
    );
    expect(rows).toHaveLength(BURST);
    console.info(
      `graph burst (${backend}): ${BURST} emails in ${seconds.toFixed(1)} s, ${tokenRequests} token requests, peak ${peak} concurrent at Graph`,
    );
  });
});
