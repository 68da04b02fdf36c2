// A fake of Google's OAuth 2.0 token endpoint for the JWT-bearer grant of a service account acting as a
// Workspace user (domain-wide delegation), over HTTPS with the test CA. Protocol facts:
// https://developers.google.com/identity/protocols/oauth2/service-account (RFC 7523).
//
// google-auth-library 10.x posts to the constant https://oauth2.googleapis.com/token and names it as
// the assertion's `aud`; point it here through its `transporter` (a Gaxios instance whose request
// interceptor replaces the URL with `fake.tokenUrl`, see test/fakes-selftest/google.test.ts). The
// assertion is checked as Google does: RS256 signature against the service account's active keys,
// iss, aud, iat/exp (at most an hour, within the allowed clock skew), scope, sub and the delegation.
//
// Error bodies are Google's `{error, error_description}` with the wording Google uses where known.
// Unverified: the status and wording for an unknown `aud`, and for a deleted service account (Google has
// been seen answering "invalid_grant: Invalid grant: account not found").
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { compactVerify, decodeProtectedHeader } from "jose";
import { type CertChoice, tlsCredentials } from "./certs.ts";
import { type FakeServiceAccount, GoogleWorkspace } from "./google-workspace.ts";

export const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/** How far Google lets a client's clock be off (undocumented; a few minutes is what clients see). */
const ALLOWED_SKEW_SECONDS = 300;

export interface GoogleTokenError {
  status: number;
  error: string;
  error_description: string;
}

export const googleTokenErrors = {
  unsupportedGrant: (grant: string): GoogleTokenError => ({
    status: 400,
    error: "unsupported_grant_type",
    error_description: `Invalid grant_type: ${grant}`,
  }),
  badAssertion: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description: "Invalid JWT: Could not parse the assertion.",
  }),
  accountNotFound: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description: "Invalid grant: account not found",
  }),
  disabledClient: (): GoogleTokenError => ({
    status: 401,
    error: "disabled_client",
    error_description: "The OAuth client was disabled.",
  }),
  badSignature: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description: "Invalid JWT Signature.",
  }),
  badAudience: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description: `Invalid JWT: Failed audience check. The expected audience is ${GOOGLE_TOKEN_AUDIENCE}.`,
  }),
  badTime: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description:
      "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
  }),
  badScope: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_scope",
    error_description: "Invalid OAuth scope or ID token audience provided.",
  }),
  unknownUser: (): GoogleTokenError => ({
    status: 400,
    error: "invalid_grant",
    error_description: "Invalid email or User ID",
  }),
  notDelegated: (): GoogleTokenError => ({
    status: 401,
    error: "unauthorized_client",
    error_description:
      "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
  }),
  scopeNotDelegated: (): GoogleTokenError => ({
    status: 401,
    error: "unauthorized_client",
    error_description: "Unauthorized client or scope in request.",
  }),
  unavailable: (status = 503): GoogleTokenError => ({
    status,
    error: "internal_failure",
    error_description: "Backend Error",
  }),
};

/** What an issued access token stands for; Gmail's fake asks for it. */
export interface IssuedToken {
  clientEmail: string;
  clientId: string;
  /** The user the token acts as (`sub`). */
  user: string;
  scopes: string[];
  expiresAt: number;
}

