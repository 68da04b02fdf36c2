import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { DomainError, type ErrorKind } from "../errors.ts";

/** RFC 9457 problem details; `code` is stable for machines, `detail` is for people. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

const statusOf: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  misdirected: 421,
  rate_limited: 429,
  unavailable: 503,
};

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  421: "Misdirected Request",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  extra: Partial<Problem> = {},
): FastifyReply {
  const problem: Problem = {
    type: `https://postern.dev/problems/${code}`,
    title: titles[status] ?? "Error",
    status,
    code,
    detail,
    ...extra,
  };
  return reply.status(status).type("application/problem+json").send(problem);
}

/** Errors that mean "the database is not answering": the request may succeed later (503, not 500). */
function isDatabaseUnavailable(err: { code?: string; message?: string; cause?: unknown }): boolean {
  // Drizzle wraps the driver's error; the connection failure is in its cause.
  if (err.cause && typeof err.cause === "object" && isDatabaseUnavailable(err.cause as typeof err))
    return true;
  return (
    ["ECONNREFUSED", "ECONNRESET", "57P01", "57P02", "57P03", "08006", "08001", "08003"].includes(
      err.code ?? "",
    ) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|not queryable|terminating connection/i.test(
      err.message ?? "",
    )
  );
}

/** The SQLSTATE of a driver error, which Drizzle wraps in its own (the driver's is the cause). */
function sqlStateOf(err: { code?: unknown; cause?: unknown }): string | undefined {
  if (typeof err.code === "string" && /^[0-9A-Z]{5}$/.test(err.code)) return err.code;
  return err.cause && typeof err.cause === "object" ? sqlStateOf(err.cause as typeof err) : undefined;
}

/** SQLSTATE class 22, data exception: a value the database cannot take (invalid byte, out of range…). */
const isDataException = (err: { code?: unknown; cause?: unknown }) =>
  sqlStateOf(err)?.startsWith("22") ?? false;

function problemCodeOf(params: unknown): string | undefined {
  const nested = (params as { params?: { problemCode?: unknown } } | undefined)?.params?.problemCode;
  return typeof nested === "string" ? nested : undefined;
}

/** "/redirectUrls/1" → "redirectUrls[1]", "/config/host" → "config.host": the spelling domain errors use too. */
const fieldOf = (path: string) =>
  path
    .split("/")
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");

const API_PATHS = /^\/(api|v1|oidc|docs|openapi\.json|healthz|readyz|metrics)(\/|$)/;

/**
 * Unknown API routes get a problem; with the dashboard served, other GETs get its index.html,
 * because the dashboard is a single-page app with client-side routes.
 */
export function registerProblemHandlers(app: FastifyInstance, options: { dashboard: boolean }): void {
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    if (options.dashboard && request.method === "GET" && !API_PATHS.test(path))
      return reply.sendFile("index.html");
    return sendProblem(reply, 404, "route_not_found", `There is no route ${request.method} ${path}.`);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DomainError) {
      if (error.retryAfterSeconds !== undefined) reply.header("retry-after", String(error.retryAfterSeconds));
      return sendProblem(reply, statusOf[error.kind], error.code, error.message, {
        ...(error.field ? { field: error.field } : {}),
        ...(error.details ?? {}),
      });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? "body";
      const errors = error.validation.map((v) => ({
        field: fieldOf(v.instancePath) || where,
        message: v.message ?? "is not valid",
      }));
      const first = errors[0]!;
      // A schema that knows the problem better names it (e.g. invalid_email); otherwise a generic code.
      const code = problemCodeOf(error.validation[0]?.params) ?? "validation_failed";
      return sendProblem(reply, 400, code, `${first.field}: ${first.message}`, {
        field: first.field,
        errors,
      });
    }
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return sendProblem(reply, 413, "body_too_large", "The request body is larger than this API accepts.");
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return sendProblem(reply, 415, "unsupported_media_type", "Send the request body as application/json.");
    }
    if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
      return sendProblem(reply, 400, "malformed_json", "The request body is not valid JSON.");
    }
    if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
      return sendProblem(reply, 400, "empty_body", "The request has a JSON content type but no body.");
    }
    if (isDataException(error)) {
      // The database refused a value (e.g. a NUL byte in text): bad input, not our failure. Logged
      // without the statement or its parameters, which would copy the request's values into the log.
      request.log.warn({ sqlState: sqlStateOf(error) }, "database refused a value from the request");
      return sendProblem(
        reply,
        400,
        "invalid_input",
        "A value in the request contains characters that cannot be stored (such as NUL).",
      );
    }
    if (isDatabaseUnavailable(error)) {
      reply.header("retry-after", "5");
      return sendProblem(
        reply,
        503,
        "database_unavailable",
        "Postern cannot reach its database right now; try again shortly.",
      );
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, error.statusCode, (error.code ?? "bad_request").toLowerCase(), error.message);
    }
    request.log.error({ err: error }, "unhandled error");
    return sendProblem(reply, 500, "internal_error", "Something went wrong on our side; it has been logged.");
  });
}
