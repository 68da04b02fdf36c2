import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveries } from "../../src/db/schema.ts";
import { type SmtpServerFake, startSmtpServer } from "../fakes/smtp-server.ts";
import {
  backends,
  queueSettledFor,
  type Session,
  startTestPostern,
  type TestPostern,
  waitFor,
} from "../support/harness.ts";

type DeliveryBody = {
  status: string;
  attempts: { outcome: string; smtpReply?: string; errorClass?: string }[];
  lastError: string | null;
  route: string;
  sender: string;
};

describe.each(backends)("login email delivery through the default sender (%s)", (backend) => {
  let smtp: SmtpServerFake;
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };

  beforeAll(async () => {
    smtp = await startSmtpServer({ security: "starttls", users: { postern: "relay-pass-1" } });
    t = await startTestPostern(backend, {
      POSTERN_DEFAULT_SMTP_URL: `smtp://postern:relay-pass-1@localhost:${smtp.port}`,
      POSTERN_DEFAULT_FROM: "Postern <login@postern.test>",
    });
    // Dashboard sign-in mail also goes to the fake: take its code from there.
    const start = await t.request("POST", "/api/auth/email", { body: { email: "owner@example.com" } });
    const [mail] = await smtp.waitForMessages(1);
    const code = /login code is (\d{6})/.exec(mail!.text ?? "")![1];
    const verified = await t.request("POST", "/api/auth/email/verify", {
      body: { loginId: start.body.loginId, code },
    });
    const cookie = String(verified.headers["set-cookie"]).split(";")[0]!;
    session = {
      cookie,
      csrf: String(verified.body.csrfToken),
      accountId: "",
      email: "owner@example.com",
      workspaceId: "",
    };
    const me = await t.request("GET", "/api/me", { session });
    session.workspaceId = (me.body.workspaces as { id: string }[])[0]!.id;
    app = await t.createApp(session);
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function sendLogin(email: string) {
    const res = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email },
    });
    expect(res.status).toBe(202);
    const [row] = await t.postern.ctx.db
      .select()
      .from(deliveries)
      .where(eq(deliveries.challengeId, String(res.body.loginId)));
    return row!.id;
  }

  async function deliveryWhen(id: string, done: (d: DeliveryBody) => boolean) {
    return waitFor(
      async () => {
        const res = await t.request("GET", `/api/apps/${app.id}/deliveries/${id}`, { session });
        const body = res.body as unknown as DeliveryBody;
        return done(body) ? body : undefined;
      },
      20_000,
      `delivery ${id}`,
    );
  }

  it("goes out over STARTTLS with the operator's credentials and From, and the log says sent", async () => {
    const id = await sendLogin("first@example.com");
    const d = await deliveryWhen(id, (b) => b.status === "sent");
    expect(d).toMatchObject({ route: "default", sender: "Postern <login@postern.test>" });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]!.smtpReply).toMatch(/^250/);
    const mail = smtp.messages.find((m) => m.to.includes("first@example.com"))!;
    expect(mail.from).toEqual({ name: "Postern", address: "login@postern.test" });
    expect(mail.authUser).toBe("postern");
    expect(mail.headers.get("message-id")).toBe(`<${id}@postern.test>`);
  });

  it("retries a 451 and delivers on the next attempt", async () => {
    smtp.replies.push({ code: 451, message: "4.3.0 Try again later" });
    const id = await sendLogin("retry@example.com");
    const d = await deliveryWhen(id, (b) => b.status === "sent");
    expect(d.attempts.map((a) => a.outcome)).toEqual(["retry", "sent"]);
    expect(d.attempts[0]).toMatchObject({
      errorClass: "transient",
      smtpReply: expect.stringMatching(/^451/),
    });
  });

  it("fails a 550 at once, with the server's reason in the log", async () => {
    smtp.replies.push({ code: 550, message: "5.1.1 Mailbox does not exist" });
    const id = await sendLogin("gone@example.com");
    const d = await deliveryWhen(id, (b) => b.status === "failed");
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({
      outcome: "failed",
      errorClass: "permanent",
      smtpReply: expect.stringMatching(/^550 5\.1\.1 Mailbox does not exist/),
    });
    expect(d.lastError).toBeTruthy();
  });

  it("stops retrying once the login has expired", async () => {
    for (let i = 0; i < 20; i++) smtp.replies.push({ code: 451, message: "4.3.0 Busy" });
    const id = await sendLogin("expiring@example.com");
    await deliveryWhen(id, (b) => b.status === "retrying");
    await t.postern.ctx.db
      .update(deliveries)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(deliveries.id, id));
    const d = await deliveryWhen(id, (b) => b.status === "expired");
    const attempts = d.attempts.length;
    await queueSettledFor(t.postern, [id]);
    const later = await deliveryWhen(id, () => true);
    expect(later.attempts.length).toBe(attempts);
    expect(later.status).toBe("expired");
    smtp.replies.length = 0;
  });

  it("lists deliveries newest first, filters by status and pages with a cursor", async () => {
    const all = await t.request("GET", `/api/apps/${app.id}/deliveries?limit=2`, { session });
    expect(all.status).toBe(200);
    const page = all.body as { deliveries: { id: string; createdAt: string }[]; nextCursor: string };
    expect(page.deliveries).toHaveLength(2);
    expect(page.nextCursor).toBeTruthy();
    const next = await t.request(
      "GET",
      `/api/apps/${app.id}/deliveries?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`,
      { session },
    );
    const nextIds = (next.body.deliveries as { id: string }[]).map((d) => d.id);
    expect(nextIds).not.toContain(page.deliveries[0]!.id);
    const failed = await t.request("GET", `/api/apps/${app.id}/deliveries?status=failed`, { session });
    expect((failed.body.deliveries as { status: string }[]).every((d) => d.status === "failed")).toBe(true);
    expect((failed.body.deliveries as unknown[]).length).toBeGreaterThan(0);
    const json = JSON.stringify(all.body);
    expect(json).not.toMatch(/sealed|payload/i);
  });
});

