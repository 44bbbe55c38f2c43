// Schemas shared by many routes: the problem answer, pagination, the user as it leaves the
// server. Response schemas double as presenters: Fastify serialises only the fields they name,
// so a password hash or token hash cannot leave by accident.
import type { FastifyReply } from "fastify";
import { type TSchema, Type } from "typebox";

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, description: "RFC 9457 problem details with a stable `code`" },
);

/** The error answers a route may give, for the OpenAPI document. */
export function problems(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries([400, 429, 500, 503, ...statuses].map((s) => [s, Problem]));
}

export const Timestamp = Type.String({ format: "date-time" });

export const User = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  createdAt: Timestamp,
});

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

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * A page of a search (member search, db/search.ts), which examines a bounded number of rows per
 * request: when it stopped there before filling the page, it says so, and `nextCursor` goes on.
 */
export function SearchPage<T extends TSchema>(item: T) {
  return Type.Object({
    ...Page(item).properties,
    searchLimitReached: Type.Optional(
      Type.Boolean({
        description:
          "Present (true) when the search stopped after examining its limit of members: this page " +
          "may hold fewer items than `limit`, or none, and `nextCursor` continues the search",
      }),
    ),
  });
}

/** 202 or 204 with no body at all (a typed reply would serialise its null schema as "null"). */
export function sendEmpty(reply: FastifyReply, status: 202 | 204): FastifyReply {
  return reply.status(status).send();
}

export const Empty = Type.Null({ description: "No body" });