/** The claims of an accepted assertion, for tests that check what a client signed. */
export interface AcceptedGrant {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface GoogleTokenFake extends GoogleWorkspace {
  readonly port: number;
  /** "https://localhost:<port>/token": what POSTERN_GOOGLE_TOKEN_URL holds. */
  readonly tokenUrl: string;
  /** Token requests received (any outcome). */
  readonly tokenRequests: number;
  readonly grants: AcceptedGrant[];
  /** Refusals sent, in order. */
  readonly refusals: GoogleTokenError[];
  expiresIn: number;
  /** Seconds the fake's clock runs ahead of this process's (negative: behind): clock skew. */
  clockOffsetSeconds: number;
  /** Every request gets this until cleared: an outage, or a dropped connection. */
  setFailure(failure: { status: 500 | 503 | 429; retryAfter?: number } | "network" | null): void;
  /** The access token's claims, or why Gmail must refuse it. */
  lookupToken(accessToken: string): { ok: true; token: IssuedToken } | { ok: false; reason: string };
  /** Makes every token issued so far invalid (e.g. the key was rotated). */
  revokeTokens(): void;
  close(): Promise<void>;
}

class Refusal {
  constructor(readonly error: GoogleTokenError) {}
}

export async function startGoogleTokenFake(
  options: { cert?: CertChoice; host?: string; port?: number } = {},
): Promise<GoogleTokenFake> {
  const sockets = new Set<Socket>();
  const issued = new Map<string, IssuedToken>();
  const grants: AcceptedGrant[] = [];
  const refusals: GoogleTokenError[] = [];
  let failure: Parameters<GoogleTokenFake["setFailure"]>[0] = null;
  let tokenRequests = 0;

  const fake = Object.assign(new GoogleWorkspace(), {
    expiresIn: 3599,
    clockOffsetSeconds: 0,
  });
  const nowSeconds = () => Math.floor(Date.now() / 1000) + fake.clockOffsetSeconds;

  async function verifySignature(account: FakeServiceAccount, assertion: string, kid: unknown) {
    const candidates =
      typeof kid === "string" && account.keys.has(kid)
        ? [account.keys.get(kid)!]
        : [...account.keys.values()];
    for (const key of candidates) {
      try {
        await compactVerify(assertion, key, { algorithms: ["RS256"] });
        return;
      } catch {
        // the next key
      }
    }
    throw new Refusal(googleTokenErrors.badSignature());
  }

  async function grant(form: URLSearchParams): Promise<Record<string, unknown>> {
    const grantType = form.get("grant_type") ?? "";
    if (grantType !== JWT_BEARER) throw new Refusal(googleTokenErrors.unsupportedGrant(grantType));
    const assertion = form.get("assertion") ?? "";
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      header = decodeProtectedHeader(assertion) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(assertion.split(".")[1] ?? "", "base64url").toString("utf8"));
    } catch {
      throw new Refusal(googleTokenErrors.badAssertion());
    }
    if (header.alg !== "RS256") throw new Refusal(googleTokenErrors.badSignature());
    const account = fake.serviceAccounts.get(String(claims.iss ?? ""));
    if (!account) throw new Refusal(googleTokenErrors.accountNotFound());
    if (account.disabled) throw new Refusal(googleTokenErrors.disabledClient());
    await verifySignature(account, assertion, header.kid);
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) throw new Refusal(googleTokenErrors.badAudience());
    const { iat, exp } = claims;
    const now = nowSeconds();
    if (
      typeof iat !== "number" ||
      typeof exp !== "number" ||
      exp < iat ||
      exp - iat > 3600 ||
      iat > now + ALLOWED_SKEW_SECONDS ||
      exp < now - ALLOWED_SKEW_SECONDS
    ) {
      throw new Refusal(googleTokenErrors.badTime());
    }
    // Scopes are space-separated (https://developers.google.com/identity/protocols/oauth2/service-account#authorizingrequests).
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ").filter(Boolean) : [];
    if (scopes.length === 0) throw new Refusal(googleTokenErrors.badScope());
    const user = typeof claims.sub === "string" ? fake.user(claims.sub) : undefined;
    if (typeof claims.sub === "string" && (!user || user.suspended)) {
      throw new Refusal(googleTokenErrors.unknownUser());
    }
    const subject = user?.email ?? account.clientEmail;
    if (user) {
      const delegated = fake.delegatedScopes(user.email.split("@")[1]!, account.clientId);
      if (!delegated) throw new Refusal(googleTokenErrors.notDelegated());
      if (!scopes.every((s) => delegated.includes(s)))
        throw new Refusal(googleTokenErrors.scopeNotDelegated());
    }
    grants.push({ header, claims });
    const accessToken = `ya29.c.${randomBytes(48).toString("base64url")}`;
    issued.set(accessToken, {
      clientEmail: account.clientEmail,
      clientId: account.clientId,
      user: subject,
      scopes,
      expiresAt: (now + fake.expiresIn) * 1000,
    });
    return { access_token: accessToken, expires_in: fake.expiresIn, token_type: "Bearer" };
  }

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-cache, no-store, max-age=0, must-revalidate",
      ...headers,
    });
    res.end(JSON.stringify(body));
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    tokenRequests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (failure === "network") {
      req.socket.destroy();
      return;
    }
    if (failure) {
      const error = googleTokenErrors.unavailable(failure.status);
      refusals.push(error);
      const { status, ...body } = error;
      send(res, status, body, failure.retryAfter ? { "retry-after": String(failure.retryAfter) } : {});
      return;
    }
    if (req.method !== "POST" || new URL(req.url ?? "/", "https://localhost").pathname !== "/token") {
      send(res, 404, { error: "not_found" });
      return;
    }
    try {
      send(res, 200, await grant(new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refusals.push(err.error);
      const { status, ...body } = err.error;
      send(res, status, body);
    }
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: "internal_failure", error_description: String(err) });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");
  const port = address.port;

  // A getter is not copied by Object.assign (its value would be): defined on the object itself.
  Object.defineProperty(fake, "tokenRequests", { get: () => tokenRequests });
  return Object.assign(fake as typeof fake & { readonly tokenRequests: number }, {
    port,
    tokenUrl: `https://localhost:${port}/token`,
    grants,
    refusals,
    setFailure(next: Parameters<GoogleTokenFake["setFailure"]>[0]) {
      failure = next;
    },
    lookupToken(accessToken: string) {
      const token = issued.get(accessToken);
      if (!token) return { ok: false as const, reason: "unknown token" };
      if (token.expiresAt <= nowSeconds() * 1000) return { ok: false as const, reason: "expired" };
      return { ok: true as const, token };
    },
    revokeTokens() {
      issued.clear();
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  });
}
