// Certificate credentials for the Microsoft provider through the management API and the worker: a
// certificate Postern generates (its private key created sealed, never shown), one the developer uploads,
// rotation from a secret to a certificate with both tried in order, expiry warnings, and the private key
// found nowhere afterwards. Against the Entra and Exchange fakes, on both backends.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/connection.ts";
import { sendDueCredentialAlerts } from "../../src/email-provider/credential-expiry.ts";
import type { OutgoingEmail } from "../../src/mail/sender.ts";
import {
  backends,
  OPERATOR_TOKEN,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";
import { CLIENT_ID, CLIENT_SECRET, type MicrosoftFakes, startMicrosoftFakes } from "../support/microsoft.ts";
import { ALLOWLIST, deliveryWhen, sendLogin } from "./support.ts";

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

type Step = { name: string; outcome: string; detail?: string; hint?: string };
type View = Record<string, unknown> & {
  credential: string;
  certificatePem: string | null;
  certificate: {
    thumbprintSha1: string;
    thumbprintSha256: string;
    notAfter: string;
    daysLeft: number;
  } | null;
  credentials: { kind: string; primary: boolean; state: string; daysLeft: number | null }[];
  warnings: { code: string; field?: string; message: string }[];
  privateKeySet: boolean;
  clientSecretSet: boolean;
};

describe.each(backends)("Microsoft certificate credentials (%s)", (backend) => {
  let ms: MicrosoftFakes;
  let t: TestPostern;
  let owner: Session;
  let app: { id: string; publishableKey: string };
  let workDir: string;
  const responses: string[] = [];
  const privateKeys: string[] = [];
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await t.request(method, url, { session: owner, ...(body !== undefined ? { body } : {}) });
    responses.push(res.text);
    return res;
  };
  const put = (overrides: Record<string, unknown>) => {
    const { clientSecret: _none, ...body } = ms.providerBody(overrides);
    return call("PUT", `/api/apps/${app.id}/email-provider`, { ...body, ...overrides });
  };
  const test = async () =>
    (await call("POST", `/api/apps/${app.id}/email-provider/test`, {})).body as {
      ok: boolean;
      steps: Step[];
    };
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: workDir, stdio: "pipe" });

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), "postern-cert-api-"));
    ms = await startMicrosoftFakes();
    t = await startTestPostern(backend, { ...ms.env, ...ALLOWLIST, POSTERN_LOG_LEVEL: "trace" });
    owner = await t.signIn("owner@example.com");
    app = await t.createApp(owner, { name: "Contoso" });
    await t.unlock(owner.workspaceId);
  });
  afterAll(async () => {
    await t?.close();
    await ms?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it("generates a certificate whose private key is never shown; once uploaded to Entra, emails go out", async () => {
    const saved = await put({ credential: "certificate", generateCertificate: true });
    expect(saved.status, saved.text).toBe(200);
    const provider = saved.body.provider as View;
    expect(provider).toMatchObject({
      credential: "certificate",
      privateKeySet: true,
      clientSecretSet: false,
    });
    expect(provider.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(provider.certificate?.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
    expect(provider.certificate?.daysLeft).toBeGreaterThan(360);
    expect(saved.text).not.toMatch(/PRIVATE KEY/);

    // Not registered yet: the test says so, naming the thumbprint to upload.
    const before = await test();
    expect(before.ok).toBe(false);
    const token = before.steps.find((s) => s.name === "token")!;
    expect(token.outcome).toBe("failed");
    expect(`${token.detail} ${token.hint}`).toContain("AADSTS700027");
    expect(`${token.detail} ${token.hint}`).toContain(provider.certificate!.thumbprintSha1);

    ms.identity.addCertificate(CLIENT_ID, provider.certificatePem!);
    const after = await test();
    expect(after.steps, JSON.stringify(after.steps)).toContainEqual(
      expect.objectContaining({ name: "token", outcome: "ok" }),
    );
    expect(after.ok, JSON.stringify(after.steps)).toBe(true);
    const id = await sendLogin(t, app.publishableKey, "cert-user@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");

    // Saving other fields keeps the certificate and its key.
    const renamed = await put({
      credential: "certificate",
      senderName: "Contoso Sign-in",
      certificatePem: provider.certificatePem,
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect((renamed.body.provider as View).certificate?.thumbprintSha256).toBe(
      provider.certificate!.thumbprintSha256,
    );
    expect((await test()).ok).toBe(true);
  });

  it("takes the developer's own certificate and key, and names every problem of a bad upload", async () => {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "key.pem",
      "-out",
      "cert.pem",
      "-days",
      "20",
      "-subj",
      "/CN=Contoso Postern",
    );
    const certificatePem = readFileSync(join(workDir, "cert.pem"), "utf8");
    const privateKeyPem = readFileSync(join(workDir, "key.pem"), "utf8");
    privateKeys.push(privateKeyPem);
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "other-key.pem",
      "-out",
      "other.pem",
      "-days",
      "20",
      "-subj",
      "/CN=Other",
    );
    const otherKey = readFileSync(join(workDir, "other-key.pem"), "utf8");

    const mismatched = await put({ credential: "certificate", certificatePem, privateKeyPem: otherKey });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body).toMatchObject({ code: "key_mismatch", field: "privateKeyPem" });
    const noKey = await put({ credential: "certificate", certificatePem });
    expect(noKey.status).toBe(400);
    expect(noKey.body).toMatchObject({ field: "privateKeyPem", code: "secret_required" });
    expect(mismatched.text + noKey.text).not.toContain("PRIVATE KEY-----");

    const saved = await put({ credential: "certificate", certificatePem, privateKeyPem });
    expect(saved.status, saved.text).toBe(200);
    const provider = saved.body.provider as View;
    // 20 days left: the dashboard warns, next to the certificate.
    expect(provider.warnings).toContainEqual(
      expect.objectContaining({ code: "credential_expiring", field: "certificate" }),
    );
    expect(provider.credentials).toEqual([
      expect.objectContaining({ kind: "certificate", primary: true, state: "expiring" }),
    ]);
    ms.identity.addCertificate(CLIENT_ID, provider.certificatePem!);
    expect((await test()).ok).toBe(true);
  });

  it("rotates from a secret to a certificate without downtime: both tried in order, then the old one removed", async () => {
    const secretOnly = await put({ clientSecret: CLIENT_SECRET, clientSecretExpiresOn: inDays(18) });
    expect(secretOnly.status, secretOnly.text).toBe(200);
    expect((secretOnly.body.provider as View).warnings).toContainEqual(
      expect.objectContaining({ code: "credential_expiring", field: "clientSecretExpiresOn" }),
    );
    // The certificate is added first; Entra does not know it yet, so the secret still gets the tokens.
    // The form hides the secret's date once the certificate is chosen: the stored date is kept.
    const both = await put({ credential: "certificate", generateCertificate: true });
    expect(both.status, both.text).toBe(200);
    const provider = both.body.provider as View;
    expect(provider.warnings).toContainEqual(
      expect.objectContaining({ code: "credential_expiring", field: "clientSecretExpiresOn" }),
    );
    expect(provider.credentials.map((c) => [c.kind, c.primary])).toEqual([
      ["certificate", true],
      ["secret", false],
    ]);
    const fallback = await test();
    expect(fallback.ok, JSON.stringify(fallback.steps)).toBe(true);
    const id = await sendLogin(t, app.publishableKey, "rotating@example.com");
    await deliveryWhen(t, owner, app.id, id, (d) => d.status === "sent");

    ms.identity.addCertificate(CLIENT_ID, provider.certificatePem!);
    const done = await put({
      credential: "certificate",
      certificatePem: provider.certificatePem,
      removeOtherCredential: true,
    });
    expect(done.status, done.text).toBe(200);
    expect((done.body.provider as View).credentials.map((c) => c.kind)).toEqual(["certificate"]);
    expect((done.body.provider as View).clientSecretSet).toBe(false);
    expect((await test()).ok).toBe(true);
  });

  it("warns the owners by email once a week from 30 days before a credential expires, and shows days left in /metrics", async () => {
    const saved = await put({
      clientSecret: CLIENT_SECRET,
      clientSecretExpiresOn: inDays(10),
      removeOtherCredential: true,
    });
    expect(saved.status, saved.text).toBe(200);
    const sent: OutgoingEmail[] = [];
    const send = async (email: OutgoingEmail) => {
      sent.push(email);
    };
    const at = (days: number) => ({ ...t.postern.ctx, now: () => new Date(Date.now() + days * 86_400_000) });
    expect(await sendDueCredentialAlerts(at(0), send)).toBe(1);
    expect(sent.map((e) => e.to)).toEqual(["owner@example.com"]);
    expect(sent[0]!.subject).toBe("A credential of Contoso's email provider expires soon");
    expect(sent[0]!.text).toContain(`The client secret expires on ${inDays(10)}`);
    expect(sent[0]!.text).not.toContain(CLIENT_SECRET);
    // Not again within the week, whichever process asks; then again, now as expired.
    expect(await sendDueCredentialAlerts(at(3), send)).toBe(0);
    expect(await sendDueCredentialAlerts(at(12), send)).toBe(1);
    expect(sent[1]!.subject).toBe("A credential of Contoso's email provider has expired");

    const metrics = (
      await t.request("GET", "/metrics", { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })
    ).text;
    expect(metrics).toMatch(/postern_provider_credentials\{state="expiring"\} 1/);
    expect(metrics).toMatch(/postern_provider_credential_days_left_min 1\d/);
  });

  it("leaves no private key in the database, the logs or any response", async () => {
    const tables = await queryRows<{ tablename: string; schemaname: string }>(
      t.postern.ctx.db,
      sql`select schemaname, tablename from pg_tables where schemaname in ('public', 'pgboss')`,
    );
    for (const { schemaname, tablename } of tables) {
      const rows = JSON.stringify(
        await queryRows(t.postern.ctx.db, sql.raw(`select * from "${schemaname}"."${tablename}"`)),
      );
      expect(rows, `${schemaname}.${tablename}`).not.toContain("PRIVATE KEY");
      for (const key of privateKeys) expect(rows).not.toContain(key.split("\n")[1]);
    }
    const logs = t.logs.join("\n");
    expect(logs).not.toContain("PRIVATE KEY");
    for (const text of responses) expect(text).not.toContain("PRIVATE KEY");
  });
});
