import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostern, type TestPostern } from "../support/harness.ts";

describe("API documentation", () => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern("pglite");
  });
  afterAll(() => t?.close());

  it("describes every route in /openapi.json and renders it at /docs", async () => {
    const doc = await t.request("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths as object);
    for (const expected of [
      "/v1/login/email",
      "/v1/login/email/verify",
      "/v1/login/email/link",
      "/v1/apps/{appId}/jwks.json",
      "/oidc/{appId}/interaction/{uid}",
      "/oidc/{appId}/interaction/{uid}/code",
      "/api/auth/email",
      "/api/auth/email/verify",
      "/api/auth/logout",
      "/api/me",
      "/api/workspaces",
      "/api/workspaces/{workspaceId}/members",
      "/api/workspaces/{workspaceId}/apps",
      "/api/apps/{appId}",
      "/api/apps/{appId}/secret-key",
      "/api/apps/{appId}/deliveries",
      "/api/apps/{appId}/deliveries/{deliveryId}",
      "/api/apps/{appId}/email-settings",
      "/api/apps/{appId}/email-templates",
      "/api/apps/{appId}/email-templates/{locale}",
      "/api/apps/{appId}/email-templates/{locale}/preview",
      "/api/apps/{appId}/email-templates/{locale}/test",
      "/api/operator/workspaces/{workspaceId}/features",
      "/api/dev/inbox",
      "/healthz",
      "/readyz",
    ]) {
      expect(paths).toContain(expected);
    }
    const docs = await t.request("GET", "/docs/");
    expect(docs.status).toBe(200);
    expect(docs.text).toContain("swagger");
  });

  it("documents the template API: its variables, its refusals, and the login's locale", async () => {
    const doc = (await t.request("GET", "/openapi.json")).body as {
      paths: Record<
        string,
        Record<
          string,
          {
            description?: string;
            requestBody?: {
              content: Record<string, { schema: { properties?: Record<string, { description?: string }> } }>;
            };
          }
        >
      >;
    };
    const put = doc.paths["/api/apps/{appId}/email-templates/{locale}"]!.put!;
    expect(put.description).toMatch(/logic-less/);
    expect(put.description).toMatch(/unknown_variable/);
    expect(put.description).toMatch(/100 KB/);
    expect(Object.keys(put.requestBody!.content["application/json"]!.schema.properties!)).toEqual([
      "subject",
      "html",
      "text",
      "version",
    ]);
    const login = doc.paths["/v1/login/email"]!.post!;
    expect(login.requestBody!.content["application/json"]!.schema.properties!.locale!.description).toMatch(
      /Accept-Language/,
    );
  });

  it("answers unknown routes with a problem, not an HTML page", async () => {
    const res = await t.request("GET", "/api/nope");
    expect(res.status).toBe(404);
    expect(res.headers["content-type"]).toMatch(/problem\+json/);
  });
});
