// The operator's Microsoft SMTP endpoint (POSTERN_MICROSOFT_SMTP) is reached without the checks for
// developers' hosts, because the operator set it — but only by the OAuth kind, which always uses TLS.
// A developer's Basic Auth provider naming the same host and port is judged like any other host, so it
// cannot reach an internal endpoint, nor send a password there in clear text.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testSmtpTarget } from "../../src/mail/smtp-probe.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { basicBody } from "./support.ts";

const PASSWORD = "Basic-Auth-Password-In-Clear";

type Step = { name: string; outcome: string; detail?: string; errorClass?: string };

describe.each(backends)("the operator's Microsoft endpoint is no endpoint for Basic Auth (%s)", (backend) => {
  let endpoint: SmtpServerFake;
  let t: TestPostern;
  let owner: Session;
  let appId: string;

  beforeAll(async () => {
    // A plain-text server where the operator's Microsoft endpoint is configured: it would take AUTH in clear.
    endpoint = await startSmtpServer({ security: "none", users: { acme: PASSWORD } });
    t = await startTestPostern(backend, { POSTERN_MICROSOFT_SMTP: `localhost:${endpoint.port}` });
    owner = await t.signIn("owner@example.com");
    appId = (await t.createApp(owner, { name: "Acme" })).id;
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await endpoint?.close();
  });

  it.each([
    ["none", "localhost"],
    ["starttls", "localhost"],
    ["tls", "LOCALHOST"],
  ])(
    "refuses smtp_basic with security %s to %s and that port, on save and on test",
    async (security, host) => {
      const body = basicBody(endpoint.port, { host, security, password: PASSWORD });
      const saved = await t.request("PUT", `/api/apps/${appId}/email-provider`, { session: owner, body });
      expect(saved.status, saved.text).toBe(400);
      expect(saved.body).toMatchObject({ code: "blocked_address", field: "host" });

      const tested = await t.request("POST", `/api/apps/${appId}/email-provider/test`, {
        session: owner,
        body: { config: body },
      });
      expect(tested.status, tested.text).toBe(200);
      const steps = tested.body.steps as Step[];
      expect(tested.body.ok).toBe(false);
      expect(steps[0]).toMatchObject({ name: "resolve", outcome: "failed", errorClass: "blocked" });
      expect(steps.slice(1).every((s) => s.outcome === "skipped")).toBe(true);

      expect(endpoint.connections).toBe(0);
      expect(endpoint.authAttempts).toEqual([]);
      expect(tested.text).not.toContain(PASSWORD);
    },
  );
});

describe("the operator endpoint's trust needs TLS", () => {
  it("is not given to a plain-text connection, even one that asks for the operator's endpoint", async () => {
    const endpoint = await startSmtpServer({ security: "none", users: { acme: PASSWORD } });
    try {
      const steps = await testSmtpTarget(
        {
          host: "localhost",
          port: endpoint.port,
          security: "none",
          operatorEndpoint: true,
          auth: { method: "password", user: "acme", pass: PASSWORD },
          maxConnections: 1,
        },
        { allowlist: [], trustedEndpoints: [{ host: "localhost", port: endpoint.port }] },
        { explain: () => undefined },
      );
      expect(steps[0]).toMatchObject({ name: "resolve", outcome: "failed", errorClass: "blocked" });
      expect(endpoint.connections).toBe(0);
    } finally {
      await endpoint.close();
    }
  });
});
