export type { LoginSession, LoginStarted, Problem, StartLoginRequest } from "./api-types.ts";
export { type PendingSignIn, PosternClient, type PosternClientOptions, type SignedIn } from "./client.ts";
export { PosternError } from "./errors.ts";
export { issuerOf, type PosternClaims, type VerifyOptions, verifyToken } from "./verify.ts";
