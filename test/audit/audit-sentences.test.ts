// The audit log reads as sentences: every action the code records has one, naming apps and members
// instead of ids and saying what changed in words.
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUDIT_ACTIONS, type AuditFacts, describeAudit } from "../../src/audit/describe.ts";
import { startTestPostern, type TestPostern } from "../support/harness.ts";

const srcDir = new URL("../../src/", import.meta.url);

/** Every action literal passed to recordAudit anywhere in src, e.g. `action: existing ? "a" : "b"`. */
function recordedActions(): Set<string> {
  const found = new Set<string>();
  for (const file of readdirSync(srcDir, { recursive: true, encoding: "utf8" })) {
    if (!file.endsWith(".ts")) continue;
    const text = readFileSync(new URL(file, srcDir), "utf8");
    for (const call of text.split("recordAudit(").slice(1)) {
      const actionLine = /action:([^\n]+)/.exec(call)?.[1] ?? "";
      for (const [, action] of actionLine.matchAll(/"([a-z_]+\.[a-z_]+)"/g)) found.add(action!);
    }
  }
  return found;
}

const facts = (action: string, changes: Record<string, unknown> = {}): AuditFacts => ({
  action,
  actorAccountId: "acc_actor",
  targetId: action.startsWith("feature.") ? "custom-email-provider" : "app_1",
  changes,
  appName: "Shop",
  targetEmail: "bob@example.com",
});

describe("audit sentences", () => {
  it("has a sentence for every action the code records", () => {
    const recorded = recordedActions();
    expect(recorded.size).toBeGreaterThan(15);
    for (const action of recorded) expect(AUDIT_ACTIONS, `${action} needs a sentence`).toContain(action);
    for (const action of AUDIT_ACTIONS) {
      const sentence = describeAudit(facts(action));
      expect(sentence, action).not.toContain(action);
      expect(sentence, action).not.toMatch(/\b(true|false|undefined|null)\b|app_1|\[object/);
    }
  });

  it("says what a test found in words, not ok and failedStep", () => {
    expect(
      describeAudit(facts("email_provider.tested", { ok: false, saved: true, failedStep: "authenticate" })),
    ).toBe("tested the email provider of “Shop”: it failed at signing in");
    expect(describeAudit(facts("email_provider.tested", { ok: true, saved: false, testEmail: true }))).toBe(
      "tested unsaved email provider settings of “Shop” with a test email: it worked",
    );
  });

  it("lists changed fields by name, with secrets only as changed", () => {
    expect(
      describeAudit(
        facts("email_provider.updated", {
          host: { from: "smtp.a.com", to: "smtp.b.com" },
          password: "(changed)",
          fallbackToDefault: { from: false, to: true },
        }),
      ),
    ).toBe(
      "changed the email provider of “Shop”: the host from smtp.a.com to smtp.b.com; a new password; the fallback to the default sender from off to on",
    );
    expect(
      describeAudit(
        facts("app.updated", { redirectUrls: ["https://a.example/cb"], oidc: { refreshTokens: true } }),
      ),
    ).toBe("changed the app “Shop”: the redirect URLs to https://a.example/cb; the refresh tokens to on");
  });

  it("names a deleted app by the name it had", () => {
    expect(describeAudit({ ...facts("app.deleted", { name: "Old shop" }), appName: null })).toBe(
      "deleted the app “Old shop”",
    );
  });
});

describe("the audit log API", () => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern("pglite");
  });
  afterAll(() => t?.close());

  it("gives each event a summary with app names and member addresses instead of ids", async () => {
    const owner = await t.signIn("owner@example.com");
    const app = await t.createApp(owner, { name: "Shop" });
    const ws = owner.workspaceId;
    await t.request("PATCH", `/api/apps/${app.id}`, { session: owner, body: { name: "Store" } });
    await t.request("POST", `/api/workspaces/${ws}/members`, {
      session: owner,
      body: { email: "bob@example.com", role: "member" },
    });
    const members = await t.request("GET", `/api/workspaces/${ws}/members`, { session: owner });
    const bob = (members.body.members as { accountId: string; email: string }[]).find(
      (m) => m.email === "bob@example.com",
    )!;
    await t.request("PATCH", `/api/workspaces/${ws}/members/${bob.accountId}`, {
      session: owner,
      body: { role: "admin" },
    });
    await t.unlock(ws);
    const audit = await t.request("GET", `/api/workspaces/${ws}/audit`, { session: owner });
    expect(audit.status).toBe(200);
    const summaries = (audit.body.events as { summary: string; actor: { email: string } | null }[]).map(
      (e) => [e.actor?.email ?? "operator", e.summary],
    );
    expect(summaries).toEqual([
      ["operator", "unlocked custom email providers for this workspace"],
      ["owner@example.com", "changed bob@example.com’s role from member to admin"],
      ["owner@example.com", "invited bob@example.com as member"],
      ["owner@example.com", "changed the app “Store”: the name to Store"],
      ["owner@example.com", "created the app “Shop” with redirect URLs https://app.example.com/callback"],
    ]);
  });
});
