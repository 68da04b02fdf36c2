// A save reports every invalid field at once, so a form never needs a second round to find the next error.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostern, type TestPostern } from "../support/harness.ts";

describe("one-pass validation", () => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern("pglite");
  });
  afterAll(() => t?.close());

  it("names every invalid redirect URL of a new app in one problem", async () => {
    const owner = await t.signIn("owner@example.com");
    const res = await t.request("POST", `/api/workspaces/${owner.workspaceId}/apps`, {
      session: owner,
      body: { name: "Shop", redirectUrls: ["https://ok.example/cb", "not a url", "http://example.com/cb"] },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe("redirectUrls[1]");
    expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual([
      "redirectUrls[1]",
      "redirectUrls[2]",
    ]);
  });

  it("names invalid redirect URLs and branding of an app update together", async () => {
    const owner = await t.signIn("admin@example.com");
    const app = await t.createApp(owner);
    const res = await t.request("PATCH", `/api/apps/${app.id}`, {
      session: owner,
      body: {
        redirectUrls: ["https://a.example/#frag"],
        branding: { logoUrl: "http://example.com/logo.png" },
      },
    });
    expect(res.status).toBe(400);
    expect((res.body.errors as { field: string }[]).map((e) => e.field)).toEqual([
      "redirectUrls[0]",
      "branding.logoUrl",
    ]);
  });
});
