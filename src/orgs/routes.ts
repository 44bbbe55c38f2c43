// HTTP only: schemas in, schemas out. The rules live in operations.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { permissionsOf } from "../access/can.js";
import { ORG_ROLES } from "../access/catalogue.js";
import { limitSearch } from "../core/rate-limit.js";
import { transact } from "../db/transaction.js";
import { actorOf, callerOf, requireAccess, requireAuth } from "../http/guard.js";
import {
  Authorization,
  AuthorizeQuestion,
  Empty,
  PageQuery,
  problems,
  ref,
  sendEmpty,
} from "../http/schemas.js";
import type { Services } from "../services.js";
import {
  authorizeInOrg,
  type Caller,
  changeMemberRole,
  createOwnedOrganization,
  deleteOrganization,
  getOrganization,
  listMembers,
  listUserOrganizationsPage,
  removeMember,
  renameOrganization,
} from "./operations.js";
import {
  ActsAs,
  MemberPage,
  MemberSchema,
  MyOrganizationPage,
  Organization,
  presentMember,
  presentOrganization,
} from "./presenters.js";
import { decodeTimeCursor } from "./queries.js";

const OrgName = Type.String({ minLength: 1, maxLength: 200, pattern: "\\S" });
const Id = Type.String({ minLength: 1, maxLength: 100 });
const OrgParams = Type.Object({ org: Id });
const MemberParams = Type.Object({ org: Id, user: Id });

/** The person or API key changing a membership, with their org role. */
function changerOf(request: FastifyRequest): Caller {
  return { actor: actorOf(request), orgRole: requireAccess(request).orgRole };
}

