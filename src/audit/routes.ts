// HTTP only: schemas in, schemas out. The rules live in operations.ts, the SQL in queries.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { AppError } from "../core/errors.js";
import { decodeCursor, encodeCursor, parseTimeKey } from "../core/paging.js";
import { requireAccess } from "../http/guard.js";
import { Page, PageQuery, problems, ref, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import { AUDIT_ACTIONS, type AuditAction } from "./actions.js";
import { listAuditEvents, presentAuditEvent } from "./queries.js";

const NullableString = Type.Union([Type.String(), Type.Null()]);

const AuditActionSchema = Type.Enum(AUDIT_ACTIONS, {
  $id: "AuditAction",
  description: "Every action this version of the server records",
});

const AuditEvent = Type.Object(
  {
    id: Type.String(),
    at: Timestamp,
    actorId: NullableString,
    actorName: Type.Union([Type.String(), Type.Null()], {
      description: "The actor's name when it happened; kept after they are gone",
    }),
    action: Type.Union([ref(AuditActionSchema), Type.String({ pattern: "^[a-z_]+(\\.[a-z_]+)+$" })], {
      description:
        "What happened: one of AuditAction for this version. A client should expect actions it does not know: the trail keeps what other versions wrote",
    }),
    targetType: Type.String(),
    targetId: NullableString,
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: "AuditEvent", description: "Something that happened in the organisation, and who did it" },
);
const AuditEventPage = Page(AuditEvent);

/** The components of this module, for addSchema (app.ts). */
export const auditSchemas = [AuditActionSchema, AuditEvent, AuditEventPage];

const AuditQuery = Type.Object({
  ...PageQuery.properties,
  action: Type.Optional(
    Type.String({
      maxLength: 100,
      pattern: "^[a-z_]+(\\.[a-z_]+)*(\\.\\*?)?$",
      description:
        "An exact action (`member.added`), or every action beginning with a prefix when it ends in `.*` or `.` (`member.*`)",
    }),
  ),
  actor: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "An actor's user id" })),
});

export async function auditRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ["audit"];

  app.get(
    "/api/v1/orgs/:org/audit",
    {
      config: { permission: "org.users" },
      schema: {
        tags,
        operationId: "listAuditEvents",
        summary: "The organisation's audit log, newest first",
        params: Type.Object({ org: Type.String({ maxLength: 100 }) }),
        querystring: AuditQuery,
        response: { 200: ref(AuditEventPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const { limit, cursor, action, actor } = request.query;
      const after = decodeCursor(cursor);
      if (after !== undefined && !parseTimeKey(after)) {
        throw new AppError("validation_failed", "The cursor is not one this server gave", [
          { field: "cursor", message: "is not a cursor from a previous page" },
        ]);
      }
      const result = await listAuditEvents(services.db, orgId, { action, actorId: actor, limit, after });
      return {
        // Named as this server's actions; one another version wrote goes out unchanged (the
        // serialiser does not check an enum), and the console words it generically.
        items: result.events.map((e) => ({ ...presentAuditEvent(e), action: e.action as AuditAction })),
        nextCursor: result.next === null ? null : encodeCursor(result.next),
      };
    },
  );
}
