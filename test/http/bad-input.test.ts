import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody } from "../email-provider/support.ts";
import {
  backends,
  OPERATOR_TOKEN,
  type Response,
  type Session,
  startTestPostern,
  type TestPostern,
} from "../support/harness.ts";
import { snapshot } from "../support/snapshot.ts";
import {
  type Answer,
  badFormBodies,
  badJsonBodies,
  badPathValues,
  badQueryValues,
  routeCases,
} from "./bad-input-cases.ts";

type OpenApi = {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, unknown> };
        parameters?: { in: string; name: string }[];
      }
    >
  >;
};

interface Operation {
  key: string;
  method: string;
  path: string;
  body: "json" | "form" | undefined;
  query: string[];
  pathParams: string[];
  answers: Answer;
}

const PROBLEM_CODE = /^[a-z][a-z0-9_]*$/;

/** An OAuth error as oidc-provider answers it: RFC 6749 section 5.2's JSON, never a 5xx. */
function expectOAuthError(res: Response, label: string): void {
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
  expect(String(res.headers["content-type"]), label).toMatch(/^application\/json/);
  expect(res.body.error, label).toMatch(PROBLEM_CODE);
}

/** An error page oidc-provider renders where it cannot trust the redirect (RFC 6749 section 4.1.2.1). */
function expectErrorPage(res: Response, label: string): void {
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
  expect(String(res.headers["content-type"]), label).toMatch(/^text\/html/);
  expect(res.headers.location, label).toBeUndefined();
}

/** A refusal as the route's own standard says: never 5xx; problem+json with a stable code, or an HTML page. */
function expectRefused(res: Response, answers: Answer, label: string, path: string): void {
  const type = String(res.headers["content-type"]);
  // Under /oidc/{appId}, a path the hosted page's routes do not match (a uid past the router's
  // maxParamLength) is oidc-provider's, which answers by its own standard.
  if (path.startsWith("/oidc/") && type.startsWith("application/json")) {
    expectOAuthError(res, label);
    return;
  }
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
  if (answers === "page" && type.startsWith("text/html")) {
    expect(res.text, label).toMatch(/^<!doctype html>/i);
    return;
  }
  // A page route still answers a program's mistake (wrong content type, body too large, a value
  // past the schema's limits) with a problem: no person's browser sends those.
  expect(type, label).toMatch(/^application\/problem\+json/);
  expect(res.body.code, label).toMatch(PROBLEM_CODE);
  expect(res.body.status, label).toBe(res.status);
  expect(res.body.detail, label).toEqual(expect.any(String));
}

