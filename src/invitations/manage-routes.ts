// HTTP only: schemas in, schemas out. The rules live in manage.ts.
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import { ORG_ROLES } from "../access/catalogue.js";
import { orgStanding } from "../access/queries.js";
import { decodeCursor, page } from "../core/paging.js";
import { transact } from "../db/transaction.js";
import { actorOf, requireAccess } from "../http/guard.js";
import { Email, Empty, Page, problems, ref, sendEmpty, Timestamp } from "../http/schemas.js";
import { MAIL_STATUSES } from "../mail/outbox.js";
import type { Services } from "../services.js";
import { type InvitationAbilities, invitationAbilities } from "./authority.js";
import {
  cancelInvitation,
  createInvitation,
  listInvitations,
  listWorkspaceInvitations,
  type ManageContext,
  type ManagedInvitation,
  resendInvitation,
} from "./manage.js";
import {
  DEFAULT_LIFETIME_HOURS,
  DELIVERIES,
  INVITATION_STATUSES,
  MAX_LIFETIME_HOURS,
  MAX_LINK_USES,
  type MailState,
  presentInvitation,
} from "./model.js";

const Id = Type.String({ minLength: 1, maxLength: 100 });
const Status = Type.Enum(INVITATION_STATUSES);
const Delivery = Type.Enum(DELIVERIES, {
  description: "email: Rollcall mails a single-use link to the address; link: the inviter shares it",
});
const ExpiresInHours = Type.Integer({
  minimum: 1,
  maximum: MAX_LIFETIME_HOURS,
  description: `Hours until the invitation expires (default ${DEFAULT_LIFETIME_HOURS})`,
});
const MaxUses = Type.Integer({
  minimum: 1,
  maximum: MAX_LINK_USES,
  description: "How many people may join through a link invitation (default 1); e-mail invitations: 1",
});

const Invitation = Type.Object(
  {
    id: Type.String(),
    delivery: Delivery,
    email: Type.Union([Type.String(), Type.Null()]),
    role: Type.String(),
    workspaces: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() })),
    status: Status,
    createdAt: Timestamp,
    expiresAt: Timestamp,
    invitedBy: Type.Object({ id: Type.Union([Type.String(), Type.Null()]), name: Type.String() }),
    uses: Type.Integer(),
    maxUses: Type.Integer(),
    mail: Type.Union([
      Type.Object({
        status: Type.Enum(MAIL_STATUSES),
        lastError: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ]),
    abilities: Type.Object(
      {
        resend: Type.Boolean({
          description: "The caller may resend it (POST /api/v1/invitations/{id}/resend)",
        }),
        cancel: Type.Boolean({ description: "The caller may cancel it (DELETE /api/v1/invitations/{id})" }),
      },
      { description: "What the caller may do with it: decided as those routes decide, while it is open" },
    ),
  },
  { $id: "Invitation", description: "An invitation to join an organisation; never its token" },
);

const Created = Type.Object(
  {
    invitation: ref(Invitation),
    url: Type.Optional(
      Type.String({ description: "Link delivery only, shown once: PUBLIC_URL/invite/{token}" }),
    ),
  },
  { $id: "CreatedInvitation", description: "An invitation just made or resent, with its link once" },
);
const InvitationPage = Page(Invitation);

/** The components of this module, for addSchema (app.ts). */
export const invitationSchemas = [Invitation, Created, InvitationPage];

