import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKeyring, generateSecretKey } from "../../src/security/secret-box.ts";
import {
  basicBody,
  type DeliveryView,
  deliveryWhen,
  type ProviderState,
  sendLogin,
} from "../email-provider/support.ts";
import { newPglite } from "../support/database-templates.ts";
import {
  backends,
  createDatabase,
  type Response,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";

/** What the guard found out and must keep to itself: localhost's addresses and every address category. */
const LEAKS =
  /127\.0\.0\.1|::1|\bloopback|link-local|metadata|carrier-grade|unique-local|site-local|multicast|broadcast|reserved|unspecified|NAT64|6to4|Teredo|special-purpose/i;
const REFUSED_NAME =
  "localhost resolves to a private or internal address, which Postern does not connect to. Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.";

type Step = { name: string; outcome: string; detail?: string; hint?: string; errorClass?: string };

describe.each(backends)("refusals of internal hosts do not map the network (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let appId: string;

  beforeAll(async () => {
    t = await startTestPostern(backend, { POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    appId = (await t.createApp(owner, { name: "Acme" })).id;
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ["a name that resolves to loopback", "localhost", 587, REFUSED_NAME],
    [
      "a private IP literal, named as typed",
      "10.0.0.8",
      25,
      "10.0.0.8 is a private or internal address, which Postern does not connect to. Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.",
    ],
    [
      "a loopback literal in another notation, named as typed",
      "0x7f000001",
      587,
      "0x7f000001 is a private or internal address, which Postern does not connect to. Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.",
    ],
    [
      "the cloud metadata address",
      "169.254.169.254",
      587,
      "169.254.169.254 is a private or internal address, which Postern does not connect to. Ask your operator to add it to POSTERN_SMTP_ALLOWLIST if this is a private relay.",
    ],
  ])(
    "%s: the save and Test connection say only that it is not allowed",
    async (_case, host, port, message) => {
      const body = basicBody(port, { host });
      const saved = await t.request("PUT", `/api/apps/${appId}/email-provider`, { session: owner, body });
      expect(saved.status).toBe(400);
      expect(saved.body).toMatchObject({ code: "blocked_address", field: "host", detail: message });

      const tested = await t.request("POST", `/api/apps/${appId}/email-provider/test`, {
        session: owner,
        body: { config: body },
      });
      const resolve = (tested.body.steps as Step[])[0]!;
      expect(resolve).toMatchObject({
        name: "resolve",
        outcome: "failed",
        errorClass: "blocked",
        detail: message,
      });
      for (const text of [saved.text, tested.text]) expect(text).not.toMatch(LEAKS);
      expect(t.logs.filter((line) => LEAKS.test(line))).toEqual([]);
    },
  );
});

describe.each(backends)("a saved host that now resolves inside the network (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let cleanup: () => Promise<void>;
  /** Test connection while localhost was allowlisted (nothing listens on its port). */
  let allowlistedTest: Response;

  beforeAll(async () => {
    // Saved while the operator allowlisted localhost (as if its DNS pointed elsewhere then), sent after.
    const env = { POSTERN_SECRET_KEY: formatKeyring([generateSecretKey()]) };
    const database = backend === "postgres" ? await createDatabase() : undefined;
    const pglite = backend === "pglite" ? await newPglite() : undefined;
    const shared = database ? { databaseUrl: database.url } : { pglite: pglite! };
    const before = await startTestPostern(backend, { ...env, POSTERN_SMTP_ALLOWLIST: "localhost" }, shared);
    owner = await before.signIn("owner@example.com");
    app = await before.createApp(owner, { name: "Acme" });
    await before.unlock(owner.workspaceId);
    const saved = await before.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(2525, { host: "localhost" }),
    });
    expect(saved.status, saved.text).toBe(200);
    allowlistedTest = await before.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: {},
    });
    await before.close();
    t = await startTestPostern(backend, { ...env, POSTERN_LOG_LEVEL: "trace" }, shared);
    cleanup = async () => {
      await t.close();
      await pglite?.close();
      await database?.drop();
    };
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it("while allowlisted, Test connection does not show the private address it resolved to", () => {
    const [resolve, connect] = allowlistedTest.body.steps as Step[];
    expect(resolve).toMatchObject({
      name: "resolve",
      outcome: "ok",
      detail: "localhost → an address the operator allows",
    });
    expect(connect).toMatchObject({ name: "connect", outcome: "failed" });
    expect(allowlistedTest.text).not.toMatch(LEAKS);
  });

  it("is refused at send: the delivery log and the provider's health say so in general terms", async () => {
    const id = await sendLogin(t, app.publishableKey, "alice@example.com");
    // A refused destination is the provider's configuration, not the recipient's: the email waits for
    // the provider to be fixed (until its login expires) instead of failing.
    const waiting: DeliveryView = await deliveryWhen(
      t,
      owner,
      app.id,
      id,
      (d) => d.status === "retrying" && d.attempts.length > 0,
    );
    expect(waiting.attempts[0]).toMatchObject({ errorClass: "blocked", message: REFUSED_NAME });
    expect(waiting.lastError).toContain(REFUSED_NAME);
    const state = (await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner }))
      .body as unknown as ProviderState;
    expect(state.provider?.health).toMatchObject({ status: "failing", reason: REFUSED_NAME });

    const tested = await t.request("POST", `/api/apps/${app.id}/email-provider/test`, {
      session: owner,
      body: {},
    });
    expect((tested.body.steps as Step[])[0]).toMatchObject({ name: "resolve", detail: REFUSED_NAME });
    const delivery = await t.request("GET", `/api/apps/${app.id}/deliveries/${id}`, { session: owner });
    for (const text of [delivery.text, tested.text, JSON.stringify(state)]) expect(text).not.toMatch(LEAKS);
    expect(t.logs.filter((line) => LEAKS.test(line))).toEqual([]);
  });
});
