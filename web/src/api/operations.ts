// Types that read the generated `paths` of /openapi.json by path and method: what an operation takes
// (path parameters, query, JSON body) and what it answers. The typed client (client.ts) and the names
// in types.ts are built on them, in the way openapi-fetch types its calls, without its runtime.
import type { paths } from "./openapi.ts";

export type Method = "get" | "post" | "put" | "patch" | "delete";

/** The paths that answer `method`. */
export type PathWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, unknown> ? P : never;
}[keyof paths];

/** The operation `method path`, as the document describes it. */
export type Operation<P extends keyof paths, M extends Method> =
  paths[P] extends Record<M, infer Op> ? Op : never;

/** The JSON body the operation takes. */
export type BodyOf<Op> = Op extends { requestBody: { content: { "application/json": infer Body } } }
  ? Body
  : never;

type JsonContent<Answer> = Answer extends { content: { "application/json": infer Body } } ? Body : undefined;

/** The body of the operation's success answer: its 200, 201 or 202, or nothing for a 204. */
export type ResponseOf<Op> = Op extends { responses: infer Answers }
  ? Answers extends { 200: infer Ok }
    ? JsonContent<Ok>
    : Answers extends { 201: infer Created }
      ? JsonContent<Created>
      : Answers extends { 202: infer Accepted }
        ? JsonContent<Accepted>
        : undefined
  : never;

/** A call's options: the path parameters and the body when the operation has them, the query if it takes one. */
export type Params<Op> = (Op extends { parameters: { path: infer Path } }
  ? { path: Path }
  : { path?: never }) &
  (Op extends { parameters: { query?: infer Query } } ? { query?: Query } : { query?: never }) &
  (Op extends { requestBody: unknown } ? { body: BodyOf<Op> } : { body?: never }) & {
    /** Leave a 401 to the caller instead of ending the session (the sign-in check on load). */
    quietUnauthorized?: boolean;
  };

/** The options may be left out when the operation needs neither path parameters nor a body. */
export type ParamsArgument<Op> = Op extends { parameters: { path: unknown } } | { requestBody: unknown }
  ? [options: Params<Op>]
  : [options?: Params<Op>];
