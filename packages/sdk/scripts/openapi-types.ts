import openapiTS, { type OpenAPI3 } from "openapi-typescript";

/**
 * The API types of the SDK and the dashboard (web/src/api/openapi.ts re-exports them), from Postern's
 * OpenAPI document: what `npm run sdk:types` writes.
 */
export async function sdkTypesFrom(document: unknown): Promise<string> {
  return openapiTS(document as OpenAPI3, { silent: true });
}

export const SDK_TYPES_FILE = new URL("../src/openapi.ts", import.meta.url);