describe("an email enqueued by a process that dies before sending is delivered after restart", () => {
  it("on the embedded default (PGlite data dir)", async () => {
    const { spawnPostern } = await import("../support/process.ts");
    const smtp = await startSmtpServer({ security: "starttls" });
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-crash-"));
    const env = {
      POSTERN_DATA_DIR: dataDir,
      POSTERN_DEFAULT_SMTP_URL: `smtp://localhost:${smtp.port}`,
      POSTERN_RETRY_BASE_SECONDS: "1",
      // If the kill lands mid-attempt, the job is held until it times out; keep that short here.
      POSTERN_JOB_TIMEOUT_SECONDS: "5",
      POSTERN_QUEUE_MAINTENANCE_SECONDS: "1",
    };
    try {
      await smtp.stop(); // the first attempt cannot connect: the email is still owed when the process dies
      const first = await spawnPostern(env);
      const pk = /Publishable\s+(pk_\S+)/.exec(first.output())![1];
      const res = await fetch(`${first.url}/v1/login/email`, {
        method: "POST",
        headers: { authorization: `Bearer ${pk}`, "content-type": "application/json" },
        body: JSON.stringify({ email: "survivor@example.com" }),
      });
      expect(res.status).toBe(202);
      await first.kill("SIGKILL");
      await smtp.restart();
      const second = await spawnPostern(env);
      try {
        const [mail] = await smtp.waitForMessages(1, 60_000);
        expect(mail!.to).toContain("survivor@example.com");
      } finally {
        await second.kill();
      }
    } finally {
      await smtp.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("on PostgreSQL (an API process enqueues and dies; a worker delivers)", async () => {
    const { spawnPostern } = await import("../support/process.ts");
    const smtp = await startSmtpServer({ security: "starttls" });
    // Creates and migrates a fresh database; the processes below share it.
    const seeded = await startTestPostern("postgres", {}, { workers: false });
    const dataDir = mkdtempSync(path.join(tmpdir(), "postern-crash-"));
    const env = {
      DATABASE_URL: seeded.databaseUrl!,
      POSTERN_DATA_DIR: dataDir,
      POSTERN_SECRET_KEY: seeded.postern.ctx.config.secretKey!,
      POSTERN_DEFAULT_SMTP_URL: `smtp://localhost:${smtp.port}`,
      POSTERN_SEED_DEMO: "true",
    };
    try {
      const api = await spawnPostern(env, ["--role", "api"]);
      const pk = /Publishable\s+(pk_\S+)/.exec(api.output())![1];
      const res = await fetch(`${api.url}/v1/login/email`, {
        method: "POST",
        headers: { authorization: `Bearer ${pk}`, "content-type": "application/json" },
        body: JSON.stringify({ email: "queued@example.com" }),
      });
      expect(res.status).toBe(202);
      await api.kill("SIGKILL");
      expect(smtp.messages).toHaveLength(0);
      const worker = await spawnPostern(env, ["--role", "worker"]);
      try {
        const [mail] = await smtp.waitForMessages(1, 30_000);
        expect(mail!.to).toContain("queued@example.com");
      } finally {
        await worker.kill();
      }
    } finally {
      await seeded.close();
      await smtp.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
