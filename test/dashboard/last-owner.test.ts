import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workspaceMembers } from "../../src/db/schema.ts";
import {
  backends,
  type Response,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";

const ROUNDS = 12;

describe.each(backends)("a workspace always keeps an owner (%s)", (backend) => {
  let t: TestPostern;
  let a: Session;
  let b: Session;
  let workspaceId: string;

  const members = (accountId = "") =>
    `/api/workspaces/${workspaceId}/members${accountId ? `/${accountId}` : ""}`;
  const leave = (who: Session) => t.request("DELETE", members(who.accountId), { session: who });
  const demote = (who: Session, target: Session) =>
    t.request("PATCH", members(target.accountId), { session: who, body: { role: "admin" } });

  async function owners(): Promise<string[]> {
    const rows = await t.postern.ctx.db
      .select({ accountId: workspaceMembers.accountId })
      .from(workspaceMembers)
      .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(workspaceMembers.role, "owner")));
    return rows.map((r) => r.accountId);
  }

  /** Makes both A and B owners again, through whichever of them still is one. */
  async function restoreBothOwners() {
    const [survivor] = await owners();
    const owner = survivor === a.accountId ? a : b;
    const other = owner === a ? b : a;
    const isMember = await t.request("GET", members(), { session: owner });
    const listed = (isMember.body.members as { accountId: string }[]).some(
      (m) => m.accountId === other.accountId,
    );
    const res = listed
      ? await t.request("PATCH", members(other.accountId), { session: owner, body: { role: "owner" } })
      : await t.request("POST", members(), {
          session: owner,
          body: { email: other.email, role: "owner" },
        });
    expect([200, 201]).toContain(res.status);
    expect((await owners()).sort()).toEqual([a.accountId, b.accountId].sort());
  }

  beforeAll(async () => {
    t = await startTestPostern(backend);
    a = await t.signIn("owner-a@example.com");
    workspaceId = a.workspaceId;
    const invited = await t.request("POST", members(), {
      session: a,
      body: { email: "owner-b@example.com", role: "owner" },
    });
    expect(invited.status).toBe(201);
    b = await t.signIn("owner-b@example.com");
  });
  afterAll(() => t?.close());

  async function race(label: string, both: () => [Promise<Response>, Promise<Response>]) {
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all(both());
      const remaining = await owners();
      expect(remaining, `${label}, round ${round}: owners left`).toHaveLength(1);
      const refused = results.filter((r) => r.status >= 400);
      expect(refused, `${label}, round ${round}: ${results.map((r) => r.status)}`).toHaveLength(1);
      expect(refused[0]!.status).toBe(409);
      expect(refused[0]!.body.code).toBe("last_owner");
      await restoreBothOwners();
    }
  }

  it("when both owners leave at once", () => race("leave + leave", () => [leave(a), leave(b)]));

  it("when both owners step down at once", () => race("demote + demote", () => [demote(a, a), demote(b, b)]));

  it("when one owner leaves as the other steps down", () =>
    race("leave + demote", () => [leave(a), demote(b, b)]));

  it("when each owner demotes the other at once: the second is no longer an owner", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const results = await Promise.all([demote(a, b), demote(b, a)]);
      expect(await owners(), `round ${round}: owners left`).toHaveLength(1);
      const refused = results.filter((r) => r.status >= 400);
      expect(refused, `round ${round}: ${results.map((r) => r.status)}`).toHaveLength(1);
      expect(refused[0]!.status).toBe(403);
      expect(refused[0]!.body.code).toBe("role_required");
      await restoreBothOwners();
    }
  });
});
