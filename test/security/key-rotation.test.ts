import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rotateKeys } from "../../src/cli/rotate-keys.ts";
import { parseKeyring } from "../../src/security/secret-box.ts";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import { startSmtpServer } from "../fakes/smtp-server.ts";
import { startTestPostern } from "../support/harness.ts";

describe("postern keys rotate", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "postern-keys-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("re-seals every secret under a new key, after which the old key is gone and everything still works", async () => {
    const smtp = await startSmtpServer({ security: "starttls", users: { acme: "rotate-me-123" } });
    const env = { ...ALLOWLIST, POSTERN_SECRET_KEY: "", POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100" };
    try {
      const first = await startTestPostern("pglite", env, { dataDir, pgliteOnDisk: true });
      const session = await first.signIn("owner@example.com");
      const app = await first.createApp(session);
      await first.unlock(session.workspaceId);
      const saved = await first.request("PUT", `/api/apps/${app.id}/email-provider`, {
        session,
        body: basicBody(smtp.port, { password: "rotate-me-123" }),
      });
      expect(saved.status).toBe(200);
      await first.close();

      const keyFile = path.join(dataDir, "secret.key");
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const [oldKey] = parseKeyring(readFileSync(keyFile, "utf8"));
      await rotateKeys(first.postern.ctx.config);
      const keys = parseKeyring(readFileSync(keyFile, "utf8"));
      expect(keys).toHaveLength(1);
      expect(keys[0]!.id).not.toBe(oldKey!.id);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);

      const second = await startTestPostern("pglite", env, { dataDir, pgliteOnDisk: true });
      try {
        const again = await second.signIn("owner@example.com");
        const test = await second.request("POST", `/api/apps/${app.id}/email-provider/test`, {
          session: again,
          body: {},
        });
        expect(test.body.ok).toBe(true);
        const login = await second.request("POST", "/v1/login/email", {
          headers: { authorization: `Bearer ${app.publishableKey}` },
          body: { email: "after-rotation@example.com" },
        });
        expect(login.status).toBe(202);
        // The app's provider (sealed password, re-sealed) delivers it.
        const mail = (await smtp.waitForMessages(1)).find((m) =>
          m.to.includes("after-rotation@example.com"),
        )!;
        const code = /login code is (\d{6})/.exec(mail.text ?? "")![1];
        const verified = await second.request("POST", "/v1/login/email/verify", {
          headers: { authorization: `Bearer ${app.publishableKey}` },
          body: { loginId: login.body.loginId, code },
        });
        expect(verified.status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      await smtp.close();
    }
  });
});
