// Names for the shapes the console reads, all derived from the generated API types.
import type { Answer } from "./client";

export type Me = Answer<"/api/v1/me", "get">;
export type User = Me["user"];
export type MyOrganization = Me["organizations"][number];
/**
 * A place as a person sees it: with their role. The API answers `role: null` only to the
 * installation's service key, which reads without one; the console is always a person's.
 */
export type AsPerson<T extends { role: string | null }> = Omit<T, "role"> & { role: string };
export type OrgDetail = AsPerson<Answer<"/api/v1/orgs/{org}", "get">>;
export type Organization = OrgDetail["organization"];
export type OrgMember = Answer<"/api/v1/orgs/{org}/members", "get">["items"][number];
type WorkspacePage = Answer<"/api/v1/orgs/{org}/workspaces", "get">;
export type WorkspaceList = Omit<WorkspacePage, "items"> & {
  items: AsPerson<WorkspacePage["items"][number]>[];
};
export type WorkspaceDetail = AsPerson<Answer<"/api/v1/workspaces/{ws}", "get">>;
export type Workspace = WorkspaceDetail["workspace"];
export type WorkspaceMember = Answer<"/api/v1/workspaces/{ws}/members", "get">["items"][number];
export type Invitation = Answer<"/api/v1/orgs/{org}/invitations", "get">["items"][number];
export type InvitationLookup = Answer<"/api/v1/invitations/lookup", "get">;
export type DeviceSession = Answer<"/api/v1/me/sessions", "get">["items"][number];
export type ApiKey = Answer<"/api/v1/orgs/{org}/api-keys", "get">["items"][number];
export type CreatedApiKey = Answer<"/api/v1/orgs/{org}/api-keys", "post">;
export type Webhook = Answer<"/api/v1/orgs/{org}/webhooks", "get">["items"][number];
export type CreatedWebhook = Answer<"/api/v1/orgs/{org}/webhooks", "post">;
export type WebhookDelivery = Answer<"/api/v1/orgs/{org}/webhooks/{id}/deliveries", "get">["items"][number];
export type AuditEvent = Answer<"/api/v1/orgs/{org}/audit", "get">["items"][number];
