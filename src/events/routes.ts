// The feed over HTTP (docs/events.md): a page at a time, or live as Server-Sent Events, for an
// organisation (org.apikeys, or a service key) or the whole installation (a service key).
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { can } from "../access/can.js";
import { orgStanding } from "../access/queries.js";
import { AppError } from "../core/errors.js";
import { SingleFlight } from "../core/single-flight.js";
import { callerOf, requireAccess, requireServiceKey } from "../http/guard.js";
import { problems, ref, Timestamp } from "../http/schemas.js";
import type { Services } from "../services.js";
import {
  type Cursor,
  checkResumable,
  decodeCursor,
  encodeCursor,
  type FeedScope,
  feedEnd,
  parseTypes,
  readFeed,
} from "./feed.js";
import { type Batch, EventStream } from "./stream.js";

/** Streams one server holds at most, and per caller (a person, an API key, a service key). */
export const MAX_STREAMS = 1000;
export const MAX_STREAMS_PER_CALLER = 5;

const EventSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.String({ description: "e.g. member.added; a client should expect types it does not know" }),
    at: Timestamp,
    orgId: Type.Union([Type.String(), Type.Null()]),
    actor: Type.Object({
      type: Type.Enum(["user", "api_key", "system"]),
      id: Type.Union([Type.String(), Type.Null()]),
      name: Type.Union([Type.String(), Type.Null()]),
    }),
    data: Type.Record(Type.String(), Type.Unknown(), {
      description: "What changed, by id, with before and after (fromRole/toRole for a change of role)",
    }),
    cursor: Type.String({
      description: "This event's place: give it as `after` (or Last-Event-ID) to resume behind it",
    }),
  },
  { $id: "Event", description: "One change, as the feed, the streams and the webhooks carry it" },
);
const EventPage = Type.Object(
  {
    items: Type.Array(ref(EventSchema)),
    nextCursor: Type.Union([Type.String(), Type.Null()], {
      description:
        "Where to continue: the last event's cursor, else `after` again; null when nothing was ever read",
    }),
  },
  { $id: "EventPage" },
);

/** The components of this module, for addSchema (app.ts). */
export const eventSchemas = [EventSchema, EventPage];

const Types = Type.Optional(
  Type.String({
    maxLength: 2000,
    description: "Only these types, comma-separated (e.g. member.added,member.removed)",
  }),
);
const After = Type.Optional(
  Type.String({ maxLength: 60, description: "A cursor: continue behind that event" }),
);
const StreamAnswer = {
  200: {
    description:
      "text/event-stream: `id:` the cursor, `event:` the type, `data:` the event; a comment line at least every 15 s",
    content: { "text/event-stream": { schema: { type: "string" } } },
  },
};

