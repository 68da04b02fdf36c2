// The dashboard and the SDK read one generated description of the API: packages/sdk/src/openapi.ts,
// written from /openapi.json by `npm run sdk:types` and checked up to date by test/sdk/sdk.test.ts.
// Type-only, so nothing of the SDK is bundled into the dashboard.
export type { paths } from "../../../packages/sdk/src/openapi.ts";
