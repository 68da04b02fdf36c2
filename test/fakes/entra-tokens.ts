// App-only access tokens as Entra issues them for Exchange Online (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
import { randomBytes, randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, jwtVerify, SignJWT } from "jose";

/** The v1.0 claim set of an app-only token for "Office 365 Exchange Online" (https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference). */
export interface AccessTokenClaims extends JWTPayload {
  aud: string;
  iss: string;
  iat: number;
  nbf: number;
  exp: number;
  app_displayname: string;
  appid: string;
  /** "1" = client secret, "2" = certificate. */
  appidacr: "1" | "2";
  idp: string;
  idtyp: "app";
  /** The service principal's (Enterprise application's) object id, not the app registration's. */
  oid: string;
  sub: string;
  roles?: string[];
  tid: string;
  /** Unique token id; Entra sets it on every token, the fake uses it for revocation. */
  uti: string;
  ver: "1.0";
}

/** Audiences Exchange accepts (SmtpClientDiag Test-SmtpSaslAuthBlob.psm1, https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference). */
export const exchangeAudiences: readonly string[] = [
  "https://outlook.office365.com",
  "https://outlook.office.com",
  "https://outlook.office365.us",
];

/** Microsoft Graph's resource; app-only Graph tokens are v1.0 tokens too, with the Graph application permissions in roles. */
export const graphAudience = "https://graph.microsoft.com";

export const stsIssuer = (tenantId: string): string => `https://sts.windows.net/${tenantId}/`;

export interface TokenSubject {
  tenantId: string;
  clientId: string;
  displayName: string;
  servicePrincipalId: string;
  resource: string;
  roles: string[];
  /** "1" client secret (default), "2" certificate. */
  appidacr?: "1" | "2";
}

export class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    /** Entra uses the same value for kid and x5t. */
    readonly kid: string,
    readonly jwks: { keys: JWK[] },
  ) {}

  static async create(): Promise<TokenSigner> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = randomBytes(20).toString("base64url");
    const jwk = { ...(await exportJWK(publicKey)), kid, x5t: kid, use: "sig" };
    return new TokenSigner(privateKey, publicKey, kid, { keys: [jwk] });
  }

  /**
   * Entra back-dates iat/nbf by 5 minutes, so exp - iat = expires_in + 300 (3899 for the usual 3599).
   */
  claimsFor(subject: TokenSubject, expiresIn: number): AccessTokenClaims {
    const seconds = Math.floor(Date.now() / 1000);
    const iss = stsIssuer(subject.tenantId);
    return {
      aud: subject.resource,
      iss,
      iat: seconds - 300,
      nbf: seconds - 300,
      exp: seconds + expiresIn,
      app_displayname: subject.displayName,
      appid: subject.clientId,
      appidacr: subject.appidacr ?? "1",
      idp: iss,
      idtyp: "app",
      oid: subject.servicePrincipalId,
      sub: subject.servicePrincipalId,
      ...(subject.roles.length > 0 ? { roles: subject.roles } : {}),
      tid: subject.tenantId,
      uti: randomUUID().replaceAll("-", "").slice(0, 22),
      ver: "1.0",
    };
  }

  sign(claims: AccessTokenClaims): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ typ: "JWT", alg: "RS256", x5t: this.kid, kid: this.kid })
      .sign(this.privateKey);
  }

  /** Checks signature, exp and nbf; throws a jose error otherwise. */
  async verify(token: string): Promise<AccessTokenClaims> {
    const { payload } = await jwtVerify<AccessTokenClaims>(token, this.publicKey, { algorithms: ["RS256"] });
    return payload;
  }
}
