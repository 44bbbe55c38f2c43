// The one place an error becomes an answer: RFC 9457 problem details with a stable `code`.
// Known errors keep their meaning; database errors are translated by kind and constraint name;
// anything else is logged and answers a bare 500 that says nothing about internals.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError, type ErrorCode, type FieldError, registryEntry } from "../core/errors.js";
import { fieldErrors } from "./validation.js";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

/**
 * Unique constraints → the conflict they mean. The indexes are the real guards under concurrency:
 * two requests that both pass an operation's check still meet here.
 */
const CONSTRAINT_ERRORS: Record<string, () => AppError> = {
  invitations_pending_email_key: () =>
    new AppError("invitation_pending", "This address already has a pending invitation; resend it instead."),
};

// SQLSTATE classes and Node socket errors that mean "the database is not there right now"; 57014 is
// a statement cancelled by statement_timeout (a database too slow to answer).
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3]|57014)/;
// Serialization failures and deadlocks: two transactions met, PostgreSQL rolled one back. Nothing
// of it was written; the same request sent again succeeds.
const RETRY_SQLSTATE = new Set(["40001", "40P01"]);
const UNAVAILABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);

function isDatabaseUnavailable(err: { code?: unknown; message?: string }): boolean {
  const code = typeof err.code === "string" ? err.code : "";
  if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    err.message ?? "",
  );
}

export function toProblem(
  err: unknown,
  request?: FastifyRequest,
): { problem: Problem; headers: Record<string, string> } {
  const problem = (code: ErrorCode, detail?: string, errors?: FieldError[]): Problem => {
    const { status, title } = registryEntry(code);
    return {
      type: `https://rollcall.dev/problems/${code.replaceAll("_", "-")}`,
      title,
      status,
      detail: detail ?? title,
      code,
      ...(errors ? { errors } : {}),
    };
  };

  if (err instanceof AppError) {
    return {
      problem: { ...problem(err.code, err.detail, err.errors), ...(err.extra.fields ?? {}) },
      headers: err.extra.headers ?? {},
    };
  }

  const e = err as FastifyError & { validation?: unknown; validationContext?: string; constraint?: string };
  if (Array.isArray(e.validation)) {
    const errors = fieldErrors(e.validation, e.validationContext ?? "body");
    const names = errors.map((f) => f.field).join(", ");
    return { problem: problem("validation_failed", `Check these fields: ${names}`, errors), headers: {} };
  }
  switch (e.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return {
        problem: problem("malformed_json", "The body must be a JSON document", [
          { field: "body", message: e.message },
        ]),
        headers: {},
      };
    // Router errors, before any route is found (frameworkErrors in app.ts). Never echo the path.
    case "FST_ERR_MAX_PARAM_LENGTH":
      return { problem: problem("uri_too_long"), headers: {} };
    case "FST_ERR_BAD_URL":
      return { problem: problem("malformed_url"), headers: {} };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { problem: problem("payload_too_large"), headers: {} };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { problem: problem("unsupported_media_type"), headers: {} };
    default:
      break;
  }
  if (e.code === "23505" && e.constraint) {
    const mapped = CONSTRAINT_ERRORS[e.constraint];
    return toProblem(mapped ? mapped() : new AppError("conflict"), request);
  }
  if (typeof e.code === "string" && /^(23|22)/.test(e.code)) {
    // A constraint or data error the validation should have caught first: the input was bad.
    return { problem: problem("validation_failed", "The request breaks a rule of the data"), headers: {} };
  }
  if (typeof e.code === "string" && RETRY_SQLSTATE.has(e.code)) {
    return { problem: problem("try_again"), headers: { "retry-after": "1" } };
  }
  if (isDatabaseUnavailable(e)) {
    return { problem: problem("database_unavailable"), headers: { "retry-after": "5" } };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own client errors (bad content length, unsupported method…): keep their status.
    return {
      problem: {
        ...problem("validation_failed", e.message),
        status: e.statusCode,
        code: "bad_request",
        title: "Bad request",
      },
      headers: {},
    };
  }
  return { problem: problem("internal_error"), headers: {} };
}

export function sendProblem(
  reply: FastifyReply,
  problem: Problem,
  headers: Record<string, string> = {},
): FastifyReply {
  return reply
    .status(problem.status)
    .headers(headers)
    .type("application/problem+json; charset=utf-8")
    .serializer(JSON.stringify)
    .send(problem);
}

/** Fastify's `frameworkErrors`: the router's own errors as problems too. */
export function frameworkErrors(err: Error, _request: FastifyRequest, reply: FastifyReply): void {
  const { problem, headers } = toProblem(err);
  sendProblem(reply, problem, headers);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const { problem, headers } = toProblem(err, request);
    if (problem.status >= 500) {
      request.log.error({ err }, "request failed");
    }
    return sendProblem(reply, problem, headers);
  });
  app.setNotFoundHandler((request, reply) => {
    const { problem } = toProblem(
      new AppError("route_not_found", `No route ${request.method} ${request.url.split("?")[0]}`),
    );
    return sendProblem(reply, problem);
  });
}
