// HTTP only: schemas in, schemas out. The rules live in operations.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { permissionsOf, type Standing } from "../access/can.js";
import type { Catalogue } from "../access/catalogue.js";
import { decodeCursor, page } from "../core/paging.js";
import { limitSearch } from "../core/rate-limit.js";
import type { WorkspaceRow } from "../db/schema.js";
import { transact } from "../db/transaction.js";
import { actorOf, callerOf, requireAccess } from "../http/guard.js";
import {
  Authorization,
  AuthorizeQuestion,
  Empty,
  Page,
  PageQuery,
  problems,
  ref,
  SearchPage,
  sendEmpty,
  Timestamp,
} from "../http/schemas.js";
import type { Services } from "../services.js";
import { workspaceMemberAbilities } from "./abilities.js";
import {
  authorizeInWorkspace,
  createWorkspace,
  deleteWorkspace,
  getWorkspace,
  listWorkspaceMembers,
  listWorkspacesFor,
  type WorkspaceMember as MemberRow,
  putWorkspaceMember,
  removeWorkspaceMember,
  updateWorkspace,
} from "./operations.js";

const Id = Type.String({ minLength: 1, maxLength: 100 });
const WorkspaceName = Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" });
const Timezone = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'An IANA time zone name, e.g. "Europe/Paris" or "UTC"',
});
const Language = Type.String({
  minLength: 2,
  maxLength: 35,
  description: 'A BCP 47 language tag, e.g. "en" or "pt-BR"; stored in its canonical form',
});

const Workspace = Type.Object(
  {
    id: Type.String(),
    organizationId: Type.String(),
    name: Type.String(),
    timezone: Type.String(),
    language: Type.String(),
    createdAt: Timestamp,
  },
  { $id: "Workspace" },
);

const WorkspaceListItem = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    timezone: Type.String(),
    language: Type.String(),
    createdAt: Timestamp,
    role: Type.Union([Type.String(), Type.Null()], {
      description:
        "The caller's effective role in the workspace; null for a service key, which reads without one",
    }),
  },
  { $id: "MyWorkspace", description: "A workspace the caller can enter, with their effective role in it" },
);

const Member = Type.Object(
  {
    userId: Type.String(),
    name: Type.String(),
    email: Type.String(),
    role: Type.String(),
    joinedAt: Timestamp,
    abilities: Type.Object(
      {
        changeRole: Type.Boolean({ description: "The caller may give this person another role here" }),
        remove: Type.Boolean({ description: "The caller may take this person's role here away" }),
      },
      {
        description:
          "What the caller may do to this person here, as PUT and DELETE …/members/{user} decide it",
      },
    ),
  },
  { $id: "WorkspaceMember", description: "A person with a direct role in a workspace" },
);

const MemberAnswer = Type.Object({ member: ref(Member) });
const WorkspaceListPage = Page(WorkspaceListItem);
const MemberPage = SearchPage(Member);

/** The components of this module, for addSchema (app.ts). */
export const workspaceSchemas = [Workspace, WorkspaceListItem, WorkspaceListPage, Member, MemberPage];

function presentWorkspace(w: WorkspaceRow) {
  return {
    id: w.id,
    organizationId: w.org_id,
    name: w.name,
    timezone: w.timezone,
    language: w.language,
    createdAt: w.created_at.toISOString(),
  };
}

/** A person of the workspace as the caller (their standing there) sees them. */
function presentMember(catalogue: Catalogue, caller: Standing, m: MemberRow) {
  return {
    userId: m.userId,
    name: m.name,
    email: m.email,
    role: m.role,
    joinedAt: m.joinedAt.toISOString(),
    abilities: workspaceMemberAbilities(catalogue, caller, m),
  };
}

