import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";

/** The claims Postern puts in its tokens: the `/v1` session token and the ID token alike. */
export interface PosternClaims extends JWTPayload {
  /** The end user's id in this app (`usr_…`), the same through the API and the hosted page. */
  sub: string;
  email: string;
  email_verified: boolean;
  /** ID tokens only: when the person signed in, and how (`["otp"]`: a one-time code or link). */
  auth_time?: number;
  amr?: string[];
  nonce?: string;
}

export interface VerifyOptions {
  /** Postern's public URL, e.g. https://auth.example.com */
  url: string;
  appId: string;
  /** Leeway for clocks that disagree, in seconds (default 30). */
  clockToleranceSeconds?: number;
  /** The time to check against (default: now). */
  now?: Date;
}

const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** The app's public keys, fetched once and refreshed when a token names a key not seen yet. */
function keysOf(url: string, appId: string) {
  const where = `${url.replace(/\/$/, "")}/v1/apps/${encodeURIComponent(appId)}/jwks.json`;
  let keys = keySets.get(where);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(where));
    keySets.set(where, keys);
  }
  return keys;
}

export const issuerOf = (url: string, appId: string) => `${url.replace(/\/$/, "")}/oidc/${appId}`;

/**
 * Verifies a token on a server: ES256 with the app's keys (JWKS), issued by this Postern for this app
 * (audience), not expired, within the clock tolerance. Takes a `/v1` session token (issuer: Postern's
 * URL) or an ID token from the hosted page (issuer: the app's OpenID Connect issuer); both are signed
 * with the same keys.
 */
export async function verifyToken(token: string, options: VerifyOptions): Promise<PosternClaims> {
  const url = options.url.replace(/\/$/, "");
  const { payload } = await jwtVerify(token, keysOf(url, options.appId), {
    issuer: [url, issuerOf(url, options.appId)],
    audience: options.appId,
    algorithms: ["ES256"],
    clockTolerance: options.clockToleranceSeconds ?? 30,
    ...(options.now ? { currentDate: options.now } : {}),
  });
  if (typeof payload.sub !== "string" || typeof payload.email !== "string") {
    throw new Error("The token has no subject or email.");
  }
  return payload as PosternClaims;
}