describe.each(backends)("bad input on every route gets a 4xx problem and changes nothing (%s)", (backend) => {
  let t: TestPostern;
  let session: Session;
  let app: { id: string; publishableKey: string };
  let providerId: string;
  let operations: Operation[];
  let documented: string[];

  beforeAll(async () => {
    t = await startTestPostern(backend, {
      POSTERN_LIMIT_IP_PER_HOUR: "100000",
      POSTERN_LIMIT_ADDRESS_PER_MINUTE: "100000",
      POSTERN_LIMIT_ADDRESS_PER_HOUR: "100000",
      ...ALLOWLIST,
    });
    session = await t.signIn("fuzz@example.com");
    app = await t.createApp(session);
    await t.unlock(session.workspaceId);
    // A saved provider, so the routes that address one by id reach their body checks.
    const saved = await t.request("PUT", `/api/apps/${app.id}/email-provider`, {
      session,
      body: basicBody(2525),
    });
    expect(saved.status).toBe(200);
    providerId = (saved.body.provider as { id: string }).id;
    const doc = (await t.request("GET", "/openapi.json")).body as unknown as OpenApi;
    documented = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([method, op]) => {
        const key = `${method.toUpperCase()} ${path}`;
        const row = routeCases[key];
        if (!row) return [];
        const content = Object.keys(op.requestBody?.content ?? {});
        const params = op.parameters ?? [];
        return [
          {
            key,
            method: method.toUpperCase(),
            path,
            body: content.includes("application/json")
              ? ("json" as const)
              : content.includes("application/x-www-form-urlencoded")
                ? ("form" as const)
                : undefined,
            query: params.filter((p) => p.in === "query").map((p) => p.name),
            pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
            answers: row.answers,
          },
        ];
      }),
    );
  });
  afterAll(() => t?.close());

  const valid: Record<string, () => string> = {
    workspaceId: () => session.workspaceId,
    appId: () => app.id,
    accountId: () => session.accountId,
    deliveryId: () => "dlv_missing",
    providerId: () => providerId,
    locale: () => "de",
    uid: () => "no-such-interaction",
  };
  const fill = (path: string, override: Record<string, string> = {}) =>
    path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = override[name] ?? valid[name]?.();
      if (value === undefined) throw new Error(`no value for path parameter {${name}} in ${path}`);
      return value;
    });
  const headersFor = (path: string): Record<string, string> =>
    path.startsWith("/v1/")
      ? { authorization: `Bearer ${app.publishableKey}` }
      : path.startsWith("/api/operator")
        ? { authorization: `Bearer ${OPERATOR_TOKEN}` }
        : {};

  it("has a bad-input case, or a reason for none, for every documented operation", () => {
    const missing = documented.filter((key) => !routeCases[key]);
    expect(missing, "operations in /openapi.json with no row in bad-input-cases.ts").toEqual([]);
    const stale = Object.keys(routeCases).filter((key) => !documented.includes(key));
    expect(stale, "rows in bad-input-cases.ts for operations no longer documented").toEqual([]);
    for (const op of operations) {
      const takesInput = op.body !== undefined || op.query.length > 0 || op.pathParams.length > 0;
      const reason = routeCases[op.key]!.noInput;
      if (takesInput) expect(reason, `${op.key} takes input, so it cannot skip its cases`).toBeUndefined();
      else expect(reason, `${op.key} takes no input: say why in its row`).toEqual(expect.any(String));
      const unknownQuery = op.query.filter((name) => !badQueryValues[name]);
      expect(unknownQuery, `${op.key}: query parameters with no bad values`).toEqual([]);
      const unknownPath = op.pathParams.filter((name) => !valid[name]);
      expect(unknownPath, `${op.key}: path parameters with no valid value to start from`).toEqual([]);
    }
  });

  it("refuses malformed, oversized, wrongly typed and unknown-key JSON bodies, naming the field", async () => {
    const before = await snapshot(t);
    for (const op of operations.filter((o) => o.body === "json")) {
      for (const body of badJsonBodies) {
        const res = await t.request(op.method, fill(op.path), {
          session,
          rawBody: body.raw,
          headers: { ...headersFor(op.path), "content-type": body.type ?? "application/json" },
        });
        const label = `${op.key} with ${body.name}`;
        expectRefused(res, "problem", label, op.path);
        if (body.shape) expect(res.body.field, `${label}: the field is named`).toEqual(expect.any(String));
      }
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("refuses wrong content types, oversized and broken forms on the HTML-form routes", async () => {
    const before = await snapshot(t);
    for (const op of operations.filter((o) => o.body === "form")) {
      for (const body of badFormBodies) {
        const res = await t.request(op.method, fill(op.path), {
          rawBody: body.raw,
          headers: { "content-type": body.type, origin: "http://postern.localhost" },
        });
        const label = `${op.key} with ${body.name}`;
        expectRefused(res, op.answers, label, op.path);
        if (body.name === "JSON instead of a form")
          expect(res.body.code, label).toBe("unsupported_media_type");
        if (body.name === "oversized form") expect(res.status, label).toBe(413);
      }
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("refuses every path parameter that can name nothing", async () => {
    const before = await snapshot(t);
    for (const op of operations.filter((o) => o.pathParams.length > 0)) {
      for (const name of op.pathParams) {
        for (const bad of badPathValues) {
          const res = await t.request(op.method, fill(op.path, { [name]: bad }), {
            session,
            headers: headersFor(op.path),
            ...(op.body === "json" ? { body: {} } : {}),
          });
          expectRefused(res, op.answers, `${op.key} with {${name}} = ${bad.slice(0, 20)}`, op.path);
        }
      }
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("refuses wrong query values, naming the parameter", async () => {
    const before = await snapshot(t);
    for (const op of operations.filter((o) => o.query.length > 0)) {
      for (const name of op.query) {
        for (const bad of badQueryValues[name]!) {
          const res = await t.request(op.method, `${fill(op.path)}?${name}=${encodeURIComponent(bad)}`, {
            session,
            headers: headersFor(op.path),
          });
          const label = `${op.key} with ?${name}=${bad.slice(0, 20)}`;
          expectRefused(res, op.answers, label, op.path);
          if (res.body.field !== undefined || op.answers === "problem")
            expect(res.body.field, `${label}: the parameter is named`).toBe(name);
        }
      }
      // A parameter no route documents: refused by the strict query schemas, ignored by none silently.
      const res = await t.request(op.method, `${fill(op.path)}?surprise=1&${op.query[0]}=%00`, {
        session,
        headers: headersFor(op.path),
      });
      expectRefused(res, op.answers, `${op.key} with an unknown parameter`, op.path);
    }
    expect(await snapshot(t)).toBe(before);
  });

  it("answers bad OAuth requests at every endpoint the issuer advertises by OAuth's rules", async () => {
    const before = await snapshot(t);
    const issuer = `/oidc/${app.id}`;
    const discovery = await t.request("GET", `${issuer}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const advertised = Object.entries(discovery.body).filter(
      (entry): entry is [string, string] =>
        /(_endpoint|_uri)$/.test(entry[0]) && typeof entry[1] === "string",
    );
    const form = (raw: string, headers: Record<string, string> = {}) => ({
      rawBody: raw,
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    });
    const callback = "https://app.example.com/callback";
    // What a browser sends; oidc-provider answers a program asking for JSON with JSON.
    const browser = { headers: { accept: "text/html,application/xhtml+xml" } };
    const cases: Record<string, ((path: string) => Promise<void>) | { noInput: string }> = {
      authorization_endpoint: async (path) => {
        for (const query of [
          "",
          "client_id=app_nobody&response_type=code&scope=openid",
          // A redirect_uri the app did not register: an error page, never a redirect to it.
          `client_id=${app.id}&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2Fcb`,
          `client_id=${"x".repeat(3000)}`,
        ])
          expectErrorPage(
            await t.request("GET", `${path}?${query}`, browser),
            `authorization with ${query.slice(0, 60)}`,
          );
        // With the app's own redirect_uri, the error goes back to the app (RFC 6749 section 4.1.2.1).
        const bad = await t.request(
          "GET",
          `${path}?client_id=${app.id}&response_type=bogus&scope=openid&redirect_uri=${encodeURIComponent(callback)}`,
        );
        expect(bad.status).toBeGreaterThanOrEqual(300);
        expect(bad.status).toBeLessThan(400);
        const location = new URL(String(bad.headers.location));
        expect(`${location.origin}${location.pathname}`).toBe(callback);
        expect(location.searchParams.get("error")).toMatch(PROBLEM_CODE);
      },
      token_endpoint: async (path) => {
        for (const raw of [
          "grant_type=bogus",
          `grant_type=authorization_code&client_id=${app.id}&code=garbage&redirect_uri=${encodeURIComponent(callback)}`,
          `grant_type=refresh_token&client_id=${app.id}&refresh_token=${"r".repeat(5000)}`,
          "%E0%A4%A=&=",
        ])
          expectOAuthError(await t.request("POST", path, form(raw)), `token with ${raw.slice(0, 60)}`);
        const asJson = await t.request("POST", path, { body: { grant_type: "authorization_code" } });
        expectOAuthError(asJson, "token with a JSON body");
      },
      userinfo_endpoint: async (path) => {
        for (const authorization of [
          undefined,
          "Bearer garbage",
          "Basic Zm9vOmJhcg==",
          `Bearer ${"t".repeat(5000)}`,
        ]) {
          const res = await t.request("GET", path, authorization ? { headers: { authorization } } : {});
          // RFC 6750 section 3.1: a missing or bad token is 401 invalid_token (or 400 invalid_request).
          expectOAuthError(res, `userinfo with ${authorization?.slice(0, 20)}`);
        }
      },
      jwks_uri: { noInput: "the issuer's public keys: a GET with no parameters" },
      end_session_endpoint: async (path) => {
        expectErrorPage(
          await t.request("GET", `${path}?id_token_hint=garbage`, browser),
          "logout with a bad id_token_hint",
        );
      },
      pushed_authorization_request_endpoint: async (path) => {
        expectOAuthError(await t.request("POST", path, form("response_type=code")), "PAR without a client");
        expectOAuthError(
          await t.request("POST", path, form(`client_id=${app.id}&response_type=code&request_uri=x`)),
          "PAR with a request_uri",
        );
      },
      revocation_endpoint: async (path) => {
        expectOAuthError(await t.request("POST", path, form("token=garbage")), "revocation without a client");
        expectOAuthError(
          await t.request("POST", path, form("token=garbage", { authorization: "Basic Zm9vOmJhcg==" })),
          "revocation with a wrong client",
        );
      },
    };
    const missing = advertised.map(([key]) => key).filter((key) => !cases[key]);
    expect(missing, "endpoints the discovery document advertises with no bad-input case").toEqual([]);
    for (const [key, url] of advertised) {
      const run = cases[key]!;
      if (typeof run === "function") await run(new URL(url).pathname);
    }
    const after = await snapshot(t);
    const changed = after.split("\n").filter((line) => !before.split("\n").includes(line));
    expect(changed.map((line) => line.slice(0, 400))).toEqual([]);
    // Without a client to check it against, a logout's redirect is ignored: oidc-provider shows its
    // confirmation page (and stores that form's secret, so after the snapshot), never a redirect.
    const unchecked = await t.request(
      "GET",
      `${new URL(String(discovery.body.end_session_endpoint)).pathname}?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F`,
      browser,
    );
    expect(unchecked.status).toBeLessThan(300);
    expect(unchecked.headers.location).toBeUndefined();
    expect(unchecked.text).not.toContain("evil.example");
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
