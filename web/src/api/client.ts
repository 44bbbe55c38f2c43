// The console's one way to the API: openapi-fetch typed by schema.d.ts, which is generated from
// the server's own OpenAPI document (scripts/openapi.ts; a test fails when it drifts). Every call
// goes through call(), which returns the answer's data or throws an ApiError carrying the
// problem's `code` and per-field messages.
import createClient from "openapi-fetch";
import type { paths } from "./schema";

type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : never;
type Success<R> = R extends { 200: infer A } ? JsonOf<A> : R extends { 201: infer A } ? JsonOf<A> : never;

/** The JSON a successful `method path` answers, e.g. `Answer<"/api/v1/me", "get">`. */
export type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? Success<R>
  : never;

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The message for one field (e.g. "email"), if the API named it. */
  field(name: string): string | undefined {
    return this.errors.find((e) => e.field === name)?.message;
  }
}

interface Problem {
  title?: string;
  detail?: string;
  code?: string;
  errors?: FieldError[];
}

/**
 * Awaits an openapi-fetch call and returns its data; throws ApiError for a problem answer and
 * for a network failure (status 0, code "network").
 */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch {
    throw new ApiError(0, "network", "Rollcall cannot be reached. Check your connection and try again.");
  }
  const { data, error, response } = result;
  if (response.ok) return data as T;
  const problem = (error ?? {}) as Problem;
  const message = problem.detail ?? problem.title ?? `The server answered ${response.status}.`;
  throw new ApiError(response.status, problem.code ?? "unknown", message, problem.errors ?? []);
}

export function isApiError(err: unknown, code?: string): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}
