import { desc, eq } from "drizzle-orm";
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import type { Db } from "../db/connection.ts";
import { appSigningKeys } from "../db/schema.ts";
import type { SecretBox } from "../security/secret-box.ts";
import { randomId } from "../security/tokens.ts";

const ALG = "ES256";
const sealContext = (kid: string) => `signing-key:${kid}`;

/** Each app signs its end users' session tokens with its own ES256 key; the private JWK is sealed at rest. */
export async function createSigningKey(db: Db, secrets: SecretBox, appId: string): Promise<void> {
  const kid = randomId("key");
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
  const privateJwk = await exportJWK(privateKey);
  await db.insert(appSigningKeys).values({
    kid,
    appId,
    publicJwk,
    privateJwkSealed: secrets.seal(JSON.stringify(privateJwk), sealContext(kid)),
  });
}

export async function getJwks(db: Db, appId: string): Promise<{ keys: JWK[] }> {
  const rows = await db.select().from(appSigningKeys).where(eq(appSigningKeys.appId, appId));
  return { keys: rows.map((r) => r.publicJwk) };
}

/** The app's key ids, newest first: cheap enough to ask on every request, to notice a new key. */
export async function signingKeyIds(db: Db, appId: string): Promise<string[]> {
  const rows = await db
    .select({ kid: appSigningKeys.kid })
    .from(appSigningKeys)
    .where(eq(appSigningKeys.appId, appId))
    .orderBy(desc(appSigningKeys.createdAt));
  return rows.map((r) => r.kid);
}

/** The app's private JWKs, newest first (the one that signs), for its OpenID Connect provider. */
export async function privateSigningJwks(db: Db, secrets: SecretBox, appId: string): Promise<JWK[]> {
  const rows = await db
    .select()
    .from(appSigningKeys)
    .where(eq(appSigningKeys.appId, appId))
    .orderBy(desc(appSigningKeys.createdAt));
  return rows.map((key) => ({
    ...(JSON.parse(secrets.open(key.privateJwkSealed, sealContext(key.kid))) as JWK),
    kid: key.kid,
    alg: ALG,
    use: "sig",
  }));
}

export interface SessionClaims {
  issuer: string;
  appId: string;
  userId: string;
  email: string;
  ttlSeconds: number;
}

export async function signSessionToken(db: Db, secrets: SecretBox, claims: SessionClaims): Promise<string> {
  const [key] = await db
    .select()
    .from(appSigningKeys)
    .where(eq(appSigningKeys.appId, claims.appId))
    .orderBy(desc(appSigningKeys.createdAt))
    .limit(1);
  if (!key) throw new Error(`app ${claims.appId} has no signing key`);
  const privateJwk = JSON.parse(secrets.open(key.privateJwkSealed, sealContext(key.kid))) as JWK;
  const privateKey = await importJWK(privateJwk, ALG);
  // Only a login that proved the person reads this address signs a token: it is verified by construction.
  return new SignJWT({ email: claims.email, email_verified: true })
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: "JWT" })
    .setIssuer(claims.issuer)
    .setAudience(claims.appId)
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttlSeconds}s`)
    .sign(privateKey);
}

/** Verification as an integrating app would do it, against the published JWKS. */
export async function verifySessionToken(
  jwks: { keys: JWK[] },
  token: string,
  issuer: string,
  appId: string,
) {
  const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
    issuer,
    audience: appId,
    algorithms: [ALG],
  });
  return payload;
}