export async function workspaceRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { catalogue, config, db, limiter } = services;
  const tags = ["workspaces"];
  const roleNames = catalogue.workspaceRoles.map((r) => r.name);
  const WorkspaceRole = Type.Enum(roleNames, { description: "A workspace role of the catalogue" });
  const OrgParams = Type.Object({ org: Id });
  const WsParams = Type.Object({ ws: Id });
  const MemberParams = Type.Object({ ws: Id, user: Id });

  app.post(
    "/api/v1/orgs/:org/workspaces",
    {
      config: { permission: "org.workspaces" },
      schema: {
        tags,
        operationId: "createWorkspace",
        summary: "Create a workspace in the organisation",
        params: OrgParams,
        body: Type.Object({
          name: WorkspaceName,
          timezone: Type.Optional(Timezone),
          language: Type.Optional(Language),
        }),
        response: { 201: Type.Object({ workspace: ref(Workspace) }), ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const actor = actorOf(request);
      const workspace = await transact(services, (tx) =>
        createWorkspace(tx, actor, { ...request.body, orgId }),
      );
      return reply.status(201).send({ workspace: presentWorkspace(workspace) });
    },
  );

  app.get(
    "/api/v1/orgs/:org/workspaces",
    {
      config: { permission: "org.read", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "listWorkspaces",
        summary:
          "The workspaces I can enter, with my effective role in each (org owners and admins: all, as admin)",
        params: OrgParams,
        querystring: PageQuery,
        response: { 200: ref(WorkspaceListPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId, orgRole, reader } = requireAccess(request);
      const caller = callerOf(request);
      const { limit, cursor } = request.query;
      const rows = await listWorkspacesFor(
        db,
        catalogue,
        { userId: caller.id, orgId, orgRole: reader ? null : orgRole },
        { limit, after: decodeCursor(cursor) },
      );
      const result = page(rows, limit, (r) => r.workspace.id);
      return {
        items: result.items.map(({ workspace, role }) => {
          const { organizationId: _, ...item } = presentWorkspace(workspace);
          return { ...item, role };
        }),
        nextCursor: result.nextCursor,
      };
    },
  );

  app.get(
    "/api/v1/workspaces/:ws",
    {
      config: { permission: "workspace.member", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "getWorkspace",
        summary: "A workspace, my effective role in it and the permissions that role holds",
        params: WsParams,
        response: {
          200: Type.Object({
            workspace: ref(Workspace),
            role: Type.Union([Type.String(), Type.Null()]),
            permissions: Type.Array(Type.String()),
          }),
          ...problems(401, 404),
        },
      },
    },
    async (request) => {
      const access = requireAccess(request);
      const workspace = await getWorkspace(db, { orgId: access.orgId, workspaceId: request.params.ws });
      return {
        workspace: presentWorkspace(workspace),
        role: access.reader ? null : (access.effectiveRole ?? ""),
        permissions: permissionsOf(catalogue, access, "workspace"),
      };
    },
  );

  app.patch(
    "/api/v1/workspaces/:ws",
    {
      config: { permission: "workspace.settings" },
      schema: {
        tags,
        operationId: "updateWorkspace",
        summary: "Change the workspace's name, timezone or language",
        params: WsParams,
        body: Type.Object({
          name: Type.Optional(WorkspaceName),
          timezone: Type.Optional(Timezone),
          language: Type.Optional(Language),
        }),
        response: { 200: Type.Object({ workspace: ref(Workspace) }), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const actor = actorOf(request);
      const place = { orgId, workspaceId: request.params.ws };
      const workspace = await transact(services, (tx) => updateWorkspace(tx, actor, place, request.body));
      return { workspace: presentWorkspace(workspace) };
    },
  );

  app.delete(
    "/api/v1/workspaces/:ws",
    {
      config: { permission: "org.workspaces" },
      schema: {
        tags,
        operationId: "deleteWorkspace",
        summary: "Delete the workspace and every membership in it",
        params: WsParams,
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const actor = actorOf(request);
      const place = { orgId, workspaceId: request.params.ws };
      await transact(services, (tx) => deleteWorkspace(tx, actor, place, catalogue));
      return sendEmpty(reply, 204);
    },
  );

  app.get(
    "/api/v1/workspaces/:ws/members",
    {
      config: { permission: "workspace.member", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "listWorkspaceMembers",
        summary: "The people with a direct role in the workspace; q matches name or e-mail",
        params: WsParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          q: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.Optional(WorkspaceRole),
        }),
        response: { 200: ref(MemberPage), ...problems(401, 404) },
      },
    },
    async (request) => {
      const access = requireAccess(request);
      const { orgId } = access;
      const { limit, cursor, q, role } = request.query;
      const after = decodeCursor(cursor);
      if (q?.trim()) await limitSearch(limiter, config.rateLimits.searchUser, callerOf(request).id);
      const place = { orgId, workspaceId: request.params.ws };
      const result = await listWorkspaceMembers(db, place, { q, role, limit, after });
      return { ...result, items: result.items.map((m) => presentMember(catalogue, access, m)) };
    },
  );

  app.put(
    "/api/v1/workspaces/:ws/members/:user",
    {
      config: { permission: "workspace.users" },
      schema: {
        tags,
        operationId: "setWorkspaceMember",
        summary: "Give a member of the organisation a role in the workspace (201) or change their role (200)",
        description:
          "Answers 201 when the person was added to the workspace, 200 when their role was changed " +
          "(or already was this one). Nobody grants a role above their own effective role (rule 1). " +
          "A user who is not a member of this organisation answers 404 member_not_found.",
        params: MemberParams,
        body: Type.Object({ role: WorkspaceRole }),
        response: {
          200: MemberAnswer,
          201: MemberAnswer,
          ...problems(401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const access = requireAccess(request);
      const { orgId } = access;
      const actor = actorOf(request);
      const place = { orgId, workspaceId: request.params.ws };
      const { member, added } = await transact(services, (tx) =>
        putWorkspaceMember(tx, catalogue, actor, place, {
          userId: request.params.user,
          role: request.body.role,
        }),
      );
      // Seen with the caller's role here as it is now: changing one's own role changes it.
      const viewer = {
        orgRole: access.orgRole,
        workspaceRole: member.userId === actor.id ? member.role : access.workspaceRole,
      };
      return reply.status(added ? 201 : 200).send({ member: presentMember(catalogue, viewer, member) });
    },
  );

  app.delete(
    "/api/v1/workspaces/:ws/members/:user",
    {
      config: { permission: "workspace.users" },
      schema: {
        tags,
        operationId: "removeWorkspaceMember",
        summary: "Take a person's role in this workspace away (they stay in the organisation)",
        params: MemberParams,
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const actor = actorOf(request);
      const place = { orgId, workspaceId: request.params.ws };
      await transact(services, (tx) =>
        removeWorkspaceMember(tx, catalogue, actor, place, request.params.user),
      );
      return sendEmpty(reply, 204);
    },
  );

  app.post(
    "/api/v1/workspaces/:ws/authorize",
    {
      config: { permission: "workspace.member", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "authorizeInWorkspace",
        summary: "May this person (default: me) do this in the workspace? With the reason in words",
        description:
          "Asking about another user needs workspace.users. A user outside the organisation (or " +
          'unknown) gets allowed false, role null, reason "not a member of this organisation".',
        params: WsParams,
        body: AuthorizeQuestion,
        response: { 200: ref(Authorization), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const access = requireAccess(request);
      const caller = callerOf(request);
      return authorizeInWorkspace(
        db,
        catalogue,
        { userId: caller.id, standing: access, reader: access.reader === true },
        request.params.ws,
        request.body,
      );
    },
  );
}
