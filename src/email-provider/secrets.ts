import type { Context } from "../context.ts";

/** The additional data a provider secret is sealed with: the owning app and the field. */
export const providerSecretContext = (appId: string, field: string) => `email-provider:${appId}:${field}`;

/** A saved provider's secrets, opened (in memory only, for one transport or test). */
export function openSecrets(
  ctx: Pick<Context, "secrets">,
  appId: string,
  sealedSecrets: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(sealedSecrets).map(([field, sealed]) => [
      field,
      ctx.secrets.open(sealed, providerSecretContext(appId, field)),
    ]),
  );
}

/** Seals each secret under its app and field. */
export function sealSecrets(
  ctx: Pick<Context, "secrets">,
  appId: string,
  secrets: Record<string, string>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(secrets).map(([field, secret]) => [
      field,
      ctx.secrets.seal(secret, providerSecretContext(appId, field)),
    ]),
  );
}
