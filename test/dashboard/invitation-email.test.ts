import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

describe.each(backends)("invitation emails (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let smtp: SmtpServerFake;
  const invite = (email: string, role = "member") =>
    t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email, role },
    });
  const mailTo = (to: string) => t.postern.devMailbox!.list().filter((m) => m.to.includes(to));

  beforeAll(async () => {
    t = await startTestPostern(backend, { ...ALLOWLIST, POSTERN_LIMIT_INVITATIONS_PER_HOUR: "3" });
    owner = await t.signIn("owner@example.com");
    await t.request("PATCH", `/api/workspaces/${owner.workspaceId}`, {
      session: owner,
      body: { name: "Acme Team" },
    });
    // A custom provider in the workspace must not carry invitations: they are Postern's own emails.
    const app = await t.createApp(owner, { name: "Acme" });
    await t.unlock(owner.workspaceId);
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
    const saved = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(smtp.port),
    });
    expect(saved.status, saved.text).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("emails the invitee from the default sender with the workspace, the inviter and the sign-in link", async () => {
    const res = await invite("new.person@example.com", "admin");
    expect(res.status, res.text).toBe(201);
    const [message] = await waitFor(() => {
      const found = mailTo("new.person@example.com");
      return found.length > 0 ? found : undefined;
    });
    expect(message!.subject).toBe("owner@example.com invited you to Acme Team on Postern");
    expect(message!.from).toContain(t.postern.ctx.config.defaultFrom.replace(/^.*</, "").replace(/>$/, ""));
    expect(message!.text).toContain("as admin");
    expect(message!.text).toContain(
      `${t.postern.ctx.config.publicUrl}/sign-in?next=${encodeURIComponent(`/w/${owner.workspaceId}`)}`,
    );
    expect(smtp.messages).toHaveLength(0);
  });

  it("sends nothing for a refused invitation, and limits invitations per workspace and hour", async () => {
    const again = await invite("new.person@example.com");
    expect(again.status).toBe(409);
    expect(mailTo("new.person@example.com")).toHaveLength(1);
    expect((await invite("second@example.com")).status).toBe(201);
    expect((await invite("third@example.com")).status).toBe(201);
    const limited = await invite("fourth@example.com");
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    expect(limited.body.detail).toMatch(/POSTERN_LIMIT_INVITATIONS_PER_HOUR/);
    const members = await t.request("GET", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
    });
    expect(JSON.stringify(members.body)).not.toContain("fourth@example.com");
    expect(mailTo("fourth@example.com")).toHaveLength(0);
  });
});
