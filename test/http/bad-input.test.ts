import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  backends,
  OPERATOR_TOKEN,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";
import { snapshot } from "../support/snapshot.ts";

type OpenApi = {
  paths: Record<
    string,
    Record<string, { requestBody?: unknown; parameters?: { in: string; name: string }[] }>
  >;
};

describe.each(backends)("bad input on every route gets a 4xx problem and changes nothing (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  let routes: { method: string; path: string; hasBody: boolean }[];

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
    });
    session = await t.signIn("fuzz@example.com");
    app = await t.createApp(session);
    await t.unlock(session.workspaceId);
    const doc = (await t.request("GET", "/openapi.json")).body as unknown as OpenApi;
    routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        hasBody: op.requestBody !== undefined,
      })),
    );
  });
  afterAll(() => t?.close());

  const fill = (path: string) =>
    path
      .replace("{workspaceId}", session.workspaceId)
      .replace("{appId}", app.id)
      .replace("{accountId}", session.accountId)
      .replace("{deliveryId}", "dlv_missing")
      .replace("{locale}", "de");
  const headersFor = (path: string): Record<string, string> =>
    path.startsWith("/v1/")
      ? { authorization: `Bearer ${app.publishableKey}` }
      : path.startsWith("/api/operator")
        ? { authorization: `Bearer ${OPERATOR_TOKEN}` }
        : {};

  it("covers the documented routes", () => {
    expect(routes.length).toBeGreaterThan(20);
  });

  it("refuses malformed, oversized, wrongly typed and unknown-key bodies", async () => {
    const before = await snapshot(t);
    const bodies: { name: string; raw: string; type?: string }[] = [
      { name: "malformed", raw: "{not json" },
      { name: "truncated", raw: '{"email": "a@b.c"' },
      { name: "oversized", raw: JSON.stringify({ email: "a@example.com", pad: "x".repeat(200_000) }) },
      { name: "array", raw: "[1,2,3]" },
      { name: "string", raw: '"hello"' },
      { name: "null", raw: "null" },
      { name: "unknown key", raw: JSON.stringify({ surprise: true }) },
      {
        name: "wrong types",
        raw: JSON.stringify({
          email: 42,
          name: {},
          role: [],
          code: 123456,
          loginId: null,
          enabled: "yes",
          feature: 7,
          redirectUrls: "x",
        }),
      },
      {
        name: "hostile strings",
        raw: JSON.stringify({
          email: "a@example.com\r\nBcc: victim@example.com",
          name: "\u0000",
          code: "12345\n",
          loginId: "../../etc/passwd",
        }),
      },
      { name: "text/plain", raw: "email=a@example.com", type: "text/plain" },
    ];
    for (const route of routes.filter((r) => r.hasBody)) {
      for (const body of bodies) {
        const res = await t.request(route.method, fill(route.path), {
          session,
          rawBody: body.raw,
          headers: { ...headersFor(route.path), "content-type": body.type ?? "application/json" },
        });
        const label = `${route.method} ${route.path} with ${body.name}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        expect(res.headers["content-type"], label).toMatch(/application\/problem\+json/);
        expect(res.body.code, label).toEqual(expect.any(String));
        expect(res.body.detail, label).toEqual(expect.any(String));
      }
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("never answers 5xx to hostile paths and query strings", async () => {
    const before = await snapshot(t);
    for (const route of routes) {
      for (const url of [
        fill(route.path).replace(/(ws|app|acc)_[\w-]+/, "%00"),
        fill(route.path).replace(/(ws|app|acc)_[\w-]+/, "x".repeat(500)),
        // Valid ids with hostile query strings only for reads: a valid mutation would rightly succeed.
        ...(route.method === "GET"
          ? [
              `${fill(route.path)}?limit=-1&status=bogus&cursor=%E0%A4%A&token=${"y".repeat(300)}&before=yesterday`,
            ]
          : []),
      ]) {
        // A path without ids stays valid; a valid mutation would rightly succeed.
        if (url === fill(route.path) && route.method !== "GET") continue;
        const res = await t.request(route.method, url, {
          session,
          headers: headersFor(route.path),
          ...(route.hasBody ? { body: {} } : {}),
        });
        expect(res.status, `${route.method} ${url}`).toBeLessThan(500);
      }
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("names the template field and line, the locale and the branding field", async () => {
    const before = await snapshot(t);
    const template = await t.request("PUT", `/api/apps/${app.id}/email-templates/de`, {
      session,
      body: { subject: "Code {{code}}", html: "<p>{{code}}</p>\n<p>{{ userName }}</p>" },
    });
    expect(template.status).toBe(400);
    expect(template.body).toMatchObject({ code: "unknown_variable", field: "html", line: 2, column: 4 });
    const locale = await t.request("GET", `/api/apps/${app.id}/email-templates/en_US`, { session });
    expect(locale.body).toMatchObject({ status: 400, code: "invalid_locale", field: "locale" });
    const login = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email: "x@example.com", locale: "de\r\nBcc: y@example.com" },
    });
    expect(login.body).toMatchObject({ status: 400, code: "invalid_locale", field: "locale" });
    const logo = await t.request("PATCH", `/api/apps/${app.id}/email-settings`, {
      session,
      body: { logoUrl: "http://insecure.example/logo.png" },
    });
    expect(logo.body).toMatchObject({ status: 400, code: "invalid_logo_url", field: "logoUrl" });
    const huge = await t.request("PUT", `/api/apps/${app.id}/email-templates/de`, {
      session,
      rawBody: JSON.stringify({ subject: "x", html: "x".repeat(1_100_000) }),
      headers: { "content-type": "application/json" },
    });
    expect(huge.status).toBe(413);
    expect(await snapshot(t)).toBe(before);
  });

  it("names the offending field", async () => {
    const res = await t.request("POST", "/v1/login/email", {
      headers: { authorization: `Bearer ${app.publishableKey}` },
      body: { email: "not-an-email" },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: "invalid_email",
      field: "email",
      status: 400,
      title: "Bad Request",
    });
    const redirect = await t.request("POST", `/api/workspaces/${session.workspaceId}/apps`, {
      session,
      body: { name: "x", redirectUrls: ["https://ok.example/cb", "ftp://bad.example/"] },
    });
    expect(redirect.status).toBe(400);
    expect(redirect.body.field).toBe("redirectUrls[1]");
    const schemaError = await t.request("POST", `/api/workspaces/${session.workspaceId}/apps`, {
      session,
      body: { name: "", redirectUrls: ["https://ok.example/cb", 7] },
    });
    expect(schemaError.body.field).toBe("name");
    expect(schemaError.body.errors).toEqual([
      { field: "name", message: expect.any(String) },
      { field: "redirectUrls[1]", message: expect.any(String) },
    ]);
  });
});
