// The organisation and workspace the URL names (/orgs/:orgId/workspaces/:wsId/…), with the caller's
// role and permissions in each, as the API reports them. Pages offer what these permissions allow.
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api, call } from "../api/client";
import type { AsPerson, WorkspaceList } from "../api/types";

export const keys = {
  org: (orgId: string) => ["org", orgId] as const,
  workspaces: (orgId: string) => ["org", orgId, "workspaces"] as const,
  members: (orgId: string) => ["org", orgId, "members"] as const,
  orgInvitations: (orgId: string) => ["org", orgId, "invitations"] as const,
  audit: (orgId: string) => ["org", orgId, "audit"] as const,
  apiKeys: (orgId: string) => ["org", orgId, "api-keys"] as const,
  webhooks: (orgId: string) => ["org", orgId, "webhooks"] as const,
  webhookDeliveries: (orgId: string, webhookId: string) =>
    ["org", orgId, "webhooks", webhookId, "deliveries"] as const,
  workspace: (wsId: string) => ["ws", wsId] as const,
  workspaceMembers: (wsId: string) => ["ws", wsId, "members"] as const,
  workspaceInvitations: (wsId: string) => ["ws", wsId, "invitations"] as const,
  sessions: () => ["sessions"] as const,
};

export function usePlaceParams(): { orgId: string; wsId: string | undefined } {
  const { orgId, wsId } = useParams();
  if (!orgId) throw new Error("usePlaceParams outside /orgs/:orgId");
  return { orgId, wsId };
}

/** The place as a person sees it (AsPerson): a role-less answer is a service key's, never the console's. */
function personal<T extends { role: string | null }>(answer: T): AsPerson<T> {
  if (answer.role === null) throw new Error("The answer has no role: the console reads as a person.");
  return answer as AsPerson<T>;
}

export function useOrganization(orgId: string) {
  return useQuery({
    queryKey: keys.org(orgId),
    queryFn: async () =>
      personal(await call(api.GET("/api/v1/orgs/{org}", { params: { path: { org: orgId } } }))),
  });
}

/** The workspaces of an organisation I can enter (all of them for owners and admins). */
export function useWorkspaces(orgId: string) {
  return useQuery({
    queryKey: keys.workspaces(orgId),
    queryFn: async (): Promise<WorkspaceList> => {
      const page = await call(
        api.GET("/api/v1/orgs/{org}/workspaces", { params: { path: { org: orgId }, query: { limit: 200 } } }),
      );
      return { ...page, items: page.items.map(personal) };
    },
  });
}

export function useWorkspace(wsId: string | undefined) {
  return useQuery({
    queryKey: keys.workspace(wsId ?? ""),
    queryFn: async () =>
      personal(await call(api.GET("/api/v1/workspaces/{ws}", { params: { path: { ws: wsId ?? "" } } }))),
    enabled: wsId !== undefined,
  });
}

export function hasPermission(detail: { permissions: string[] } | undefined, permission: string): boolean {
  return detail?.permissions.includes(permission) ?? false;
}
