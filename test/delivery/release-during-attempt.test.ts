import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody, deliveryWhen, sendLogin } from "../email-provider/support.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

/**
 * A developer saves a fixed provider while an email is being sent through the broken one. Saving
 * releases the app's waiting emails; the one in flight was not waiting yet, and its failure belongs to
 * the provider as it was: it must go again at once through the fixed one, not after its backoff.
 */
describe.each(backends)("a provider saved while an email is in flight (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  let holding = false;
  const heldAuths: (() => void)[] = [];
  const releaseAuths = () => {
    holding = false;
    for (const answer of heldAuths.splice(0)) answer();
  };

  beforeAll(async () => {
    smtp = await startSmtpServer({
      users: { acme: "the-right-password" },
      // While `holding`, AUTH waits for the test: the attempt is in flight.
      beforeAuthReply: () =>
        holding ? new Promise<void>((resolve) => heldAuths.push(resolve)) : Promise.resolve(),
    });
    t = await startTestPostern(backend, {
      ...ALLOWLIST,
      // Long enough that only the release can explain a quick second try: no backoff, no probe.
      POSTERN_RETRY_BASE_SECONDS: "300",
      POSTERN_PROVIDER_PROBE_SECONDS: "600",
    });
    session = await t.signIn("owner@example.com");
    app = await t.createApp(session, { name: "Acme" });
    await t.unlock(session.workspaceId);
  });
  afterAll(async () => {
    releaseAuths();
    await t?.close();
    await smtp?.close();
  });

  const save = async (password: string) => {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: basicBody(smtp.port, { password }),
    });
    expect(res.status, res.text).toBe(200);
  };

  it("sends it through the fixed provider at once, the failed attempt kept in its log", async () => {
    await save("a-wrong-password");
    holding = true;
    const id = await sendLogin(t, app.publishableKey, "in-flight@example.com");
    await waitFor(() => heldAuths.length > 0, 30_000, "the attempt's AUTH held");
    await save("the-right-password");
    releaseAuths();

    const d = await deliveryWhen(t, session, app.id, id, (x) => x.status === "sent");
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
    expect(d.attempts[0]).toMatchObject({ errorClass: "auth" });
    expect(smtp.messages.flatMap((m) => m.to)).toEqual(["in-flight@example.com"]);
  });
});
