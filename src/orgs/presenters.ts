// What leaves the server about organisations and members. The schemas are the response schemas:
// Fastify serialises only the fields they name.
import { Type } from "typebox";
import type { OrganizationRow } from "../db/schema.js";
import { Page, SearchPage, Timestamp } from "../http/schemas.js";
import type { Member } from "./operations.js";

export const Organization = Type.Object(
  { id: Type.String(), name: Type.String(), createdAt: Timestamp },
  { $id: "Organization" },
);

export const MyOrganization = Type.Object(
  { id: Type.String(), name: Type.String(), role: Type.String({ description: "The caller's org role" }) },
  { $id: "MyOrganization", description: "An organisation the caller belongs to, with their role in it" },
);

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

export function presentMember(m: Member) {
  return {
    userId: m.user_id,
    name: m.name,
    email: m.email,
    role: m.role,
    joinedAt: m.created_at.toISOString(),
    workspaces: m.workspaces.map((w) => ({ id: w.id, name: w.name, role: w.role })),
  };
}
