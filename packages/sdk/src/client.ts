import type { LoginSession, LoginStarted, StartLoginRequest } from "./api-types.ts";
import { errorFrom, PosternError } from "./errors.ts";
import { codeChallenge, randomValue } from "./pkce.ts";
import { issuerOf, type PosternClaims, verifyToken } from "./verify.ts";

export interface PosternClientOptions {
  /** Postern's public URL, e.g. https://auth.example.com */
  url: string;
  appId: string;
  /** For the login API from a browser. */
  publishableKey?: string;
  /**
   * Server side only, never in a browser: authenticates at the token endpoint (a confidential client)
   * and may call the login API on behalf of a user's IP.
   */
  secretKey?: string;
  /** How the secret key is sent to the token endpoint; the app's setting in Postern (default basic). */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post";
  clockToleranceSeconds?: number;
  fetch?: typeof fetch;
}

/** What to keep between sending the person to the hosted page and their return (in a session). */
export interface PendingSignIn {
  redirectUri: string;
  codeVerifier: string;
  state: string;
  nonce: string;
}

export interface SignedIn {
  claims: PosternClaims;
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  expiresIn: number;
}

interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint: string;
}

const isBrowser = typeof window !== "undefined" && typeof document !== "undefined";

/** Postern for one app: its login API, its hosted login page (OpenID Connect), its tokens. */
export class PosternClient {
  readonly url: string;
  readonly issuer: string;
  private readonly fetch: typeof fetch;
  private metadata: Promise<ProviderMetadata> | undefined;

  constructor(private readonly options: PosternClientOptions) {
    this.url = options.url.replace(/\/$/, "");
    this.issuer = issuerOf(this.url, options.appId);
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  private apiKey(): string {
    const key = this.options.secretKey ?? this.options.publishableKey;
    if (!key)
      throw new PosternError("no_key", "Give the client a publishableKey (browser) or a secretKey (server).");
    return key;
  }

  private async call<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
    const response = await this.fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.apiKey()}`, "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      // In a browser on the app's site, Postern binds this browser to the login (its magic link
      // then works here with one click): the binding cookie needs credentials.
      ...(isBrowser ? { credentials: "include" as const } : {}),
    });
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as T;
  }

  /** Emails a 6-digit code and a magic link. `clientIp`: the user's address, from a server (secret key). */
  async startLogin(request: StartLoginRequest & { clientIp?: string }): Promise<LoginStarted> {
    const { clientIp, ...body } = request;
    return this.call<LoginStarted>(
      "/v1/login/email",
      body,
      clientIp ? { "x-postern-client-ip": clientIp } : {},
    );
  }

  /** Exchanges the code for a session token (an ES256 JWT; check it on a server with `verifyToken`). */
  async verifyCode(loginId: string, code: string): Promise<LoginSession> {
    return this.call<LoginSession>("/v1/login/email/verify", { loginId, code });
  }

  private discovery(): Promise<ProviderMetadata> {
    this.metadata ??= this.fetch(`${this.issuer}/.well-known/openid-configuration`).then(async (response) => {
      if (!response.ok) throw await errorFrom(response);
      return (await response.json()) as ProviderMetadata;
    });
    return this.metadata;
  }

  /**
   * Where to send the person to sign in on the hosted page (authorization code + PKCE S256), and
   * what to keep until they come back to `redirectUri` (one of the app's allowed redirect URLs).
   */
  async signInUrl(options: {
    redirectUri: string;
    scope?: string;
    loginHint?: string;
    prompt?: "login" | "consent";
  }): Promise<{ url: string; pending: PendingSignIn }> {
    const { authorization_endpoint } = await this.discovery();
    const pending: PendingSignIn = {
      redirectUri: options.redirectUri,
      codeVerifier: randomValue(),
      state: randomValue(),
      nonce: randomValue(),
    };
    const url = new URL(authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: this.options.appId,
      response_type: "code",
      redirect_uri: options.redirectUri,
      scope: options.scope ?? "openid email",
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await codeChallenge(pending.codeVerifier),
      code_challenge_method: "S256",
      ...(options.loginHint ? { login_hint: options.loginHint } : {}),
      ...(options.prompt ? { prompt: options.prompt } : {}),
    }).toString();
    return { url: url.toString(), pending };
  }

  /**
   * The person is back at the redirect URI: checks the answer against what was kept (state, issuer),
   * redeems the code with the PKCE verifier (and the secret key, for a confidential client), and
   * verifies the ID token (signature, issuer, audience, expiry, nonce).
   */
  async handleCallback(callbackUrl: string | URL, pending: PendingSignIn): Promise<SignedIn> {
    const answer = new URL(callbackUrl).searchParams;
    const error = answer.get("error");
    if (error) throw new PosternError(error, answer.get("error_description") ?? error);
    if (answer.get("state") !== pending.state) {
      throw new PosternError("state_mismatch", "This answer is not for the sign-in this session started.");
    }
    const metadata = await this.discovery();
    const iss = answer.get("iss");
    if (iss !== null && iss !== metadata.issuer) {
      throw new PosternError("issuer_mismatch", "The answer comes from another issuer.");
    }
    const code = answer.get("code");
    if (!code) throw new PosternError("invalid_request", "The answer carries no code.");

    const form = new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.codeVerifier,
    });
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    const { secretKey, appId } = this.options;
    if (secretKey && this.options.tokenEndpointAuthMethod !== "client_secret_post") {
      // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
      headers.authorization = `Basic ${btoa(`${encodeURIComponent(appId)}:${encodeURIComponent(secretKey)}`)}`;
    } else {
      form.set("client_id", appId);
      if (secretKey) form.set("client_secret", secretKey);
    }
    const response = await this.fetch(metadata.token_endpoint, {
      method: "POST",
      headers,
      body: form.toString(),
    });
    if (!response.ok) throw await errorFrom(response);
    const tokens = (await response.json()) as {
      id_token: string;
      access_token: string;
      refresh_token?: string;
      expires_in: number;
    };
    const claims = await verifyToken(tokens.id_token, {
      url: this.url,
      appId,
      ...(this.options.clockToleranceSeconds !== undefined
        ? { clockToleranceSeconds: this.options.clockToleranceSeconds }
        : {}),
    });
    if (claims.iss !== metadata.issuer || claims.nonce !== pending.nonce) {
      throw new PosternError("invalid_id_token", "The ID token is not the answer to this sign-in.");
    }
    return {
      claims,
      idToken: tokens.id_token,
      accessToken: tokens.access_token,
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
      expiresIn: tokens.expires_in,
    };
  }

  /** Where to send the person to sign out of the hosted page's session (RP-initiated logout). */
  async signOutUrl(options: { idToken?: string; postLogoutRedirectUri?: string; state?: string } = {}) {
    const { end_session_endpoint } = await this.discovery();
    const url = new URL(end_session_endpoint);
    url.search = new URLSearchParams({
      client_id: this.options.appId,
      ...(options.idToken ? { id_token_hint: options.idToken } : {}),
      ...(options.postLogoutRedirectUri ? { post_logout_redirect_uri: options.postLogoutRedirectUri } : {}),
      ...(options.state ? { state: options.state } : {}),
    }).toString();
    return url.toString();
  }

  /** Verifies a session token or ID token of this app (see `verifyToken`). */
  verifyToken(token: string): Promise<PosternClaims> {
    return verifyToken(token, {
      url: this.url,
      appId: this.options.appId,
      ...(this.options.clockToleranceSeconds !== undefined
        ? { clockToleranceSeconds: this.options.clockToleranceSeconds }
        : {}),
    });
  }
}
