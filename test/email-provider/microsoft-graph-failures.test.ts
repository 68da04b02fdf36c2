// What Microsoft Graph's refusals do to a login email and what the delivery log says about them: each
// failure is classified once, by the Graph transport, into whom it blames (the provider's setup: the email
// waits; this email: it fails; Graph's load: it waits as long as Retry-After says), with the fix in words.
import { sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { type GraphFake, graphErrors, startGraphFake } from "../fakes/graph.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { CLIENT_ID, MAILBOX, TENANT_ID } from "../support/microsoft.ts";
import { type GraphFakes, startGraphFakes } from "../support/microsoft-graph.ts";
import { type DeliveryView, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

type Attempt = DeliveryView["attempts"][number] & { at: string; hint?: string | null };

interface Case {
  name: string;
  /** Breaks the fakes; returns how to mend them. */
  setup(ms: GraphFakes): () => void;
  senderEmail?: string;
  status: "retrying" | "failed";
  errorClass: string;
  reply: RegExp;
  /** In the attempt's message and in the delivery log's hint. */
  fix: RegExp;
}

const nothing = () => {};
const cases: Case[] = [
  {
    name: "Mail.Send not granted, or the mailbox outside the RBAC scope (403 ErrorAccessDenied)",
    setup: (ms) => {
      ms.graph.removeMailSendAssignment(TENANT_ID, CLIENT_ID);
      return () => ms.graph.assignMailSend(TENANT_ID, CLIENT_ID, [MAILBOX]);
    },
    status: "retrying",
    errorClass: "auth",
    reply: /^403 ErrorAccessDenied: Access is denied/,
    fix: /Test-ServicePrincipalAuthorization -Identity '0f3c5a9e-[^']+' -Resource 'login@contoso\.onmicrosoft\.com'.*New-ManagementRoleAssignment -App '0f3c5a9e-[^']+' -Role "Application Mail\.Send"/,
  },
  {
    name: "an application access policy that leaves the mailbox out (403 ErrorAccessDenied, RAOP)",
    setup: (ms) => {
      ms.graph.restrictAccess(TENANT_ID, CLIENT_ID, ["someone-else@contoso.onmicrosoft.com"]);
      return () => ms.graph.restrictAccess(TENANT_ID, CLIENT_ID, [MAILBOX]);
    },
    status: "retrying",
    errorClass: "auth",
    reply: /^403 ErrorAccessDenied: Access to OData is disabled/,
    fix: /Test-ApplicationAccessPolicy -Identity 'login@contoso\.onmicrosoft\.com' -AppId '0f3c5a9e-/,
  },
  {
    name: "an unknown mailbox (404 ErrorInvalidUser)",
    setup: () => nothing,
    senderEmail: "nobody@contoso.onmicrosoft.com",
    status: "retrying",
    errorClass: "auth",
    reply: /^404 ErrorInvalidUser: The requested user 'nobody@contoso\.onmicrosoft\.com' is invalid\./,
    fix: /primary SMTP address or user principal name of a user or shared mailbox/,
  },
  {
    name: "a mailbox Graph cannot use (404 MailboxNotEnabledForRESTAPI)",
    setup: (ms) => {
      ms.graph.setRestEnabled(MAILBOX, false);
      return () => ms.graph.setRestEnabled(MAILBOX, true);
    },
    status: "retrying",
    errorClass: "auth",
    reply: /^404 MailboxNotEnabledForRESTAPI/,
    fix: /Exchange Online license.*SMTP transport/,
  },
  {
    name: "a From the mailbox may not send as (403 ErrorSendAsDenied)",
    setup: (ms) => {
      ms.graph.failNext(1, graphErrors.sendAsDenied());
      return nothing;
    },
    status: "retrying",
    errorClass: "auth",
    reply: /^403 ErrorSendAsDenied/,
    fix: /Add-RecipientPermission -Identity 'login@contoso\.onmicrosoft\.com'/,
  },
  {
    name: "a token Graph refuses even when fresh (401 InvalidAuthenticationToken twice)",
    setup: (ms) => {
      ms.graph.failNext(2, graphErrors.tokenAudience());
      return nothing;
    },
    status: "retrying",
    errorClass: "auth",
    reply: /^401 InvalidAuthenticationToken: Access token validation failure\. Invalid audience\./,
    fix: /same cloud as POSTERN_MICROSOFT_GRAPH_URL/,
  },
  {
    name: "a request over Graph's 4 MB (413): this email fails",
    setup: (ms) => {
      ms.graph.failNext(1, graphErrors.requestTooLarge(4 * 1024 * 1024));
      return nothing;
    },
    status: "failed",
    errorClass: "permanent",
    reply: /^413 RequestEntityTooLarge/,
    fix: /Make the app's email template smaller/,
  },
  {
    name: "a message over Exchange's size limit (ErrorMessageSizeExceeded): this email fails",
    setup: (ms) => {
      ms.graph.failNext(1, graphErrors.messageTooLarge(35 * 1024 * 1024));
      return nothing;
    },
    status: "failed",
    errorClass: "permanent",
    reply: /^400 ErrorMessageSizeExceeded/,
    fix: /Make the app's email template smaller/,
  },
];

describe.each(backends)("Graph failures in the delivery log (%s)", (backend) => {
  let ms: GraphFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let version = 0;

  beforeAll(async () => {
    ms = await startGraphFakes();
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
    await t.postern.ctx.db.execute(sql`delete from sender_limits`);
    // An earlier case's email still retrying would take the next case's scripted failure.
    await t.postern.ctx.db.execute(
      sql`update deliveries set status = 'expired' where status in ('queued', 'retrying')`,
    );
  });

  /** A new version each time: a fresh transport, and health that no earlier case turned failing. */
  async function saveProvider(overrides: Record<string, unknown> = {}) {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody({ senderName: `Contoso ${++version}`, ...overrides }),
    });
    expect(res.status, res.text).toBe(200);
  }
  const login = (email: string) => sendLogin(t, app.publishableKey, email);

  it.each(cases)("$name", async (c) => {
    await saveProvider(c.senderEmail ? { senderEmail: c.senderEmail } : {});
    const mend = c.setup(ms);
    try {
      const id = await login(`case-${version}@example.com`);
      const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === c.status);
      const attempt = d.attempts[0] as Attempt;
      expect(attempt).toMatchObject({ route: "custom", errorClass: c.errorClass });
      expect(attempt.smtpReply).toMatch(c.reply);
      expect(attempt.smtpReply).toMatch(/\(request-id [0-9a-f-]{36}\)$/);
      expect(attempt.message).toMatch(c.fix);
      // The delivery log explains the stored attempt again, through the kind, with the same fix.
      expect(attempt.hint).toMatch(c.fix);
      expect(JSON.stringify(d)).not.toMatch(/eyJ[\w-]+\.[\w-]+\./); // no token, ever
      if (c.status === "retrying") {
        const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
          .body as unknown as ProviderState;
        expect(state.provider?.health.status).toBe("failing");
        expect(state.provider?.health.reason).toMatch(c.fix);
      }
    } finally {
      mend();
    }
  });

  it.each([
    ["429 ApplicationThrottled", graphErrors.concurrencyThrottled(3), 3, /^429 ApplicationThrottled/],
    ["503 serviceNotAvailable", graphErrors.serviceUnavailable(2), 2, /^503 serviceNotAvailable/],
  ])("waits as long as Retry-After says after %s, then delivers", async (_name, error, seconds, reply) => {
    await saveProvider();
    ms.graph.failNext(1, error);
    const id = await login(`retry-after-${version}@example.com`);
    const d = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "sent");
    const [first, second] = d.attempts as Attempt[];
    expect(first).toMatchObject({ outcome: "retry" });
    expect(first!.smtpReply).toMatch(reply);
    expect(first!.message).toMatch(new RegExp(`${seconds} s`));
    expect(second).toMatchObject({ outcome: "sent" });
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(seconds * 1000);
  });

  it("pauses the mailbox in every process on a 429, for as long as Retry-After says", async () => {
    await saveProvider();
    ms.graph.failNext(1, graphErrors.concurrencyThrottled(30));
    const id = await login(`paused-${version}@example.com`);
    await deliveryWhen(t, owner, app.id, id, (v) => v.status === "retrying");
    const [lane] = await queryRows<{ seconds: number; reason: string }>(
      t.postern.ctx.db,
      sql`select extract(epoch from paused_until - now())::int as seconds, pause_reason as reason from sender_limits where paused_until is not null`,
    );
    expect(lane!.seconds).toBeGreaterThan(20);
    expect(lane!.seconds).toBeLessThanOrEqual(30);
    expect(lane!.reason).toMatch(/throttling login@contoso\.onmicrosoft\.com/);
  });
});

