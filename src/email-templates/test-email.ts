import type { Account } from "../accounts/accounts.ts";
import { requireApp } from "../apps/apps.ts";
import { recordAudit } from "../audit/audit.ts";
import type { Context } from "../context.ts";
import { transactionExecutor } from "../db/connection.ts";
import { deliveries } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { CODE_TTL_SECONDS, type LoginEmailPayload, payloadContext } from "../mail/login-email.ts";
import { checkTemplate, type TemplateSource } from "../mail/templates/check.ts";
import { consumeSlidingLimits } from "../security/rate-limit.ts";
import { randomId } from "../security/tokens.ts";
import { templateInvalid } from "./errors.ts";
import type { TestBody } from "./model.ts";
import { draftTemplate, SAMPLE_CODE, SAMPLE_IP, SAMPLE_LINK_TOKEN } from "./sample.ts";

/** A test email's sealed payload: sample values and the template it was sent from (possibly unsaved). */
export interface TemplateTestPayload extends LoginEmailPayload {
  template: TemplateSource;
}

/**
 * Sends the template (as the editor shows it) to the signed-in developer through the app's real
 * route: it is queued like a login email, so the worker sends it through the custom provider or the
 * default sender, and the delivery log shows it (as a test) with every attempt.
 */
export async function sendTemplateTest(
  ctx: Context,
  account: Account,
  appId: string,
  locale: string,
  body: TestBody,
) {
  const app = await requireApp(ctx.db, account.id, appId, "admin");
  const draft = await draftTemplate(ctx, appId, locale, body);
  if (!draft) throw notFound("app");
  const problems = checkTemplate(draft.template);
  if (problems.length > 0) throw templateInvalid(problems);

  const now = ctx.now();
  const deliveryId = randomId("dlv");
  const payload: TemplateTestPayload = {
    code: SAMPLE_CODE,
    linkToken: SAMPLE_LINK_TOKEN,
    requestIp: SAMPLE_IP,
    template: draft.template,
  };
  await ctx.db.transaction(async (tx) => {
    await consumeSlidingLimits(
      tx,
      [
        {
          key: `template-test:${appId}`,
          limit: ctx.config.limits.providerTestsPerMinute,
          windowSeconds: 60,
          message: "Too many test emails for this app; wait a minute.",
        },
      ],
      now,
    );
    await tx.insert(deliveries).values({
      id: deliveryId,
      appId,
      challengeId: null,
      recipient: account.email,
      sender: ctx.config.defaultFrom,
      route: "default",
      status: "queued",
      purpose: "template_test",
      locale: draft.language,
      sealedPayload: ctx.secrets.seal(JSON.stringify(payload), payloadContext(deliveryId)),
      expiresAt: new Date(now.getTime() + CODE_TTL_SECONDS * 1000),
      createdAt: now,
      updatedAt: now,
    });
    await ctx.queue.enqueue({ deliveryId }, { within: transactionExecutor(tx) });
    await recordAudit(
      tx,
      {
        workspaceId: app.workspaceId,
        actorAccountId: account.id,
        action: "email_template.test_sent",
        targetType: "app",
        targetId: appId,
        changes: { locale: draft.language, deliveryId },
      },
      now,
    );
  });
  ctx.queue.wakeLocalWorkers();
  return { deliveryId, recipient: account.email, locale: draft.language };
}
