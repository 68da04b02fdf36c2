import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { ALLOWLIST, basicBody, deliveryWhen, type ProviderState, sendLogin } from "./support.ts";

type Provider = NonNullable<ProviderState["provider"]> & {
  enabled: boolean;
  health: { status: string; checkedAt: string | null; emails: string };
};

describe.each(backends)("a provider disabled and re-enabled without deleting it (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let member: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  const url = () => `/api/apps/${app.id}/email-provider`;
  const provider = async () =>
    (await t.request("GET", url(), { session: owner })).body.provider as unknown as Provider;
  const patch = (session: Session, body: unknown) => t.request("PATCH", url(), { session, body });

  // The injected clock: a disabled provider's probes are checked over hours without waiting them out.
  let offsetMs = 0;

  beforeAll(async () => {
    t = await startTestPostern(
      backend,
      {
        ...ALLOWLIST,
        POSTERN_PROVIDER_PROBE_SECONDS: "1",
        POSTERN_LIMIT_ADDRESS_PER_HOUR: "1000",
        POSTERN_LIMIT_IP_PER_HOUR: "100000",
      },
      { now: () => new Date(Date.now() + offsetMs) },
    );
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
    const invited = await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "member@example.com", role: "member" },
    });
    expect(invited.status, invited.text).toBe(201);
    member = await t.signIn("member@example.com");
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("needs a saved provider, a boolean and an owner or admin", async () => {
    const none = await patch(owner, { enabled: false });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ code: "no_email_provider", field: "enabled" });
    const saved = await t.request("PUT", url(), { session: owner, body: basicBody(smtp.port) });
    expect(saved.status, saved.text).toBe(200);
    expect((await provider()).enabled).toBe(true);
    const bad = await patch(owner, { enabled: "no" });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("enabled");
    const extra = await patch(owner, { enabled: false, host: "x" });
    expect(extra.status).toBe(400);
    const asMember = await patch(member, { enabled: false });
    expect(asMember.status).toBe(403);
    expect((await provider()).enabled).toBe(true);
  });

  it("disabled: the waiting emails and new ones go out through the default sender, saying so; nothing probes it", async () => {
    await smtp.stop();
    const waiting = await sendLogin(t, app.publishableKey, "waiting@example.com");
    await deliveryWhen(t, owner, app.id, waiting, (d) => d.status === "retrying");
    await waitFor(async () => (await provider()).health.status === "failing" || undefined, 15_000, "failing");

    const res = await patch(owner, { enabled: false });
    expect(res.status, res.text).toBe(200);
    const off = (res.body as unknown as { provider: Provider }).provider;
    expect(off.enabled).toBe(false);
    expect(off.health.emails).toMatch(/disabled: login emails go out through the default sender/);

    const sent = await deliveryWhen(t, owner, app.id, waiting, (d) => d.status === "sent");
    expect(sent.route).toBe("default");
    expect(sent.attempts.at(-1)).toMatchObject({
      route: "default",
      message: "The custom provider is disabled, so this email went out through the default sender.",
    });
    const fresh = await sendLogin(t, app.publishableKey, "fresh@example.com");
    expect((await deliveryWhen(t, owner, app.id, fresh, (d) => d.status === "sent")).route).toBe("default");

    // The probe interval is a second: a disabled provider is left alone however long it fails.
    const checkedAt = (await provider()).health.checkedAt;
    for (let round = 0; round < 3; round++) {
      offsetMs += 60 * 60_000;
      await t.postern.watchRound();
    }
    expect((await provider()).health.checkedAt).toBe(checkedAt);

    // The apps list shows it switched off rather than failing.
    const list = await t.request("GET", `/api/workspaces/${owner.workspaceId}/apps`, { session: owner });
    const listed = (list.body.apps as { id: string; emailProviderHealth: { enabled: boolean } }[]).find(
      (a) => a.id === app.id,
    );
    expect(listed?.emailProviderHealth.enabled).toBe(false);
  });

  it("re-enabled: its health is checked again at once and login emails go through it", async () => {
    await smtp.restart();
    const res = await patch(owner, { enabled: true });
    expect(res.status, res.text).toBe(200);
    const on = (res.body as unknown as { provider: Provider }).provider;
    expect(on.enabled).toBe(true);
    expect(on.health.status).toBe("working");
    const id = await sendLogin(t, app.publishableKey, "after@example.com");
    const d = await deliveryWhen(t, owner, app.id, id, (x) => x.status === "sent");
    expect(d.route).toBe("custom");
    expect(smtp.messages.some((m) => m.to.includes("after@example.com"))).toBe(true);
  });

  it("is audited both ways, and a repeated switch changes nothing", async () => {
    const again = await patch(owner, { enabled: true });
    expect(again.status).toBe(200);
    const audit = await t.request("GET", `/api/workspaces/${owner.workspaceId}/audit?limit=200`, {
      session: owner,
    });
    const actions = (audit.body.events as { action: string; changes: unknown }[])
      .map((e) => e.action)
      .filter((a) => /email_provider\.(en|dis)abled/.test(a));
    expect(actions.toSorted()).toEqual(["email_provider.disabled", "email_provider.enabled"]);
  });
});
