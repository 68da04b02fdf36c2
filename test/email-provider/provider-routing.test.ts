import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailProviders } from "../../src/db/schema.ts";
import type { DeliveryRoute, HeldRoute } from "../../src/delivery/routes.ts";
import { readOperatorSettings } from "../../src/email-provider/kinds/index.ts";
import { ProviderRouting } from "../../src/email-provider/routing.ts";
import type { ErrorClass } from "../../src/mail/smtp-errors.ts";
import { type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ALLOWLIST, basicBody } from "./support.ts";

const FAILING_SINCE = new Date("2030-01-01T08:00:00Z");

describe("which route a login email takes", () => {
  let t: TestPostern;
  let owner: Session;
  let withProvider: string;
  let withoutProvider: string;
  let routing: ProviderRouting;
  const defaultRoute: DeliveryRoute = {
    route: "default",
    from: { name: "Postern", address: "no-reply@postern.localhost" },
    sender: {
      send: async () => {
        throw new Error("nothing is sent in these tests");
      },
      close: async () => {},
    },
  };

  beforeAll(async () => {
    t = await startTestPostern("pglite", ALLOWLIST);
    owner = await t.signIn("owner@acme.example");
    withProvider = (await t.createApp(owner, { name: "Acme" })).id;
    withoutProvider = (await t.createApp(owner, { name: "Acme Tools" })).id;
    await t.unlock(owner.workspaceId);
    // Port 9 (discard): nothing connects, since resolving a route opens no connection.
    const saved = await t.request("PUT", `/api/apps/${withProvider}/email-provider`, {
      session: owner,
      body: basicBody(9),
    });
    expect(saved.status, saved.text).toBe(200);
    routing = new ProviderRouting(
      t.postern.ctx,
      () => defaultRoute,
      t.postern.metrics,
      { allowlist: [], trustedEndpoints: [] },
      readOperatorSettings(t.postern.ctx.config.operatorEnv),
    );
  }, 60_000);
  afterAll(async () => {
    await routing?.close();
    await t?.close();
  });

  const configurationCauses: ErrorClass[] = ["auth", "tls", "blocked", "token"];
  const reachCauses: ErrorClass[] = ["network", "timeout"];
  type Row = {
    rule: string;
    app?: "without provider";
    featureOn?: boolean;
    health: "unknown" | "working" | "failing";
    cause?: ErrorClass | null;
    fallbackToDefault?: boolean;
    expected: "default" | "custom" | "held" | "default with note";
  };
  const rows: Row[] = [
    {
      rule: "an app without a provider uses the default sender",
      app: "without provider",
      health: "unknown",
      expected: "default",
    },
    {
      rule: "a workspace whose feature was switched off keeps its provider unused",
      featureOn: false,
      health: "working",
      expected: "default",
    },
    { rule: "a provider never tried yet is used", health: "unknown", expected: "custom" },
    { rule: "a working provider is used", health: "working", expected: "custom" },
    {
      rule: "a working provider with a fallback is used, fallback in hand",
      health: "working",
      fallbackToDefault: true,
      expected: "custom",
    },
    ...configurationCauses.map(
      (cause): Row => ({
        rule: `failing for its configuration (${cause}) without a fallback: emails are held until it works`,
        health: "failing",
        cause,
        expected: "held",
      }),
    ),
    {
      rule: "failing for a cause not recorded, without a fallback: held, as for a configuration cause",
      health: "failing",
      cause: null,
      expected: "held",
    },
    ...reachCauses.map(
      (cause): Row => ({
        rule: `failing to be reached (${cause}) without a fallback: each email still tries it on its own backoff`,
        health: "failing",
        cause,
        expected: "custom",
      }),
    ),
    ...[...configurationCauses, ...reachCauses].map(
      (cause): Row => ({
        rule: `failing (${cause}) with a fallback: the default sender, with a note saying why`,
        health: "failing",
        cause,
        fallbackToDefault: true,
        expected: "default with note",
      }),
    ),
  ];

  it.each(rows)("$rule", async (row) => {
    await t.unlock(owner.workspaceId, row.featureOn ?? true);
    await t.postern.ctx.db
      .update(emailProviders)
      .set({
        health: row.health,
        healthCause: row.health === "failing" ? (row.cause ?? null) : null,
        healthReason: row.health === "failing" ? "535 5.7.8 Authentication failed" : null,
        healthAt: row.health === "unknown" ? null : FAILING_SINCE,
        fallbackToDefault: row.fallbackToDefault ?? false,
      })
      .where(eq(emailProviders.appId, withProvider));

    const resolved = await routing.resolve(row.app ? withoutProvider : withProvider);

    switch (row.expected) {
      case "default":
        expect(resolved).toBe(defaultRoute);
        break;
      case "held":
        expect(resolved).toEqual({
          route: "custom",
          held: { reason: "535 5.7.8 Authentication failed", since: FAILING_SINCE },
        } satisfies HeldRoute);
        break;
      case "custom": {
        const route = resolved as DeliveryRoute;
        expect(route).not.toHaveProperty("held");
        expect(route.route).toBe("custom");
        expect(route.from).toEqual({ name: "Acme Login", address: "login@acme.example" });
        if (row.fallbackToDefault)
          expect(route.fallback).toMatchObject({ route: "default", note: expect.any(String) });
        else expect(route).not.toHaveProperty("fallback");
        break;
      }
      case "default with note":
        expect(resolved).toMatchObject({
          route: "default",
          from: defaultRoute.from,
          note: "The custom provider is failing (535 5.7.8 Authentication failed), so this email went out through the default sender.",
        });
        break;
    }
  });

  it("a send without an app (a dashboard sign-in) uses the default sender", async () => {
    expect(await routing.resolve(null)).toBe(defaultRoute);
  });
});
