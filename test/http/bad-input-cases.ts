/**
 * What each documented operation gets as bad input, and how it answers it: the table the bad-input
 * test walks. Every operation in `/openapi.json` has a row; one that takes no input says why, so a
 * new route without a row (or a new input on an old one) fails the test by name.
 */

/** `problem`: RFC 9457 problem+json. `page`: an HTML page people see (magic links, hosted login). */
export type Answer = "problem" | "page";

export interface RouteCase {
  /** How bad values in the path, the query and (past the content-type and size checks) the body are answered. */
  answers: Answer;
  /** Why the operation has no bad-input case: only for one that takes no path, query or body. */
  noInput?: string;
}

export const routeCases: Record<string, RouteCase> = {
  "GET /healthz": { answers: "problem", noInput: "liveness: no parameters, nothing a caller can get wrong" },
  "GET /readyz": { answers: "problem", noInput: "readiness: no parameters, nothing a caller can get wrong" },
  "GET /metrics": { answers: "problem", noInput: "Prometheus scrape: no parameters" },
  "GET /v1/apps/{appId}/jwks.json": { answers: "problem" },
  "POST /v1/login/email": { answers: "problem" },
  "POST /v1/login/email/verify": { answers: "problem" },
  "GET /v1/login/email/link": { answers: "page" },
  "POST /v1/login/email/link": { answers: "page" },
  "GET /oidc/{appId}/interaction/{uid}": { answers: "page" },
  "POST /oidc/{appId}/interaction/{uid}/email": { answers: "page" },
  "POST /oidc/{appId}/interaction/{uid}/code": { answers: "page" },
  "POST /oidc/{appId}/interaction/{uid}/resend": { answers: "page" },
  "POST /oidc/{appId}/interaction/{uid}/link": { answers: "page" },
  "POST /oidc/{appId}/interaction/{uid}/abort": { answers: "page" },
  "POST /api/auth/email": { answers: "problem" },
  "POST /api/auth/email/verify": { answers: "problem" },
  "GET /api/session": { answers: "problem", noInput: "reads the session cookie only" },
  "GET /api/auth/email/link": { answers: "page" },
  "POST /api/auth/email/link": { answers: "page" },
  "POST /api/auth/logout": { answers: "problem", noInput: "ends the session of the cookie; no body" },
  "GET /api/me": { answers: "problem", noInput: "reads the session cookie only" },
  "GET /api/workspaces": { answers: "problem", noInput: "lists the signed-in account's workspaces" },
  "POST /api/workspaces": { answers: "problem" },
  "GET /api/workspaces/{workspaceId}": { answers: "problem" },
  "PATCH /api/workspaces/{workspaceId}": { answers: "problem" },
  "DELETE /api/workspaces/{workspaceId}": { answers: "problem" },
  "GET /api/workspaces/{workspaceId}/members": { answers: "problem" },
  "POST /api/workspaces/{workspaceId}/members": { answers: "problem" },
  "PATCH /api/workspaces/{workspaceId}/members/{accountId}": { answers: "problem" },
  "DELETE /api/workspaces/{workspaceId}/members/{accountId}": { answers: "problem" },
  "GET /api/workspaces/{workspaceId}/audit": { answers: "problem" },
  "GET /api/workspaces/{workspaceId}/apps": { answers: "problem" },
  "POST /api/workspaces/{workspaceId}/apps": { answers: "problem" },
  "GET /api/apps/{appId}": { answers: "problem" },
  "PATCH /api/apps/{appId}": { answers: "problem" },
  "DELETE /api/apps/{appId}": { answers: "problem" },
  "POST /api/apps/{appId}/secret-key": { answers: "problem" },
  "GET /api/apps/{appId}/deliveries": { answers: "problem" },
  "GET /api/apps/{appId}/deliveries/{deliveryId}": { answers: "problem" },
  "POST /api/apps/{appId}/deliveries/{deliveryId}/resend": { answers: "problem" },
  "GET /api/email-provider-kinds": {
    answers: "problem",
    noInput: "the registry's forms; the same for every account",
  },
  "GET /api/apps/{appId}/email-provider": { answers: "problem" },
  "PUT /api/apps/{appId}/email-provider": { answers: "problem" },
  "PATCH /api/apps/{appId}/email-provider": { answers: "problem" },
  "DELETE /api/apps/{appId}/email-provider": { answers: "problem" },
  "POST /api/apps/{appId}/email-provider/test": { answers: "problem" },
  "GET /api/apps/{appId}/email-provider/microsoft-guide": { answers: "problem" },
  "GET /api/apps/{appId}/email-provider/google-guide": { answers: "problem" },
  "GET /api/apps/{appId}/email-providers": { answers: "problem" },
  "POST /api/apps/{appId}/email-providers": { answers: "problem" },
  "PUT /api/apps/{appId}/email-providers/order": { answers: "problem" },
  "PUT /api/apps/{appId}/email-providers/{providerId}": { answers: "problem" },
  "PATCH /api/apps/{appId}/email-providers/{providerId}": { answers: "problem" },
  "DELETE /api/apps/{appId}/email-providers/{providerId}": { answers: "problem" },
  "POST /api/apps/{appId}/email-providers/{providerId}/test": { answers: "problem" },
  "GET /api/apps/{appId}/email-settings": { answers: "problem" },
  "PATCH /api/apps/{appId}/email-settings": { answers: "problem" },
  "GET /api/apps/{appId}/email-templates": { answers: "problem" },
  "GET /api/apps/{appId}/email-templates/{locale}": { answers: "problem" },
  "PUT /api/apps/{appId}/email-templates/{locale}": { answers: "problem" },
  "DELETE /api/apps/{appId}/email-templates/{locale}": { answers: "problem" },
  "POST /api/apps/{appId}/email-templates/{locale}/preview": { answers: "problem" },
  "POST /api/apps/{appId}/email-templates/{locale}/test": { answers: "problem" },
  "POST /api/operator/workspaces/{workspaceId}/features": { answers: "problem" },
  "GET /api/dev/inbox": { answers: "problem", noInput: "the development mailbox: lists what it caught" },
};

