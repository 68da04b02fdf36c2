// Owners rename and delete their workspace; deleting removes everything of it (apps, providers,
// deliveries, members) and nothing of anyone else's.
import { count, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apps, deliveries, emailProviders, workspaceMembers } from "../../src/db/schema.ts";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

describe.each(backends)("renaming and deleting a workspace (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let admin: Session;
  let outsider: Session;

  beforeAll(async () => {
    t = await startTestPostern(backend, ALLOWLIST);
    owner = await t.signIn("owner@example.com");
    admin = await t.signIn("admin@example.com");
    outsider = await t.signIn("outsider@example.com");
    const invited = await t.request("POST", `/api/workspaces/${owner.workspaceId}/members`, {
      session: owner,
      body: { email: "admin@example.com", role: "admin" },
    });
    expect(invited.status).toBe(201);
  });
  afterAll(() => t?.close());

  it("lets an owner rename the workspace, records it, and refuses an admin or an empty name", async () => {
    const path = `/api/workspaces/${owner.workspaceId}`;
    const renamed = await t.request("PATCH", path, { session: owner, body: { name: "  Acme  " } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: owner.workspaceId, name: "Acme" });
    const audit = await t.request("GET", `${path}/audit`, { session: owner });
    expect(JSON.stringify(audit.body)).toContain("workspace.renamed");

    const byAdmin = await t.request("PATCH", path, { session: admin, body: { name: "Mine" } });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.code).toBe("role_required");
    const empty = await t.request("PATCH", path, { session: owner, body: { name: "   " } });
    expect(empty.status).toBe(400);
    expect(empty.body.field).toBe("name");
    const stranger = await t.request("PATCH", path, { session: outsider, body: { name: "Taken" } });
    expect(stranger.status).toBe(404);
  });

  it("deletes a workspace with its apps, providers, deliveries and members, owners only", async () => {
    const doomed = await t.createApp(owner, { name: "Doomed" });
    await t.unlock(owner.workspaceId);
    const provider = await t.request("PUT", `/api/apps/${doomed.id}/email-provider`, {
      session: owner,
      body: basicBody(2525),
    });
    expect(provider.status).toBe(200);
    const login = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${doomed.publishableKey}` },
      body: { email: "someone@example.net" },
    });
    expect(login.status).toBe(202);
    const kept = await t.createApp(outsider, { name: "Someone else's" });

    const path = `/api/workspaces/${owner.workspaceId}`;
    expect((await t.request("DELETE", path, { session: admin })).status).toBe(403);
    expect((await t.request("DELETE", path, { session: outsider })).status).toBe(404);
    const deleted = await t.request("DELETE", path, { session: owner });
    expect(deleted.status).toBe(204);

    const db = t.postern.ctx.db;
    expect((await db.select({ n: count() }).from(apps).where(eq(apps.id, doomed.id)))[0]!.n).toBe(0);
    expect(
      (await db.select({ n: count() }).from(emailProviders).where(eq(emailProviders.appId, doomed.id)))[0]!.n,
    ).toBe(0);
    expect(
      (await db.select({ n: count() }).from(deliveries).where(eq(deliveries.appId, doomed.id)))[0]!.n,
    ).toBe(0);
    expect(
      (
        await db
          .select({ n: count() })
          .from(workspaceMembers)
          .where(eq(workspaceMembers.workspaceId, owner.workspaceId))
      )[0]!.n,
    ).toBe(0);
    expect((await t.request("GET", path, { session: owner })).status).toBe(404);
    expect((await t.request("GET", `/api/apps/${doomed.id}`, { session: owner })).status).toBe(404);
    // Accounts and other workspaces stay.
    const me = await t.request("GET", "/api/me", { session: admin });
    expect(me.status).toBe(200);
    expect(
      (
        await db
          .select({ n: count() })
          .from(apps)
          .where(inArray(apps.id, [kept.id]))
      )[0]!.n,
    ).toBe(1);
  });
});