export async function eventRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { catalogue, config, db } = services;
  const tags = ["events"];
  const open = new Set<EventStream>();
  const perCaller = new Map<string, number>();
  // One read per scope, cursor and wake, and one check per caller after it, for all the streams.
  const reads = new SingleFlight<Batch>();
  const checks = new SingleFlight<boolean>();

  // Shutting down: streams end (their readers resume elsewhere) so that the server can close.
  fastify.addHook("preClose", (done) => {
    for (const s of open) s.close();
    done();
  });

  app.get(
    "/api/v1/orgs/:org/events",
    {
      config: { permission: "org.apikeys", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "listEvents",
        summary: "The organisation's events, oldest first, from a cursor",
        description: `Without \`after\`: from the start of the retention window (EVENTS_RETENTION_DAYS, default 30). A cursor older than that answers 410 cursor_expired.`,
        params: Type.Object({ org: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Object({
          after: After,
          types: Types,
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        }),
        response: { 200: ref(EventPage), ...problems(401, 403, 404, 410) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const { after: raw, types, limit } = request.query;
      const scope = { orgId, types: parseTypes(types) };
      const after = raw === undefined ? null : decodeCursor(raw);
      if (after) await checkResumable(db, after, config.events.retentionDays);
      const { items, next } = await readFeed(db, scope, after, limit, config.events.retentionDays);
      return { items, nextCursor: next ? encodeCursor(next) : null };
    },
  );

  app.get(
    "/api/v1/orgs/:org/events/stream",
    {
      config: { permission: "org.apikeys", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "streamEvents",
        summary: "The organisation's events, live (Server-Sent Events), resumable from Last-Event-ID",
        params: Type.Object({ org: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Object({ after: After, types: Types }),
        response: { ...StreamAnswer, ...problems(401, 403, 404, 410) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const caller = callerOf(request);
      const stillAllowed = async () => {
        if (caller.type === "service_key") return serviceKeyLive(caller.id);
        if (caller.type === "user") {
          const session = request.auth?.session;
          const live = session
            ? await db
                .selectFrom("sessions")
                .select("id")
                .where("id", "=", session.id)
                .where("absolute_expires_at", ">", new Date())
                .executeTakeFirst()
            : undefined;
          if (!live) return false;
        }
        const standing = await orgStanding(db, orgId, caller.id);
        return !!standing && can(catalogue, "org.apikeys", { orgRole: standing.orgRole });
      };
      await serve(
        request,
        reply,
        `${caller.type}:${caller.id}`,
        { orgId, types: parseTypes(request.query.types) },
        stillAllowed,
        `${caller.type}:${caller.id} ${request.auth?.session.id ?? ""} ${orgId}`,
      );
    },
  );

  app.get(
    "/api/v1/events/stream",
    {
      config: { permission: "service" },
      schema: {
        tags,
        operationId: "streamAllEvents",
        summary: "Every organisation's events and the session events, live (service key)",
        querystring: Type.Object({ after: After, types: Types }),
        response: { ...StreamAnswer, ...problems(401, 403, 410) },
      },
    },
    async (request, reply) => {
      const key = requireServiceKey(request);
      await serve(
        request,
        reply,
        `service_key:${key.id}`,
        { orgId: null, types: parseTypes(request.query.types) },
        () => serviceKeyLive(key.id),
        `service_key:${key.id}`,
      );
    },
  );

  /** Whether a service key is still there (not revoked), asked again while its stream is open. */
  async function serviceKeyLive(id: string): Promise<boolean> {
    return !!(await db.selectFrom("service_keys").select("id").where("id", "=", id).executeTakeFirst());
  }

  async function serve(
    request: FastifyRequest,
    reply: FastifyReply,
    callerKey: string,
    scope: FeedScope,
    stillAllowed: () => Promise<boolean>,
    /** Names everything `stillAllowed` depends on: streams with the same one share its answer. */
    checkKey: string,
  ): Promise<void> {
    const query = request.query as { after?: string };
    const header = request.headers["last-event-id"];
    const raw = (typeof header === "string" && header !== "" ? header : undefined) ?? query.after;
    let start: Cursor;
    if (raw !== undefined) {
      start = decodeCursor(raw, typeof header === "string" && header !== "" ? "Last-Event-ID" : "after");
      await checkResumable(db, start, config.events.retentionDays);
    } else {
      start = await feedEnd(db, scope);
    }
    const held = perCaller.get(callerKey) ?? 0;
    if (open.size >= MAX_STREAMS || held >= MAX_STREAMS_PER_CALLER) {
      throw new AppError(
        "rate_limited",
        `At most ${MAX_STREAMS_PER_CALLER} streams at once per caller on one server; close one first.`,
        undefined,
        { headers: { "retry-after": "30" } },
      );
    }
    const stream = new EventStream(reply.raw, {
      db,
      bus: services.events,
      scope,
      start,
      retentionDays: config.events.retentionDays,
      heartbeatMs: config.events.heartbeatMs,
      stallMs: config.events.stallMs,
      stillAllowed,
      shared: { reads, checks, callerKey: checkKey },
      onError: (err) => request.log.warn({ err }, "event stream ended by an error"),
    });
    open.add(stream);
    perCaller.set(callerKey, held + 1);
    reply.hijack();
    try {
      await stream.run();
    } finally {
      open.delete(stream);
      const left = (perCaller.get(callerKey) ?? 1) - 1;
      if (left > 0) perCaller.set(callerKey, left);
      else perCaller.delete(callerKey);
    }
  }
}
