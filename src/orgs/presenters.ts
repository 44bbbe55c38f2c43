// What leaves the server about organisations and members. The schemas are the response schemas:
// Fastify serialises only the fields they name.
import { Type } from "typebox";
import type { Catalogue } from "../access/catalogue.js";
import type { OrganizationRow } from "../db/schema.js";
import { Page, SearchPage, Timestamp } from "../http/schemas.js";
import { memberAbilities } from "./abilities.js";
import type { Member } from "./operations.js";

export const Organization = Type.Object(
  { id: Type.String(), name: Type.String(), createdAt: Timestamp },
  { $id: "Organization" },
);

export const MyOrganization = Type.Object(
  { id: Type.String(), name: Type.String(), role: Type.String({ description: "The caller's org role" }) },
  { $id: "MyOrganization", description: "An organisation the caller belongs to, with their role in it" },
);

/** The workspace role an org role acts as everywhere (catalogue.orgRoleActsAs). */
export const ActsAs = Type.Union([Type.String(), Type.Null()], {
  description:
    "The workspace role this org role acts as in every workspace of the organisation (owner and admin: admin), or null",
});

export const MemberSchema = Type.Object(
  {
    userId: Type.String(),
    name: Type.String(),
    email: Type.String(),
    role: Type.String(),
    joinedAt: Timestamp,
    workspaces: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() }), {
      description: "Workspace roles granted directly",
    }),
    actsAs: ActsAs,
    abilities: Type.Object(
      {
        changeRole: Type.Boolean({ description: "The caller may give this member another org role" }),
        remove: Type.Boolean({
          description: "The caller may remove this member (the caller themselves: leave the organisation)",
        }),
      },
      {
        description:
          "What the caller may do to this member, as PATCH and DELETE …/members/{user} decide it; " +
          "the last owner's 409 is still answered when tried",
      },
    ),
  },
  { $id: "Member", description: "A member of an organisation" },
);

export const MyOrganizationPage = Page(MyOrganization);
export const MemberPage = SearchPage(MemberSchema);

/** The components of this module, for addSchema (app.ts). */
export const orgSchemas = [Organization, MyOrganization, MyOrganizationPage, MemberSchema, MemberPage];

export function presentOrganization(o: OrganizationRow) {
  return { id: o.id, name: o.name, createdAt: o.created_at.toISOString() };
}

/** A member as `caller` sees them: with what their org role acts as, and what the caller may do to them. */
export function presentMember(catalogue: Catalogue, caller: { userId: string; orgRole: string }, m: Member) {
  return {
    userId: m.user_id,
    name: m.name,
    email: m.email,
    role: m.role,
    joinedAt: m.created_at.toISOString(),
    workspaces: m.workspaces.map((w) => ({ id: w.id, name: w.name, role: w.role })),
    actsAs: catalogue.orgRoleActsAs[m.role] ?? null,
    abilities: memberAbilities(catalogue, caller, { userId: m.user_id, role: m.role }),
  };
}