export async function orgRoutes(fastify: FastifyInstance, services: Services): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db, catalogue, config, limiter } = services;
  const tags = ["organizations"];
  const OrgRole = Type.Enum(ORG_ROLES, { description: "An organisation role of the catalogue" });

  app.post(
    "/api/v1/orgs",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "createOrganization",
        summary: "Create an organisation, with one workspace; the caller is its owner",
        body: Type.Object({ name: OrgName }),
        response: { 201: Type.Object({ organization: ref(Organization) }), ...problems(401) },
      },
    },
    async (request, reply) => {
      const { organization } = await transact(services, (tx) =>
        createOwnedOrganization(tx, actorOf(request), request.body.name, {
          limiter: services.limiter,
          limit: services.config.rateLimits.orgsUser,
        }),
      );
      return reply.status(201).send({ organization: presentOrganization(organization) });
    },
  );

  app.get(
    "/api/v1/orgs",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "listOrganizations",
        summary: "My organisations with my role in each, oldest membership first",
        querystring: PageQuery,
        response: { 200: ref(MyOrganizationPage), ...problems(401) },
      },
    },
    async (request) => {
      const { user } = requireAuth(request);
      const { limit, cursor } = request.query;
      return listUserOrganizationsPage(db, user.id, { limit, after: decodeTimeCursor(cursor) });
    },
  );

  app.get(
    "/api/v1/orgs/:org",
    {
      config: { permission: "org.read", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "getOrganization",
        summary: "An organisation, my role in it and the permissions that role gives",
        params: OrgParams,
        response: {
          200: Type.Object({
            organization: ref(Organization),
            role: Type.Union([Type.String(), Type.Null()], {
              description: "My org role; null for a service key, which reads without one",
            }),
            permissions: Type.Array(Type.String()),
            actsAs: ActsAs,
          }),
          ...problems(401, 403, 404),
        },
      },
    },
    async (request) => {
      const { orgId, orgRole, reader } = requireAccess(request);
      const organization = await getOrganization(db, orgId);
      return {
        organization: presentOrganization(organization),
        role: reader ? null : orgRole,
        permissions: permissionsOf(catalogue, { orgRole }, "org"),
        actsAs: catalogue.orgRoleActsAs[orgRole] ?? null,
      };
    },
  );

  app.patch(
    "/api/v1/orgs/:org",
    {
      config: { permission: "org.settings" },
      schema: {
        tags,
        operationId: "updateOrganization",
        summary: "Rename an organisation",
        params: OrgParams,
        body: Type.Object({ name: OrgName }),
        response: { 200: Type.Object({ organization: ref(Organization) }), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const organization = await transact(services, (tx) =>
        renameOrganization(tx, actorOf(request), orgId, request.body.name),
      );
      return { organization: presentOrganization(organization) };
    },
  );

  app.delete(
    "/api/v1/orgs/:org",
    {
      config: { permission: "org.owners" },
      schema: {
        tags,
        operationId: "deleteOrganization",
        summary: "Delete an organisation with its workspaces, memberships, audit trail and unsent mail",
        params: OrgParams,
        response: { 204: Empty, ...problems(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) => deleteOrganization(tx, actorOf(request), orgId));
      return sendEmpty(reply, 204);
    },
  );

  app.get(
    "/api/v1/orgs/:org/members",
    {
      config: { permission: "org.users", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "listOrganizationMembers",
        summary: "Members with their org role and the workspace roles granted to them, by join date",
        params: OrgParams,
        querystring: Type.Object({
          ...PageQuery.properties,
          q: Type.Optional(
            Type.String({
              maxLength: 200,
              description: "Matches name or e-mail anywhere, case-insensitively",
            }),
          ),
          role: Type.Optional(OrgRole),
        }),
        response: { 200: ref(MemberPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId, orgRole } = requireAccess(request);
      const { id: callerId } = callerOf(request);
      const { limit, cursor, q, role } = request.query;
      const after = decodeTimeCursor(cursor);
      if (q?.trim()) await limitSearch(limiter, config.rateLimits.searchUser, callerId);
      const result = await listMembers(services, orgId, { q, role, limit, after });
      const caller = { userId: callerId, orgRole };
      return { ...result, items: result.items.map((m) => presentMember(catalogue, caller, m)) };
    },
  );

  app.patch(
    "/api/v1/orgs/:org/members/:user",
    {
      config: { permission: "org.users" },
      schema: {
        tags,
        operationId: "updateOrganizationMember",
        summary: "Change a member's org role (granting or revoking owner takes an owner)",
        params: MemberParams,
        body: Type.Object({ role: OrgRole }),
        response: { 200: Type.Object({ member: ref(MemberSchema) }), ...problems(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { orgId } = requireAccess(request);
      const caller = changerOf(request);
      const member = await transact(services, (tx) =>
        changeMemberRole(tx, catalogue, caller, orgId, request.params.user, request.body.role),
      );
      // Seen with the caller's role as it is now: changing one's own role changes it.
      const self = member.user_id === caller.actor.id;
      const viewer = { userId: caller.actor.id, orgRole: self ? member.role : caller.orgRole };
      return { member: presentMember(catalogue, viewer, member) };
    },
  );

  app.delete(
    "/api/v1/orgs/:org/members/:user",
    {
      // A member may always name themselves: that is leaving.
      config: { permission: "org.users", selfParam: "user" },
      schema: {
        tags,
        operationId: "removeOrganizationMember",
        summary: "Remove a member from the organisation and its workspaces, or leave it (your own id)",
        params: MemberParams,
        response: { 204: Empty, ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      await transact(services, (tx) =>
        removeMember(tx, catalogue, changerOf(request), orgId, request.params.user),
      );
      return sendEmpty(reply, 204);
    },
  );

  app.post(
    "/api/v1/orgs/:org/authorize",
    {
      config: { permission: "org.read", serviceKeyReads: true },
      schema: {
        tags,
        operationId: "authorizeInOrganization",
        summary: "May this person (default: me) use this organisation permission? With the reason in words",
        description:
          "Asking about another user needs org.users (a service key may ask about anyone). A user outside the " +
          'organisation (or unknown) gets allowed false, role null, reason "not a member of this organisation". ' +
          "Workspace permissions are asked of the workspace (POST /api/v1/workspaces/{ws}/authorize).",
        params: OrgParams,
        body: AuthorizeQuestion,
        response: { 200: ref(Authorization), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { orgId, orgRole, reader } = requireAccess(request);
      const caller = callerOf(request);
      return authorizeInOrg(
        db,
        catalogue,
        { userId: caller.id, standing: { orgRole }, reader: reader === true },
        orgId,
        request.body,
      );
    },
  );
}