describe.each(backends)("Graph unreachable (%s)", (backend) => {
  let ms: GraphFakes;
  let wrongName: GraphFake;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    ms = await startGraphFakes();
    wrongName = await startGraphFake({ identity: ms.identity, cert: "wrong-name" });
    t = await startTestPostern(backend, { ...ms.env, POSTERN_MICROSOFT_GRAPH_URL: wrongName.url });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody(),
    });
    expect(res.status, res.text).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
  });

  it("names a certificate that does not match Graph's host as a TLS failure, then a closed port as unreachable", async () => {
    const id = await sendLogin(t, app.publishableKey, "tls@example.com");
    const tls = await deliveryWhen(t, owner, app.id, id, (v) => v.status === "retrying");
    expect(tls.attempts[0]).toMatchObject({ errorClass: "tls" });
    expect(tls.attempts[0]!.message).toMatch(
      /TLS certificate of Microsoft Graph at localhost:\d+ is not trusted/,
    );
    expect((tls.attempts[0] as Attempt).hint).toMatch(/TLS-inspecting proxy/);

    await wrongName.close();
    // A new version, so the failing health of the TLS case does not hold the email back.
    await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: ms.providerBody({ senderName: "Closed port" }),
    });
    const closed = await sendLogin(t, app.publishableKey, "closed@example.com");
    const down = await deliveryWhen(t, owner, app.id, closed, (v) => v.status === "retrying");
    expect(down.attempts[0]).toMatchObject({ errorClass: "network", cause: { reason: "refused" } });
    expect(down.attempts[0]!.message).toMatch(/Could not reach Microsoft Graph at localhost:\d+ \(refused\)/);
    expect((down.attempts[0] as Attempt).hint).toMatch(/outbound HTTPS \(port 443\)/);
  });
});
