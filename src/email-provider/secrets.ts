/** The additional data a provider secret is sealed with: the owning app and the field. */
export const providerSecretContext = (appId: string, field: string) => `email-provider:${appId}:${field}`;
