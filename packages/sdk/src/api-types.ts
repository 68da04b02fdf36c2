import type { paths } from "./openapi.ts";

/** Shapes of the login API, as Postern's /openapi.json describes them (src/openapi.ts is generated). */
type Json<T> = T extends { content: { "application/json": infer Body } } ? Body : never;

export type StartLoginRequest = Json<paths["/v1/login/email"]["post"]["requestBody"]>;
export type LoginStarted = Json<paths["/v1/login/email"]["post"]["responses"]["202"]>;
export type VerifyCodeRequest = Json<paths["/v1/login/email/verify"]["post"]["requestBody"]>;
export type LoginSession = Json<paths["/v1/login/email/verify"]["post"]["responses"]["200"]>;
export type Problem = Json<paths["/v1/login/email"]["post"]["responses"]["400"]>;
