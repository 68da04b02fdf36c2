import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";
import { ALLOWLIST, basicBody, deliveryWhen, sendLogin } from "./support.ts";

type Health = {
  status: string;
  reason: string | null;
  cause: string | null;
  since: string | null;
  at: string | null;
  checkedAt: string | null;
  nextCheckAt: string | null;
  emails: string;
  ifItFails: string;
};

describe.each(backends)("provider health, its gauge and its alerts (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let smtp: SmtpServerFake;
  // The injected clock: the alert window is an hour, so the test moves time instead of waiting.
  let offsetMs = 0;
  const health = async () => {
    const res = await t.request("GET", `/api/apps/${app.id}/email-provider`, { session: owner });
    return (res.body.provider as { health: Health }).health;
  };
  const gauge = async (state: string) => {
    const text = (await t.request("GET", "/metrics")).text;
    return Number(new RegExp(`^postern_providers\\{state="${state}"\\} (\\d+)$`, "m").exec(text)?.[1]);
  };
  const alerts = (to: string) =>
    t.postern
      .devMailbox!.list()
      .filter((m) => m.to.includes(to) && /email provider of Acme/.test(m.subject))
      .toSorted((a, b) => Date.parse(a.receivedAt) - Date.parse(b.receivedAt))
      .map((m) => m.subject);

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
    for (const [email, role] of [
      ["admin@example.com", "admin"],
      ["member@example.com", "member"],
    ]) {
      const res = await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
        session: owner,
        body: { email, role },
      });
      expect(res.status, res.text).toBe(201);
    }
    smtp = await startSmtpServer({ users: { acme: "s3cret-Passw0rd!" } });
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it("a saved provider is unchecked, and says what happens to emails if it fails", async () => {
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(smtp.port),
    });
    expect(res.status, res.text).toBe(200);
    const h = await health();
    expect(h).toMatchObject({ status: "unknown", reason: null, cause: null, since: null });
    // Both rules, since nothing failed yet: configuration failures hold emails, network ones retry them.
    expect(h.ifItFails).toMatch(
      /^If it refuses the credentials.*login emails wait .* every second.* If it cannot be reached, each login email tries again .* expires \(10 minutes/,
    );
    expect(await gauge("unchecked")).toBe(1);
    expect(await gauge("failing")).toBe(0);
  });

  it("a stopped server turns it failing with the network cause and since when; emails wait; owners and admins are told once", async () => {
    await smtp.stop();
    const before = Date.now();
    const id = await sendLogin(t, app.publishableKey, "waiting@example.com");
    const d = await deliveryWhen(t, owner, app.id, id, (x) => x.status === "retrying");
    expect(d.lastError).toMatch(new RegExp(`localhost:${smtp.port}.*refused`));
    const h = await waitFor(async () => {
      const x = await health();
      return x.status === "failing" ? x : undefined;
    });
    expect(h.cause).toBe("network");
    expect(h.reason).toMatch(
      new RegExp(`Could not reach the SMTP server at localhost:${smtp.port}: the connection was refused`),
    );
    expect(Date.parse(h.since!)).toBeGreaterThanOrEqual(before - 1000);
    expect(h.at).toBe(h.since);
    expect(h.nextCheckAt).not.toBeNull();
    // Unreachable is not misconfigured: each email keeps trying on its own backoff.
    expect(h.emails).toMatch(/^Each login email tries again with growing pauses .* expires/);
    expect(await gauge("failing")).toBe(1);
    expect(await gauge("unchecked")).toBe(0);

    await waitFor(() => alerts("admin@example.com").length > 0, 15_000, "the failing alert");
    expect(alerts("owner@example.com")).toEqual(["The email provider of Acme is failing"]);
    expect(alerts("admin@example.com")).toEqual(["The email provider of Acme is failing"]);
    expect(alerts("member@example.com")).toEqual([]);
    const body = t.postern
      .devMailbox!.list()
      .find((m) => m.to.includes("owner@example.com") && /failing/.test(m.subject))!;
    expect(body.text).toContain("Could not reach the SMTP server");
    expect(body.text).toContain(h.emails);

    // The probe keeps checking (its time moves on) while the server is down.
    await waitFor(
      async () => ((await health()).checkedAt ?? "") > h.checkedAt! || undefined,
      10_000,
      "a probe",
    );
    expect((await health()).status).toBe("failing");
  });

  it("the probe finds it working again and the waiting email goes out, with no second alert within the hour", async () => {
    await smtp.restart();
    const d = await waitFor(
      async () => {
        const res = await t.request("GET", `/api/apps/${app.id}/deliveries?limit=5`, { session: owner });
        const rows = res.body.deliveries as { recipient: string; status: string }[];
        return rows.find((r) => r.recipient === "waiting@example.com" && r.status === "sent");
      },
      20_000,
      "the waiting email",
    );
    expect(d).toBeDefined();
    expect(smtp.messages.filter((m) => m.to.includes("waiting@example.com"))).toHaveLength(1);
    const h = await health();
    expect(h).toMatchObject({ status: "working", reason: null, cause: null, nextCheckAt: null });
    expect(await gauge("working")).toBe(1);
    expect(await gauge("failing")).toBe(0);

    // Minutes and several watch rounds later: still only the one alert (at most one per provider per hour).
    for (let round = 0; round < 3; round++) {
      offsetMs += 5 * 60_000;
      await t.postern.watchRound();
    }
    expect(alerts("owner@example.com")).toEqual(["The email provider of Acme is failing"]);
  });

  it("after the hour the recovery is told, once", async () => {
    offsetMs += 61 * 60_000;
    await waitFor(
      () => alerts("owner@example.com").length > 1 && alerts("admin@example.com").length > 1,
      15_000,
      "the recovery alert",
    );
    for (let round = 0; round < 3; round++) {
      offsetMs += 10 * 60_000;
      await t.postern.watchRound();
    }
    expect(alerts("owner@example.com")).toEqual([
      "The email provider of Acme is failing",
      "The email provider of Acme works again",
    ]);
    expect(alerts("admin@example.com")).toHaveLength(2);
    expect(alerts("member@example.com")).toEqual([]);
  });

  it("with fallbackToDefault, a failing provider's emails go out through the default sender, and health says so", async () => {
    owner = await t.signIn("owner@example.com");
    const res = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(smtp.port, { password: "wrong-password", fallbackToDefault: true }),
    });
    expect(res.status, res.text).toBe(200);
    const d = await deliveryWhen(
      t,
      owner,
      app.id,
      await sendLogin(t, app.publishableKey, "fallback@example.com"),
      (x) => x.status === "sent",
    );
    expect(d.route).toBe("default");
    const h = await health();
    expect(h).toMatchObject({ status: "failing", cause: "auth" });
    expect(h.emails).toMatch(/go out through the default sender while it fails/);
  });
});
