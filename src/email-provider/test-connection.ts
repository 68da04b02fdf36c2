import { and, eq } from "drizzle-orm";
import type { Account } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { accounts, workspaceMembers } from "../db/schema.ts";
import { invalid } from "../errors.ts";
import { escapeHtml } from "../html-escape.ts";
import { messageIdFor, type OutgoingEmail } from "../mail/sender.ts";
import { blameOf } from "../mail/smtp-errors.ts";
import type { TestStep } from "../mail/test-steps.ts";
import { consumeSlidingLimits } from "../security/rate-limit.ts";
import { randomId } from "../security/tokens.ts";
import { isFeatureEnabled } from "../workspaces/workspaces.ts";
import { recordHealth } from "./health.ts";
import { kindOfBody, kindOfRow, type ProviderBody } from "./kinds/index.ts";
import type { KindEnvironment, ProviderKind } from "./kinds/kind.ts";
import { effectiveSenderName } from "./model.ts";
import { openSecrets, providerSecretContext } from "./secrets.ts";
import { addressedProvider, FEATURE, featureLocked, recordLastTest, type TestResult } from "./service.ts";
import { checkSender, prepareBody, resolveSecrets } from "./validation.ts";

/** Test emails go only to the workspace's own people, so a test cannot send mail to strangers. */
async function isWorkspaceMemberAddress(ctx: Context, workspaceId: string, email: string) {
  const [member] = await ctx.db
    .select({ id: accounts.id })
    .from(workspaceMembers)
    .innerJoin(accounts, eq(accounts.id, workspaceMembers.accountId))
    .where(and(eq(workspaceMembers.workspaceId, workspaceId), eq(accounts.email, email)))
    .limit(1);
  return member !== undefined;
}

/**
 * Test connection: runs every step against the saved provider, or against an unsaved config from
 * the form (whose secret must be given whenever its destination differs from the saved one).
 */
export async function testEmailProvider(
  ctx: Context,
  env: KindEnvironment,
  account: Account,
  appId: string,
  input: { config?: ProviderBody | undefined; sendTo?: string | undefined; providerId?: string | undefined },
): Promise<TestResult> {
  const app = await requireApp(ctx.db, account.id, appId, "admin");
  if (!(await isFeatureEnabled(ctx.db, app.workspaceId, FEATURE))) throw featureLocked();
  if (input.sendTo !== undefined && !(await isWorkspaceMemberAddress(ctx, app.workspaceId, input.sendTo))) {
    throw invalid(
      "send_to_not_member",
      "A test email can only go to the address of a member of this workspace.",
      "sendTo",
    );
  }
  await ctx.db.transaction((tx) =>
    consumeSlidingLimits(
      tx,
      [
        {
          key: `provider-test:${appId}`,
          limit: ctx.config.limits.providerTestsPerMinute,
          windowSeconds: 60,
          message: "Too many connection tests for this app; wait a minute.",
        },
      ],
      ctx.now(),
    ),
  );

  const existing = await addressedProvider(ctx, appId, input.providerId);
  let kind: ProviderKind;
  let settings: object;
  let secrets: Record<string, string>;
  let senderEmail: string;
  let senderName: string | null | undefined;
  if (input.config) {
    kind = kindOfBody(input.config)!;
    const prepared = await prepareBody(kind, input.config, existing, env);
    if ("problems" in prepared) {
      const [problem] = prepared.problems;
      throw invalid(problem!.code, problem!.message, problem!.field);
    }
    const config = prepared.body;
    settings = kind.settingsOf(config);
    secrets = resolveSecrets(kind, config, existing, (field, sealed) =>
      ctx.secrets.open(sealed, providerSecretContext(appId, field)),
    );
    senderEmail = input.config.senderEmail;
    // The same sender rule as saving: a test email never goes out From a member's dashboard account.
    await checkSender(ctx, app.workspaceId, input.config.senderEmail);
    senderName = input.config.senderName;
    // A refused destination is reported by the resolve step; other invalid settings are a 400.
    const refused = ["blocked_address", "blocked_port", "unresolvable", "invalid_host"];
    const problem = (await kind.validate(settings, env)).find((p) => !refused.includes(p.code));
    if (problem) throw invalid(problem.code, problem.message, problem.field);
  } else {
    if (!existing)
      throw invalid(
        "no_email_provider",
        "There is no saved provider to test; send `config` to test one from the form.",
        "config",
      );
    kind = kindOfRow(existing);
    settings = existing.settings;
    secrets = openSecrets(ctx, appId, existing.sealedSecrets);
    senderEmail = existing.senderEmail;
    senderName = existing.senderName;
  }

  const email: OutgoingEmail | undefined = input.sendTo
    ? {
        from: { name: effectiveSenderName(senderEmail, senderName), address: senderEmail },
        to: input.sendTo,
        subject: `Postern test email for ${app.name}`,
        text: `This test email was sent by Postern through the custom email provider of ${app.name}.\nLogin emails for ${app.name} will come from this sender.\n`,
        html: "",
        messageId: messageIdFor(randomId("test"), senderEmail),
      }
    : undefined;
  const steps = await runConnectionSteps(env, appId, { kind, settings, secrets, senderEmail }, email);

  const failed = steps.find((s) => s.outcome === "failed");
  const result: TestResult = { ok: !failed, testedAt: ctx.now().toISOString(), steps };
  if (!input.config && existing) {
    await recordLastTest(ctx, existing.id, existing.version, result);
    if (!failed) await recordHealth(ctx, existing, existing.version, { ok: true });
    else if (failed.errorClass && blameOf(failed.errorClass) === "provider") {
      await recordHealth(ctx, existing, existing.version, {
        ok: false,
        reason: failed.detail ?? "The connection test failed.",
        cause: failed.errorClass,
      });
    }
  }
  await recordAudit(
    ctx.db,
    {
      workspaceId: app.workspaceId,
      actorAccountId: account.id,
      action: "email_provider.tested",
      targetType: "app",
      targetId: appId,
      changes: {
        ok: result.ok,
        saved: !input.config,
        ...(!input.config && existing ? { providerId: existing.id } : {}),
        ...(failed ? { failedStep: failed.name } : {}),
        ...(input.sendTo ? { testEmail: true } : {}),
      },
    },
    ctx.now(),
  );
  return result;
}

interface ProviderUnderTest {
  kind: ProviderKind;
  settings: object;
  secrets: Record<string, string>;
  senderEmail: string;
}

/** Every step of a connection test through a transport of its own (the kind's steps, e.g. a token, then its protocol's), optionally sending `email`. */
export async function runConnectionSteps(
  env: KindEnvironment,
  appId: string,
  provider: ProviderUnderTest,
  email: OutgoingEmail | undefined,
): Promise<TestStep[]> {
  const { kind, settings, secrets, senderEmail } = provider;
  const transport = kind.open(
    { settings, secrets, senderEmail, versionKey: `test:${appId}:${randomId("t")}` },
    env,
  );
  try {
    return await transport.probe({
      email: email
        ? { ...email, html: `<p>${escapeHtml(email.text).replace(/\n/g, "<br>")}</p>` }
        : undefined,
    });
  } finally {
    await transport.close();
  }
}
