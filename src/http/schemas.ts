// Schemas shared by many routes: the problem answer, pagination, the user as it leaves the
// server. Response schemas double as presenters: Fastify serialises only the fields they name,
// so a password hash or token hash cannot leave by accident.
//
// A shape that several answers share is a component: a schema with an `$id`, added to Fastify
// with addSchema (app.ts) and named by `ref(...)` in the routes. Fastify's serialiser follows the
// reference (fields not named are still not sent), and the OpenAPI document lists the shape once
// under components.schemas. Request bodies stay inline: they are checked by http/validation.ts's
// own Ajv, which does not know the shared schemas.
import type { FastifyReply } from "fastify";
import { type Static, type TObject, type TSchema, type TUnsafe, Type } from "typebox";

/** A reference to a component (a schema with an `$id`), typed as the schema it names. */
export function ref<T extends TSchema>(schema: T): TUnsafe<Static<T>> {
  return Type.Unsafe<Static<T>>({ $ref: componentName(schema) });
}

function componentName(schema: TSchema): string {
  const id = (schema as { $id?: unknown }).$id;
  if (typeof id !== "string") throw new Error("not a component: the schema has no $id");
  return id;
}

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  {
    $id: "Problem",
    additionalProperties: true,
    description: "RFC 9457 problem details with a stable `code`",
  },
);

/** What each problem status means, as the document says it. */
const PROBLEM_STATUSES: Record<number, string> = {
  400: "Invalid input: `validation_failed` names the fields in `errors`; `malformed_json`, or a rule of the operation",
  401: "Not logged in (`unauthenticated`), an API key unknown, revoked or expired (`invalid_api_key`), or wrong credentials",
  403: "Not allowed: `forbidden` (the role lacks the permission), `api_key_not_allowed` (a person's route), `csrf_rejected`, or a rule of the operation",
  404: "Not found, or not visible to the caller",
  405: "Method not allowed",
  409: "Conflicts with the current state",
  410: "Gone: the invitation was used, cancelled, declined or has expired",
  413: "The request body is too large",
  414: "A path parameter is longer than any id this server gives",
  415: "The body is not application/json",
  429: "Too many requests (`rate_limited`): wait for `Retry-After` seconds",
  500: "Something went wrong on the server (`internal_error`)",
  503: "The database is unreachable or a concurrent change got in the way: try again after `Retry-After`",
};

const ProblemRef = ref(Problem);
type ProblemAnswer = {
  description: string;
  content: { "application/problem+json": { schema: typeof ProblemRef } };
};

/**
 * The problem answers a route may give, for the OpenAPI document (and the suite's answer checks):
 * the ones every route can give (invalid input, rate limits, the database away) and `statuses`.
 * What the framework and the guard answer for any route of its kind is added by app.ts
 * (frameworkProblems below), so a route lists only what its own operation adds.
 */
export function problems(...statuses: number[]): Record<number, ProblemAnswer> {
  return Object.fromEntries(
    [...new Set([400, 429, 500, 503, ...statuses])].map((status) => [
      status,
      {
        description: PROBLEM_STATUSES[status] ?? "A problem",
        content: { "application/problem+json": { schema: ProblemRef } },
      },
    ]),
  );
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The problems any route of a kind can answer before its handler runs, whatever it lists: 401
 * without a session (every route but the public ones); for a state change, 403 when it comes from
 * another site (CSRF, public routes included: that is log-in CSRF) and 413 or 415 for a body too
 * large or not JSON; 414 for a path parameter longer than any id.
 */
export function frameworkProblems(route: {
  method: string | string[];
  url: string;
  permission: string | undefined;
}): Record<number, ProblemAnswer> {
  const statuses: number[] = [];
  // Any credentialed route: 401 without a live credential, 403 for the wrong kind (an API key on
  // a person's route, a session on a service key's).
  if (route.permission !== "public") statuses.push(401, 403);
  if ([route.method].flat().some((m) => !SAFE_METHODS.has(m))) statuses.push(403, 413, 415);
  if (route.url.includes("/:")) statuses.push(414);
  return problems(...statuses);
}

export const Timestamp = Type.String({ format: "date-time" });

export const User = Type.Object(
  { id: Type.String(), email: Type.String(), name: Type.String(), createdAt: Timestamp },
  { $id: "User", description: "A person with an account" },
);

export function presentUser(u: { id: string; email: string; name: string; created_at: Date }) {
  return { id: u.id, email: u.email, name: u.name, createdAt: u.created_at.toISOString() };
}

export const Email = Type.String({ format: "email", minLength: 3, maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 1024 });
export const PersonName = Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" });

export const PageQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

const PAGE_DESCRIPTION = "One page of a list: pass `nextCursor` as `cursor` for the next one (null: no more)";

/** A page of a list of `item` (a component): the component `<item>Page`. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object(
    { items: Type.Array(ref(item)), nextCursor: Type.Union([Type.String(), Type.Null()]) },
    { $id: `${componentName(item)}Page`, description: PAGE_DESCRIPTION },
  );
}

/**
 * A page of a search (member search, db/search.ts), which examines a bounded number of rows per
 * request: when it stopped there before filling the page, it says so, and `nextCursor` goes on.
 */
export function SearchPage<T extends TSchema>(item: T) {
  const page = Page(item);
  return Type.Object(
    {
      ...page.properties,
      searchLimitReached: Type.Optional(
        Type.Boolean({
          description:
            "Present (true) when the search stopped after examining its limit of members: this page " +
            "may hold fewer items than `limit`, or none, and `nextCursor` continues the search",
        }),
      ),
    },
    { $id: componentName(page), description: PAGE_DESCRIPTION },
  );
}

/** The components of this module, for addSchema (app.ts). */
/** The authorize question, of an organisation or of a workspace. Inline: a request body. */
export const AuthorizeQuestion = Type.Object({
  permission: Type.String({ minLength: 1, maxLength: 200 }),
  userId: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: "Whom it is about (default: me)" }),
  ),
});

/** Its answer. */
export const Authorization = Type.Object(
  {
    allowed: Type.Boolean(),
    role: Type.Union([Type.String(), Type.Null()], {
      description:
        "The org role (an organisation's question) or the workspace role acted with (a workspace's); null outside the organisation",
    }),
    reason: Type.String({ description: 'Why, in words: "agent lacks flows.write; editor or admin has it"' }),
  },
  { $id: "Authorization", description: "The answer to the authorize question" },
);

export const sharedSchemas: TObject[] = [Problem, User, Authorization];

/** 202 or 204 with no body at all (a typed reply would serialise its null schema as "null"). */
export function sendEmpty(reply: FastifyReply, status: 202 | 204): FastifyReply {
  return reply.status(status).send();
}

export const Empty = Type.Null({ description: "No body" });
