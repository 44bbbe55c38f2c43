// Every error Rollcall answers with: one class, a stable snake_case code, an HTTP status and a
// title, all kept in this one registry. Routes and operations throw; http/problem.ts renders.
// src/core/ holds what every layer shares and none owns: errors, paging, rate limits.

export interface FieldError {
  field: string;
  message: string;
}

const REGISTRY = {
  validation_failed: { status: 400, title: "The request has invalid fields" },
  malformed_json: { status: 400, title: "The request body is not valid JSON" },
  malformed_url: { status: 400, title: "The request path is not a valid URL" },
  password_too_common: { status: 400, title: "The password is too common" },
  invalid_reset_token: { status: 400, title: "The password-reset link is invalid or has expired" },
  invalid_signup_token: { status: 400, title: "The sign-up confirmation link is invalid or has expired" },
  invalid_current_password: { status: 400, title: "The current password is wrong" },
  unauthenticated: { status: 401, title: "Log in first" },
  invalid_credentials: { status: 401, title: "Wrong e-mail address or password" },
  metrics_token_required: { status: 401, title: "/metrics needs the METRICS_TOKEN" },
  invalid_api_key: { status: 401, title: "The API key is unknown, revoked or expired" },
  invalid_session: { status: 401, title: "The session token is unknown or has ended" },
  api_key_not_allowed: { status: 403, title: "This route belongs to a person: an API key cannot use it" },
  forbidden: { status: 403, title: "You do not have the permission for this" },
  csrf_rejected: { status: 403, title: "Cross-site request refused" },
  signup_disabled: { status: 403, title: "Sign-up is by invitation only" },
  not_found: { status: 404, title: "Not found" },
  route_not_found: { status: 404, title: "No such route" },
  session_not_found: { status: 404, title: "No such session" },
  organization_not_found: { status: 404, title: "No such organisation" },
  workspace_not_found: { status: 404, title: "No such workspace" },
  member_not_found: { status: 404, title: "No such member" },
  api_key_not_found: { status: 404, title: "No such API key" },
  too_many_api_keys: { status: 409, title: "This organisation has too many API keys" },
  webhook_not_found: { status: 404, title: "No such webhook" },
  lease_not_found: { status: 404, title: "No such replica lease" },
  delivery_not_found: { status: 404, title: "No such webhook delivery" },
  too_many_webhooks: { status: 409, title: "This organisation has too many webhooks" },
  last_owner: { status: 409, title: "An organisation must keep at least one owner" },
  invitation_not_found: { status: 404, title: "No such invitation" },
  invitation_email_mismatch: { status: 403, title: "This invitation is for another e-mail address" },
  invitation_pending: {
    status: 409,
    title: "This address already has a pending invitation; resend it instead",
  },
  already_member: { status: 409, title: "This person already has every place this invitation offers" },
  too_many_invitations: { status: 409, title: "This organisation has too many pending invitations" },
  invitation_used: { status: 410, title: "This invitation has been used" },
  invitation_cancelled: { status: 410, title: "This invitation was cancelled" },
  invitation_declined: { status: 410, title: "This invitation was declined" },
  invitation_expired: { status: 410, title: "This invitation has expired" },
  cursor_expired: { status: 410, title: "The cursor is older than the events kept for resuming" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict with the current state" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  uri_too_long: { status: 414, title: "A part of the path is longer than any id this server gives" },
  unsupported_media_type: { status: 415, title: "Send the body as application/json" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal_error: { status: 500, title: "Something went wrong on our side" },
  database_unavailable: { status: 503, title: "The database is unreachable; try again shortly" },
  try_again: { status: 503, title: "A change made at the same moment got in the way; try again" },
  not_ready: { status: 503, title: "Not ready" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof REGISTRY;

export const ERROR_CODES = Object.keys(REGISTRY) as ErrorCode[];

export class AppError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly errors?: FieldError[],
    /** Extra members of the problem object (e.g. `emailHint`), and headers such as Retry-After. */
    readonly extra: { fields?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? REGISTRY[code].title);
    this.name = "AppError";
    this.status = REGISTRY[code].status;
    this.title = REGISTRY[code].title;
  }
}

export function appError(
  code: ErrorCode,
  detail?: string,
  errors?: FieldError[],
  extra?: AppError["extra"],
): AppError {
  return new AppError(code, detail, errors, extra);
}

/** A 400 naming one field. */
export function fieldError(field: string, message: string, code: ErrorCode = "validation_failed"): AppError {
  return new AppError(code, message, [{ field, message }]);
}

/** `assert(cond, errors.x())` — a guard clause that reads as the rule it enforces. */
export function assert(condition: unknown, error: AppError | (() => AppError)): asserts condition {
  if (!condition) throw typeof error === "function" ? error() : error;
}

export function registryEntry(code: ErrorCode): { status: number; title: string } {
  return REGISTRY[code];
}
