import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../src/accounts/accounts.ts";
import { queryRows } from "../../src/db/connection.ts";
import { canonicalEmail } from "../../src/email-address/email-address.ts";
import {
  backends,
  OPERATOR_TOKEN,
  queueSettledFor,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";

describe.each(backends)("dashboard sign-in and management API (%s)", (backend) => {
  let t: TestPostern;
  let alice: Session;
  let mallory: Session;
  let aliceApp: { id: string; publishableKey: string; secretKey: string };

  beforeAll(async () => {
    t = await startTestPostern(backend);
    alice = await t.signIn("alice@example.com");
    mallory = await t.signIn("mallory@example.com");
    aliceApp = await t.createApp(alice, { name: "Alice's app" });
  });
  afterAll(() => t?.close());

  it("gives a new account a workspace of its own, where it is the owner", async () => {
    const me = await t.request("GET", "/api/me", { session: alice });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ account: { email: "alice@example.com" }, devMailbox: true });
    expect(me.body.workspaces).toEqual([
      expect.objectContaining({ role: "owner", features: { "custom-email-provider": false } }),
    ]);
  });

  it("sets an HttpOnly session cookie on sign-in", async () => {
    const start = await t.request("POST", "/api/auth/email", { body: { email: "cookie@example.com" } });
    const { code } = await t.latestLoginEmail("cookie@example.com");
    const res = await t.request("POST", "/api/auth/email/verify", {
      body: { loginId: start.body.loginId, code },
    });
    expect(String(res.headers["set-cookie"])).toMatch(/postern_session=.+HttpOnly.*SameSite=Lax/i);
  });

  it("refuses a cookie-authenticated mutation without the CSRF token, and changes nothing", async () => {
    const before = await t.request("GET", `/api/workspaces/${alice.workspaceId}/apps`, { session: alice });
    const attempts: Record<string, string>[] = [
      {},
      { "x-csrf-token": "wrong" },
      { "x-csrf-token": mallory.csrf },
    ];
    for (const headers of attempts) {
      const res = await t.request("POST", `/api/workspaces/${alice.workspaceId}/apps`, {
        session: alice,
        csrf: false,
        headers,
        body: { name: "sneaky" },
      });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("csrf_failed");
    }
    const after = await t.request("GET", `/api/workspaces/${alice.workspaceId}/apps`, { session: alice });
    expect(after.body).toEqual(before.body);
  });

  it("tells the sign-in page whether it is signed in and whether the dev mailbox is on, without a 401", async () => {
    expect((await t.request("GET", "/api/session")).body).toEqual({
      signedIn: false,
      devMailbox: true,
      signup: "open",
    });
    expect((await t.request("GET", "/api/session", { session: alice })).body).toMatchObject({
      signedIn: true,
    });
  });

  it("answers 401 without a session", async () => {
    const res = await t.request("GET", "/api/me");
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe("not_signed_in");
  });

  it("refuses another workspace's objects on every management route with 404", async () => {
    const ws = alice.workspaceId;
    const app = aliceApp.id;
    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/workspaces/${ws}`],
      ["GET", `/api/workspaces/${ws}/members`],
      ["POST", `/api/workspaces/${ws}/members`, { email: "mallory2@example.com", role: "owner" }],
      ["PATCH", `/api/workspaces/${ws}/members/${alice.accountId}`, { role: "member" }],
      ["DELETE", `/api/workspaces/${ws}/members/${alice.accountId}`],
      ["GET", `/api/workspaces/${ws}/audit`],
      ["GET", `/api/workspaces/${ws}/apps`],
      ["POST", `/api/workspaces/${ws}/apps`, { name: "x" }],
      ["GET", `/api/apps/${app}`],
      ["PATCH", `/api/apps/${app}`, { name: "stolen" }],
      ["DELETE", `/api/apps/${app}`],
      ["POST", `/api/apps/${app}/secret-key`],
      ["GET", `/api/apps/${app}/deliveries`],
      ["GET", `/api/apps/${app}/deliveries/dlv_x`],
    ];
    for (const [method, url, body] of attempts) {
      const res = await t.request(method, url, { session: mallory, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.headers["content-type"]).toMatch(/problem\+json/);
    }
    const still = await t.request("GET", `/api/apps/${app}`, { session: alice });
    expect(still.body).toMatchObject({ name: "Alice's app" });
  });

  it("lets members read but not write; admins write; only owners touch owners", async () => {
    const invited = await t.request("POST", `/api/workspaces/${alice.workspaceId}/members`, {
      session: alice,
      body: { email: "bob@example.com", role: "member" },
    });
    expect(invited.status).toBe(201);
    const bob = await t.signIn("bob@example.com");
    const bobWorkspaces = await t.request("GET", "/api/workspaces", { session: bob });
    expect((bobWorkspaces.body.workspaces as { id: string }[]).map((w) => w.id)).toContain(alice.workspaceId);
    bob.workspaceId = alice.workspaceId;
    expect((await t.request("GET", `/api/apps/${aliceApp.id}`, { session: bob })).status).toBe(200);
    const denied = await t.request("PATCH", `/api/apps/${aliceApp.id}`, {
      session: bob,
      body: { name: "bob was here" },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe("role_required");

    const promoted = await t.request(
      "PATCH",
      `/api/workspaces/${alice.workspaceId}/members/${bob.accountId}`,
      {
        session: alice,
        body: { role: "admin" },
      },
    );
    expect(promoted.status).toBe(200);
    expect(
      (await t.request("PATCH", `/api/apps/${aliceApp.id}`, { session: bob, body: { name: "Renamed" } }))
        .status,
    ).toBe(200);
    const demoteOwner = await t.request(
      "PATCH",
      `/api/workspaces/${alice.workspaceId}/members/${alice.accountId}`,
      {
        session: bob,
        body: { role: "member" },
      },
    );
    expect(demoteOwner.status).toBe(403);
    const lastOwner = await t.request(
      "PATCH",
      `/api/workspaces/${alice.workspaceId}/members/${alice.accountId}`,
      {
        session: alice,
        body: { role: "admin" },
      },
    );
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.code).toBe("last_owner");
    const removed = await t.request(
      "DELETE",
      `/api/workspaces/${alice.workspaceId}/members/${bob.accountId}`,
      { session: alice },
    );
    expect(removed.status).toBe(204);
    expect((await t.request("GET", `/api/apps/${aliceApp.id}`, { session: bob })).status).toBe(404);
  });

  it("creates apps with a secret key shown once and stored hashed, and rotates it", async () => {
    const created = await t.createApp(alice, { name: "Keys" });
    expect(created.secretKey).toMatch(/^sk_/);
    expect(created.publishableKey).toMatch(/^pk_/);
    const fetched = await t.request("GET", `/api/apps/${created.id}`, { session: alice });
    expect(JSON.stringify(fetched.body)).not.toContain(created.secretKey);
    expect(fetched.body.secretKeyHint).toBe(`sk_…${created.secretKey.slice(-4)}`);
    const rotated = await t.request("POST", `/api/apps/${created.id}/secret-key`, { session: alice });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secretKey).not.toBe(created.secretKey);
    const audit = await t.request("GET", `/api/workspaces/${alice.workspaceId}/audit`, { session: alice });
    const events = audit.body.events as { action: string; actor: { email: string } | null }[];
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(["app.created", "app.secret_key_rotated"]),
    );
    expect(events.find((e) => e.action === "app.secret_key_rotated")!.actor).toMatchObject({
      email: "alice@example.com",
    });
    expect(JSON.stringify(audit.body)).not.toContain(rotated.body.secretKey as string);
  });

  it("creates workspaces, and deletes apps", async () => {
    const ws = await t.request("POST", "/api/workspaces", { session: alice, body: { name: "Second" } });
    expect(ws.status).toBe(201);
    expect(ws.body).toMatchObject({ name: "Second", role: "owner" });
    const app = await t.createApp({ ...alice, workspaceId: String(ws.body.id) }, { name: "Doomed" });
    expect((await t.request("DELETE", `/api/apps/${app.id}`, { session: alice })).status).toBe(204);
    expect((await t.request("GET", `/api/apps/${app.id}`, { session: alice })).status).toBe(404);
    const login = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email: "x@example.com" },
    });
    expect(login.status).toBe(401);
  });

  it("lets the operator unlock a feature, and nobody else", async () => {
    const path = `/api/operator/workspaces/${alice.workspaceId}/features`;
    const body = { feature: "custom-email-provider", enabled: true };
    expect((await t.request("POST", path, { body })).status).toBe(401);
    expect(
      (await t.request("POST", path, { body, headers: { authorization: "Bearer not-the-token-at-all" } }))
        .status,
    ).toBe(401);
    expect((await t.request("POST", path, { body, session: alice })).status).toBe(401);
    const ok = await t.request("POST", path, {
      body,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.features).toEqual({ "custom-email-provider": true });
    const unknown = await t.request("POST", path, {
      body: { feature: "teleport", enabled: true },
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(unknown.status).toBe(400);
    const missing = await t.request("POST", "/api/operator/workspaces/ws_nope/features", {
      body,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    });
    expect(missing.status).toBe(404);
  });

  it("signs out: the cookie stops working", async () => {
    const s = await t.signIn("leaving@example.com");
    expect((await t.request("POST", "/api/auth/logout", { session: s })).status).toBe(204);
    expect((await t.request("GET", "/api/me", { session: s })).status).toBe(401);
  });

  it("signs in with the dashboard magic link once", async () => {
    const start = await t.request("POST", "/api/auth/email", { body: { email: "linker@example.com" } });
    expect(start.status).toBe(202);
    const { link } = await t.latestLoginEmail("linker@example.com");
    const url = new URL(link);
    expect(url.pathname).toBe("/api/auth/email/link");
    const browser = String(start.headers["set-cookie"]).split(";")[0]!;
    expect(browser).toMatch(/^postern_browser=/);
    const form = {
      rawBody: new URLSearchParams({ token: url.searchParams.get("token")! }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: browser },
    };
    const first = await t.request("POST", url.pathname, form);
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/");
    expect(String(first.headers["set-cookie"])).toMatch(/postern_session=/);
    const second = await t.request("POST", url.pathname, form);
    expect(second.status).toBe(400);
    expect(second.text).toContain("This link can no longer be used");
  });
});

describe("invite-only sign-up", () => {
  it("sends no email to an unknown address but answers the same, and lets invited accounts in", async () => {
    const t = await startTestPostern("pglite", { POSTERN_SIGNUP: "invite" });
    try {
      const stranger = await t.request("POST", "/api/auth/email", {
        body: { email: "stranger@example.com" },
      });
      expect(stranger.status).toBe(202);
      expect(Object.keys(stranger.body).sort()).toEqual(["expiresAt", "loginId"]);
      // Its delivery goes through the queue like a real one, and is suppressed there.
      const decoys = await queryRows<{ id: string; status: string }>(
        t.postern.ctx.db,
        sql`select id, status from deliveries where recipient = 'stranger@example.com'`,
      );
      expect(decoys.map((d) => d.status)).toEqual(["suppressed"]);
      await queueSettledFor(t.postern, [decoys[0]!.id]);
      expect(t.postern.devMailbox!.list().filter((m) => m.to.includes("stranger@example.com"))).toHaveLength(
        0,
      );
      await t.postern.ctx.db.transaction((tx) => createAccount(tx, canonicalEmail("invited@example.com")));
      const invited = await t.signIn("invited@example.com");
      expect((await t.request("GET", "/api/me", { session: invited })).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
