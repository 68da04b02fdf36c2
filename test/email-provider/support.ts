import { and, eq, inArray, sql } from "drizzle-orm";
import { queryRows } from "../../src/db/connection.ts";
import { deliveries } from "../../src/db/schema.ts";
import { type Session, type TestPostern, waitFor } from "../support/harness.ts";

export const ALLOWLIST = { POSTERN_SMTP_ALLOWLIST: "localhost,127.0.0.1/32,::1/128" };

export type ProviderState = {
  locked: boolean;
  defaultSender: string;
  provider:
    | null
    | (Record<string, unknown> & { health: { status: string; reason: string | null }; version: number });
};

export type DeliveryView = {
  status: string;
  route: string;
  sender: string;
  lastError: string | null;
  sentAt: string | null;
  attempts: { outcome: string; route: string; smtpReply?: string; errorClass?: string; message?: string }[];
};

export function basicBody(port: number, overrides: Record<string, unknown> = {}) {
  return {
    type: "smtp_basic",
    senderEmail: "login@acme.example",
    senderName: "Acme Login",
    host: "localhost",
    port,
    security: "starttls",
    username: "acme",
    password: "s3cret-Passw0rd!",
    ...overrides,
  };
}

/** Starts a login for `email` and returns its delivery id. */
export async function sendLogin(t: TestPostern, publishableKey: string, email: string): Promise<string> {
  const res = await t.request("POST", "/v1/login/email", {
    headers: { authorization: `Bearer ${publishableKey}` },
    body: { email },
  });
  if (res.status !== 202) throw new Error(`login failed: ${res.text}`);
  const [row] = await t.postern.ctx.db
    .select()
    .from(deliveries)
    .where(eq(deliveries.challengeId, String(res.body.loginId)));
  return row!.id;
}

export async function deliveryWhen(
  t: TestPostern,
  session: Session,
  appId: string,
  id: string,
  done: (d: DeliveryView) => boolean,
) {
  return waitFor(
    async () => {
      const res = await t.request("GET", `/api/apps/${appId}/deliveries/${id}`, { session });
      const body = res.body as unknown as DeliveryView;
      return done(body) ? body : undefined;
    },
    // Generous: on a loaded CI machine (two suites' Posterns, fakes and Chromium on two cores) one
    // email's few steps have taken over 25 s; a delivery that never comes still fails the test.
    60_000,
    `delivery ${id}`,
  );
}

/**
 * Ends every email of the app an earlier case left waiting, once none is being sent: a case that
 * saves a new provider version then sees only its own email tried against it. Otherwise saving
 * releases the held emails, the first of them fails against the new version before the case's own
 * email is claimed, and that email waits without an attempt, as it should for a provider known to fail.
 */
export async function endEarlierEmails(t: TestPostern, appId: string): Promise<void> {
  await waitFor(
    async () => {
      await t.postern.ctx.db
        .update(deliveries)
        .set({ status: "expired", lastError: "Ended by the test before its next case." })
        .where(and(eq(deliveries.appId, appId), inArray(deliveries.status, ["queued", "retrying"])));
      const sending = await queryRows<{ id: string }>(
        t.postern.ctx.db,
        sql`select id from deliveries where app_id = ${appId} and status = 'sending'`,
      );
      return sending.length === 0 || undefined;
    },
    30_000,
    "no email of the app being sent",
  );
}
