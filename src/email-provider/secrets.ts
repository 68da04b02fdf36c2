import type { Context } from "../context.ts";

/** The additional data a provider secret is sealed with: the owning app and the field. */
export const providerSecretContext = (appId: string, field: string) => `email-provider:${appId}:${field}`;

const eachSecret = (secrets: Record<string, string>, apply: (secret: string, field: string) => string) =>
  Object.fromEntries(Object.entries(secrets).map(([field, secret]) => [field, apply(secret, field)]));

/** A saved provider's secrets, opened (in memory only, for one transport or test). */
export const openSecrets = (ctx: Pick<Context, "secrets">, appId: string, sealed: Record<string, string>) =>
  eachSecret(sealed, (secret, field) => ctx.secrets.open(secret, providerSecretContext(appId, field)));

/** Seals each secret under its app and field. */
export const sealSecrets = (ctx: Pick<Context, "secrets">, appId: string, secrets: Record<string, string>) =>
  eachSecret(secrets, (secret, field) => ctx.secrets.seal(secret, providerSecretContext(appId, field)));
