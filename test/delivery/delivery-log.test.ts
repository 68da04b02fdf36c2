import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { deliveryLogQuery } from "../../src/delivery/delivery-log.ts";
import { classifySmtpError } from "../../src/mail/smtp-errors.ts";
import { smtpHints } from "../../src/mail/smtp-hints.ts";
import { ALLOWLIST, basicBody, sendLogin } from "../email-provider/support.ts";
import { newPglite } from "../support/database-templates.ts";
import { backends, type Session, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

type View = {
  id: string;
  recipient: string;
  status: string;
  route: string;
  createdAt: string;
  nextAttemptAt: string | null;
  resendable: boolean;
  attempts: {
    outcome: string;
    cause?: { host?: string; port?: number; reason: string };
    hint: string | null;
  }[];
};
type Page = { deliveries: View[]; nextCursor: string | null };

/** A port nothing listens on: taken, then given back. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.each(backends)("the delivery log as a tool (%s)", (backend) => {
  let t: TestPostern;
  let pglite: PGlite | undefined;
  let owner: Session;
  let other: Session;
  let app: { id: string; publishableKey: string };
  let otherApp: { id: string; publishableKey: string };
  const base = Date.parse("2030-01-01T00:00:00Z");

  const list = async (appId: string, query: Record<string, string>, session = owner) =>
    t.request("GET", `/api/apps/${appId}/deliveries?${new URLSearchParams(query)}`, { session });

  async function seed(
    appId: string,
    rows: { recipient: string; status?: string; route?: string; at: number }[],
  ) {
    await t.postern.ctx.db.insert(deliveries).values(
      rows.map((r, i) => ({
        id: `dlv_seed_${appId}_${i}`,
        appId,
        recipient: r.recipient,
        route: (r.route ?? "default") as "default",
        status: (r.status ?? "sent") as "sent",
        expiresAt: new Date(r.at + 600_000),
        createdAt: new Date(r.at),
        updatedAt: new Date(r.at),
      })),
    );
  }

  beforeAll(async () => {
    pglite = backend === "pglite" ? await newPglite() : undefined;
    t = await startTestPostern(
      backend,
      { ...ALLOWLIST, POSTERN_RETRY_BASE_SECONDS: "60" },
      pglite ? { pglite } : {},
    );
    owner = await t.signIn("owner@example.com");
    other = await t.signIn("mallory@example.net");
    app = await t.createApp(owner, { name: "Acme" });
    otherApp = await t.createApp(other, { name: "Other" });
    // 30 rows, two of them at the very same instant (the id breaks the tie).
    await seed(app.id, [
      ...Array.from({ length: 28 }, (_, i) => ({
        recipient: `user${i}@example.com`,
        status: i % 3 === 0 ? "failed" : "sent",
        route: i % 2 === 0 ? "custom" : "default",
        at: base + i * 60_000,
      })),
      { recipient: "tie-a@example.org", at: base + 30 * 60_000 },
      { recipient: "tie-b@example.org", at: base + 30 * 60_000 },
    ]);
    await seed(otherApp.id, [{ recipient: "secret-customer@other.example", status: "failed", at: base }]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("pages by an opaque cursor through every row once, newest first, ties broken by id", async () => {
    const seen: View[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(app.id, { limit: "7", from: "2030-01-01", ...(cursor ? { cursor } : {}) });
      expect(res.status).toBe(200);
      const page = res.body as unknown as Page;
      seen.push(...page.deliveries);
      cursor = page.nextCursor;
      if (cursor) expect(cursor).not.toMatch(/2030|dlv_/);
    } while (cursor);
    expect(seen).toHaveLength(30);
    expect(new Set(seen.map((d) => d.id)).size).toBe(30);
    const order = seen.map((d) => [d.createdAt, d.id].join(" "));
    expect(order).toEqual([...order].sort().reverse());
  });

  it("searches by recipient, exact (canonicalised) and by prefix, and filters by status, route and dates", async () => {
    const exact = (await list(app.id, { recipient: " User1@EXAMPLE.com ", match: "exact" })).body as Page;
    expect(exact.deliveries.map((d) => d.recipient)).toEqual(["user1@example.com"]);
    const prefix = (await list(app.id, { recipient: "USER1" })).body as Page;
    expect(prefix.deliveries.map((d) => d.recipient).sort()).toEqual(
      [
        "user1",
        "user10",
        "user11",
        "user12",
        "user13",
        "user14",
        "user15",
        "user16",
        "user17",
        "user18",
        "user19",
      ]
        .map((u) => `${u}@example.com`)
        .sort(),
    );
    // LIKE's own characters are searched for, not used as wildcards.
    expect(((await list(app.id, { recipient: "user_" })).body as Page).deliveries).toHaveLength(0);
    const failedCustom = (await list(app.id, { status: "failed", route: "custom" })).body as Page;
    expect(failedCustom.deliveries.every((d) => d.status === "failed" && d.route === "custom")).toBe(true);
    expect(failedCustom.deliveries).toHaveLength(5); // i = 0, 6, 12, 18, 24
    const window = (
      await list(app.id, { from: "2030-01-01T00:10:00Z", to: "2030-01-01T00:20:00.000+00:00", limit: "100" })
    ).body as Page;
    expect(window.deliveries.map((d) => d.recipient)).toEqual(
      Array.from({ length: 10 }, (_, i) => `user${19 - i}@example.com`),
    );
  });

  it.each([
    [{ status: "lost" }, "invalid_status", "status"],
    [{ route: "carrier-pigeon" }, "invalid_route", "route"],
    [{ from: "yesterday" }, "invalid_from", "from"],
    [{ to: "2030-02-30T99:00:00Z" }, "invalid_to", "to"],
    [{ from: "2030-01-02", to: "2030-01-01T00:00:00Z" }, "invalid_date_range", "to"],
    [{ recipient: "a".repeat(255) }, "invalid_recipient", "recipient"],
    [{ recipient: "not an address", match: "exact" }, "invalid_recipient", "recipient"],
    [{ match: "fuzzy" }, "invalid_match", "match"],
    [{ limit: "1000" }, "invalid_limit", "limit"],
    [{ cursor: "not-a-cursor" }, "invalid_cursor", "cursor"],
    [{ cursor: "v1.k1.AAAA.AAAA.AAAA" }, "invalid_cursor", "cursor"],
  ])("refuses %j with a 400 whose code names the field", async (query, code, field) => {
    const res = await list(app.id, query as Record<string, string>);
    expect(res.status).toBe(400);
    expect(String(res.headers["content-type"])).toContain("application/problem+json");
    expect(res.body).toMatchObject({ code, field });
  });

  it("never shows, searches, pages or resends another workspace's deliveries", async () => {
    const theirs = `dlv_seed_${otherApp.id}_0`;
    const theirPage = (await list(otherApp.id, { limit: "1" }, other)).body as Page;
    expect(theirPage.deliveries).toHaveLength(1);
    // Their app, my session: the app does not exist for me.
    for (const res of [
      await list(otherApp.id, {}),
      await t.request("GET", `/api/apps/${otherApp.id}/deliveries/${theirs}`, { session: owner }),
      await t.request("POST", `/api/apps/${otherApp.id}/deliveries/${theirs}/resend`, { session: owner }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.text).not.toContain("secret-customer");
    }
    // My app, their ids: no such delivery here.
    for (const res of [
      await t.request("GET", `/api/apps/${app.id}/deliveries/${theirs}`, { session: owner }),
      await t.request("POST", `/api/apps/${app.id}/deliveries/${theirs}/resend`, { session: owner }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.text).not.toContain("secret-customer");
    }
    expect(((await list(app.id, { recipient: "secret" })).body as Page).deliveries).toHaveLength(0);
    // A cursor minted for their app is refused on mine, and mine on theirs.
    const seeded = await t.postern.ctx.db.insert(deliveries).values({
      id: `dlv_seed_${otherApp.id}_1`,
      appId: otherApp.id,
      recipient: "second@other.example",
      route: "default",
      status: "sent",
      expiresAt: new Date(base),
      createdAt: new Date(base + 1),
    });
    expect(seeded).toBeDefined();
    const theirCursor = ((await list(otherApp.id, { limit: "1" }, other)).body as Page).nextCursor!;
    expect(theirCursor).toEqual(expect.any(String));
    const forged = await list(app.id, { cursor: theirCursor });
    expect(forged.status).toBe(400);
    expect(forged.body.code).toBe("invalid_cursor");
    const mine = ((await list(app.id, { limit: "1" })).body as Page).nextCursor!;
    expect((await list(otherApp.id, { cursor: mine }, other)).body.code).toBe("invalid_cursor");
    const tampered = `${mine.slice(0, -3)}${mine.endsWith("A") ? "B" : "A"}AA`;
    expect((await list(app.id, { cursor: tampered })).status).toBe(400);
  });

  it("records where a failed attempt was going and why, with Test connection's hint and the next retry time", async () => {
    await t.unlock(owner.workspaceId);
    const port = await closedPort();
    const put = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session: owner,
      body: basicBody(port),
    });
    expect(put.status).toBe(200);
    const id = await sendLogin(t, app.publishableKey, "unreached@example.com");
    const view = await waitFor(
      async () => {
        const res = await t.request("GET", `/api/apps/${app.id}/deliveries/${id}`, { session: owner });
        const body = res.body as unknown as View;
        return body.status === "retrying" && body.nextAttemptAt ? body : undefined;
      },
      20_000,
      "a retrying delivery",
    );
    const [attempt] = view.attempts;
    expect(attempt!.cause).toEqual({ host: "localhost", port, reason: "refused" });
    expect(attempt!.hint).toBe(
      smtpHints(classifySmtpError(Object.assign(new Error(), { code: "ECONNREFUSED" }))),
    );
    expect(Date.parse(view.nextAttemptAt!)).toBeGreaterThan(Date.now());
    expect(JSON.stringify(view)).not.toContain("s3cret");
    expect(view.resendable).toBe(false);
    const refused = await t.request("POST", `/api/apps/${app.id}/deliveries/${id}/resend`, {
      session: owner,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("delivery_not_resendable");
    await t.request("DELETE", `/api/apps/${app.id}/email-provider`, { session: owner });
  });

  it("resends a failed login as a new login with a new code, rate-limited and audited", async () => {
    // A login whose email failed: its challenge and delivery as the login path wrote them.
    const oldId = await sendLogin(t, app.publishableKey, "resend-me@example.com");
    const first = await t.latestLoginEmail("resend-me@example.com");
    await t.postern.ctx.db.update(deliveries).set({ status: "failed" }).where(eq(deliveries.id, oldId));
    // The address was just sent to: the login path's per-minute budget refuses a resend.
    const limited = await t.request("POST", `/api/apps/${app.id}/deliveries/${oldId}/resend`, {
      session: owner,
    });
    expect(limited.status).toBe(429);
    expect(limited.headers["retry-after"]).toBeDefined();
    // Move the earlier budget events out of the window rather than wait a minute.
    await t.postern.ctx.db.execute(
      sql.raw(
        `update rate_limit_windows set hits = array(select h - interval '2 minutes' from unnest(hits) h) where key like 'addr:%resend-me%'`,
      ),
    );
    const sentAt = Date.now();
    const res = await t.request("POST", `/api/apps/${app.id}/deliveries/${oldId}/resend`, { session: owner });
    expect(res.status).toBe(201);
    const created = res.body as unknown as View;
    expect(created.recipient).toBe("resend-me@example.com");
    // As it is when the response is written: this process's worker may already have taken it.
    expect(["queued", "sending", "sent"]).toContain(created.status);
    expect(created.id).not.toBe(oldId);
    const second = await t.latestLoginEmail("resend-me@example.com", sentAt);
    expect(second.code).not.toBe(first.code);
    const old = await t.request("GET", `/api/apps/${app.id}/deliveries/${oldId}`, { session: owner });
    expect(old.body.status).toBe("failed");
    const audit = await t.request("GET", `/api/workspaces/${owner.workspaceId}/audit`, { session: owner });
    expect(JSON.stringify(audit.body)).toContain("delivery.resent");
    expect(JSON.stringify(audit.body)).toContain(created.id);
  });

  it("answers each filter from an index (the plan, with sequential scans off, never scans the table)", async () => {
    const queries = [
      {},
      { status: "failed" as const },
      { recipient: "user1", match: "prefix" as const },
      { recipient: "user1@example.com", match: "exact" as const },
      { from: new Date(base), to: new Date(base + 3_600_000), route: "custom" as const },
    ];
    for (const query of queries) {
      const { sql: text, params } = deliveryLogQuery(
        t.postern.ctx.db,
        app.id,
        { ...query, limit: 25 },
        {
          micros: String((base + 3_600_000) * 1000),
          id: "dlv_z",
        },
      ).toSQL();
      const plan = await explain(`explain ${text}`, params);
      expect(plan, JSON.stringify(query)).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
      expect(plan, JSON.stringify(query)).not.toMatch(/Seq Scan on deliveries/);
    }
  });

  async function explain(text: string, params: unknown[]): Promise<string> {
    if (pglite) {
      await pglite.exec("set enable_seqscan = off");
      const result = await pglite.query<{ "QUERY PLAN": string }>(text, params);
      await pglite.exec("reset enable_seqscan");
      return result.rows.map((r) => r["QUERY PLAN"]).join("\n");
    }
    const client = new pg.Client({ connectionString: t.databaseUrl });
    await client.connect();
    try {
      await client.query("set enable_seqscan = off");
      const result = await client.query(text, params);
      return result.rows.map((r) => r["QUERY PLAN"]).join("\n");
    } finally {
      await client.end();
    }
  }
});