/** Wrong values (before URL-encoding) for each query parameter any route documents, by name: a new parameter needs its row. */
export const badQueryValues: Record<string, string[]> = {
  token: ["x".repeat(300), "\u0000"],
  step: ["code", "<script>"],
  sent: ["123456789"],
  limit: ["-1", "0", "abc", "1e9", "1.5"],
  before: ["yesterday", "2024-13-45T99:00:00Z"],
  recipient: ["a\u0000b", "x".repeat(300)],
  match: ["fuzzy"],
  status: ["bogus", ""],
  route: ["sideways"],
  from: ["yesterday", "2024-02-30"],
  to: ["soon"],
  cursor: ["x".repeat(600)],
  clientId: ["not-a-guid", "x".repeat(300)],
  tenantId: ["not a tenant", "x".repeat(300)],
  objectId: ["not-a-guid", "x".repeat(300)],
  transport: ["pigeon", "GRAPH", ""],
  clientEmail: ["someone@gmail.com", "x".repeat(300)],
  senderEmail: ["not-an-email", "a@b.c\r\nBcc: v@example.com"],
};

/** A path parameter's value that can name nothing: every route must refuse it with a 4xx. */
export const badPathValues = ["%00", "x".repeat(500), "..%2F..%2Fetc", "nope", "%E0%A4%A"];

/** JSON bodies every JSON route must refuse; `shape` ones fail the schema, which must name the field. */
export const badJsonBodies: { name: string; raw: string; type?: string; shape?: boolean }[] = [
  { name: "malformed", raw: "{not json" },
  { name: "truncated", raw: '{"email": "a@b.c"' },
  { name: "oversized", raw: JSON.stringify({ email: "a@example.com", pad: "x".repeat(1_200_000) }) },
  { name: "array", raw: "[1,2,3]", shape: true },
  { name: "string", raw: '"hello"', shape: true },
  { name: "null", raw: "null", shape: true },
  { name: "unknown key", raw: JSON.stringify({ surprise: true }), shape: true },
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
      subject: 1,
      html: false,
      kind: 3,
      to: 5,
      branding: "x",
      fromName: [],
    }),
    shape: true,
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

/** Form bodies every HTML-form route must refuse without a 5xx. */
export const badFormBodies: { name: string; raw: string; type: string }[] = [
  { name: "JSON instead of a form", raw: '{"token":"x"}', type: "application/json" },
  { name: "oversized form", raw: `token=${"x".repeat(20_000)}`, type: "application/x-www-form-urlencoded" },
  { name: "empty form", raw: "", type: "application/x-www-form-urlencoded" },
  {
    name: "overlong fields",
    raw: new URLSearchParams({
      token: "t".repeat(300),
      code: "1".repeat(100),
      email: "e".repeat(2000),
    }).toString(),
    type: "application/x-www-form-urlencoded",
  },
  {
    name: "hostile fields",
    raw: new URLSearchParams({
      token: "../../x",
      code: "12345\n",
      email: "a@b.c\r\nBcc: v@example.com",
    }).toString(),
    type: "application/x-www-form-urlencoded",
  },
  {
    name: "broken percent-encoding",
    raw: "token=%E0%A4%A&code=%",
    type: "application/x-www-form-urlencoded",
  },
];