const ListQuery = Type.Object({
  status: Type.Optional(Status),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

/** Nothing: for a caller whose standing is gone by the time the answer is made. */
const NO_ABILITIES: InvitationAbilities = { resend: false, cancel: false };

export async function invitationManagementRoutes(
  fastify: FastifyInstance,
  services: Services,
): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { catalogue, config, db } = services;
  const tags = ["invitations"];
  const OrgRole = Type.Enum(ORG_ROLES, { description: "An organisation role" });
  const WorkspaceRole = Type.Enum(
    catalogue.workspaceRoles.map((r) => r.name),
    { description: "A workspace role of the catalogue" },
  );
  const ctx: ManageContext = {
    catalogue,
    publicUrl: config.publicUrl,
    rateLimit: {
      limiter: services.limiter,
      limit: config.rateLimits.invitationsOrg,
      recipientLimit: config.rateLimits.invitationMailsRecipient,
    },
  };

  /** A created or resent invitation, with what the caller may do with it now. */
  async function created(request: FastifyRequest, result: ManagedInvitation) {
    const { row } = result;
    const user = actorOf(request);
    const standing = await orgStanding(db, row.org_id, user.id);
    const abilities = standing
      ? await invitationAbilities(db, catalogue, { userId: user.id, orgRole: standing.orgRole }, row.org_id, [
          row,
        ])
      : undefined;
    const invitation = {
      ...presentInvitation(row, result.grants, result.mail),
      abilities: abilities?.get(row.id) ?? NO_ABILITIES,
    };
    return result.url ? { invitation, url: result.url } : { invitation };
  }

  app.post(
    "/api/v1/orgs/:org/invitations",
    {
      config: { permission: "org.users" },
      schema: {
        tags,
        operationId: "createInvitation",
        summary: "Invite someone to the organisation, by e-mail or as a shareable link",
        params: Type.Object({ org: Id }),
        body: Type.Object({
          delivery: Type.Optional(Delivery),
          email: Type.Optional(Email),
          role: OrgRole,
          workspaces: Type.Optional(
            Type.Array(Type.Object({ workspaceId: Id, role: WorkspaceRole }), { maxItems: 200 }),
          ),
          expiresInHours: Type.Optional(ExpiresInHours),
          maxUses: Type.Optional(MaxUses),
        }),
        response: { 201: ref(Created), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const user = actorOf(request);
      const result = await transact(services, (tx) =>
        createInvitation(
          tx,
          ctx,
          actorOf(request),
          { kind: "member", userId: user.id, workspaceId: null },
          // The path's organisation last: nothing in a body may choose another one.
          { ...request.body, orgId },
        ),
      );
      return reply.status(201).send(await created(request, result));
    },
  );

  app.post(
    "/api/v1/workspaces/:ws/invitations",
    {
      config: { permission: "workspace.users" },
      schema: {
        tags,
        operationId: "createWorkspaceInvitation",
        summary: "Invite someone into this workspace; they join the organisation as member",
        params: Type.Object({ ws: Id }),
        body: Type.Object({
          delivery: Type.Optional(Delivery),
          email: Type.Optional(Email),
          role: WorkspaceRole,
          expiresInHours: Type.Optional(ExpiresInHours),
          maxUses: Type.Optional(MaxUses),
        }),
        response: { 201: ref(Created), ...problems(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orgId } = requireAccess(request);
      const user = actorOf(request);
      const { role, ...rest } = request.body;
      const result = await transact(services, (tx) =>
        createInvitation(
          tx,
          ctx,
          actorOf(request),
          { kind: "member", userId: user.id, workspaceId: request.params.ws },
          {
            ...rest,
            orgId,
            role: "member",
            workspaces: [{ workspaceId: request.params.ws, role }],
          },
        ),
      );
      return reply.status(201).send(await created(request, result));
    },
  );

  async function listed(request: FastifyRequest, query: Static<typeof ListQuery>, workspaceId?: string) {
    const { orgId, orgRole } = requireAccess(request);
    const user = actorOf(request);
    const { limit, cursor, status } = query;
    const options = { status, limit, after: decodeCursor(cursor) };
    const { rows, grants, mail } = workspaceId
      ? await listWorkspaceInvitations(db, catalogue, { orgId, orgRole }, { ...options, workspaceId })
      : await listInvitations(db, orgId, options);
    const result = page(rows, limit, (r) => r.id);
    // The whole page at once: two queries, however many invitations it holds.
    const abilities = await invitationAbilities(
      db,
      catalogue,
      { userId: user.id, orgRole },
      orgId,
      result.items,
    );
    return {
      items: result.items.map((r) => ({
        ...presentInvitation(
          r,
          grants.get(r.id) ?? [],
          r.mail_id ? (mail.get(r.mail_id) as MailState | undefined) : undefined,
        ),
        abilities: abilities.get(r.id) ?? NO_ABILITIES,
      })),
      nextCursor: result.nextCursor,
    };
  }

  app.get(
    "/api/v1/orgs/:org/invitations",
    {
      config: { permission: "org.users" },
      schema: {
        tags,
        operationId: "listInvitations",
        summary: "The organisation's invitations, newest first; status is as people see it (expiry included)",
        params: Type.Object({ org: Id }),
        querystring: ListQuery,
        response: { 200: ref(InvitationPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => listed(request, request.query),
  );

  app.get(
    "/api/v1/workspaces/:ws/invitations",
    {
      config: { permission: "workspace.users" },
      schema: {
        tags,
        operationId: "listWorkspaceInvitations",
        summary: "The invitations that grant this workspace, newest first",
        description:
          "Org owners and admins see them as in the organisation's list. A workspace admin sees " +
          "what concerns this workspace: the invitations as org member, each with this workspace's " +
          "grant alone in workspaces.",
        params: Type.Object({ ws: Id }),
        querystring: ListQuery,
        response: { 200: ref(InvitationPage), ...problems(401, 403, 404) },
      },
    },
    async (request) => listed(request, request.query, request.params.ws),
  );

  app.post(
    "/api/v1/invitations/:id/resend",
    {
      // "As for creating it": decided by the operation from the invitation's organisation.
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "resendInvitation",
        summary: "New token (the old link dies), new expiry, and for e-mail a new mail",
        params: Type.Object({ id: Id }),
        response: { 200: ref(Created), ...problems(401, 403, 404, 409, 410) },
      },
    },
    async (request) => {
      const user = actorOf(request);
      const result = await transact(services, (tx) =>
        resendInvitation(tx, ctx, actorOf(request), user.id, request.params.id),
      );
      return created(request, result);
    },
  );

  app.delete(
    "/api/v1/invitations/:id",
    {
      config: { permission: "session" },
      schema: {
        tags,
        operationId: "cancelInvitation",
        summary: "Cancel the invitation: its link stops working",
        params: Type.Object({ id: Id }),
        response: { 204: Empty, ...problems(401, 403, 404, 410) },
      },
    },
    async (request, reply) => {
      const user = actorOf(request);
      await transact(services, (tx) =>
        cancelInvitation(tx, catalogue, actorOf(request), user.id, request.params.id),
      );
      return sendEmpty(reply, 204);
    },
  );
}
