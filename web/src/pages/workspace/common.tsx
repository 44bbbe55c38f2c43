// What the workspace pages share: the workspace the URL names (loading, not found, error), the
// names of its admins (for the "ask …" of a refusal), and the catalogue's permissions in words.
import { type QueryClient, useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { api, call, isApiError } from "../../api/client";
import type { WorkspaceDetail } from "../../api/types";
import { Forbidden, NotFoundPage } from "../../components/Forbidden";
import { ErrorNotice, Loading } from "../../components/Page";
import { hasPermission, keys, usePlaceParams, useWorkspace } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import "./workspace.css";

export interface WorkspacePlace {
  orgId: string;
  wsId: string;
  detail: WorkspaceDetail;
}

/**
 * Renders `children` with the workspace of the URL once it has loaded; a workspace that does not
 * exist (or that I may no longer enter) shows the not-found page, never a broken screen.
 */
export function WithWorkspace({ children }: { children: (place: WorkspacePlace) => ReactNode }) {
  const { orgId, wsId } = usePlaceParams();
  const workspace = useWorkspace(wsId);
  if (!wsId)
    return <NotFoundPage what="workspace" back={{ to: `/orgs/${orgId}`, label: "Back to workspaces" }} />;
  if (workspace.isPending) return <Loading label="Loading the workspace…" rows={4} />;
  if (workspace.isError) {
    if (isApiError(workspace.error) && workspace.error.status === 404) {
      return <NotFoundPage what="workspace" back={{ to: `/orgs/${orgId}`, label: "Back to workspaces" }} />;
    }
    return <ErrorNotice error={workspace.error} retry={() => void workspace.refetch()} />;
  }
  return <>{children({ orgId, wsId, detail: workspace.data })}</>;
}

/** The names of the workspace's admins (direct role), to say whom to ask. */
export function useWorkspaceAdmins(wsId: string) {
  return useQuery({
    queryKey: [...keys.workspaceMembers(wsId), "admins"],
    queryFn: async () => {
      const page = await call(
        api.GET("/api/v1/workspaces/{ws}/members", {
          params: { path: { ws: wsId }, query: { role: "admin", limit: 20 } },
        }),
      );
      return page.items.map((m) => m.name);
    },
  });
}

/** "You need the Admin role in Field Ops; ask Ada or Bob", with the admins' names once known. */
export function WorkspaceForbidden({ place, need }: { place: WorkspacePlace; need: string }) {
  const admins = useWorkspaceAdmins(place.wsId);
  if (admins.isPending) return <Loading rows={2} />;
  return (
    <Forbidden
      need={need}
      place={place.detail.workspace.name}
      current={roleLabel(place.detail.role)}
      ask={admins.data ?? []}
      back={{ to: `/orgs/${place.orgId}/workspaces/${place.wsId}`, label: "Back to the workspace" }}
    />
  );
}

/** Everything a change of membership may have changed, for every page that shows it. */
export async function refreshMembership(
  client: QueryClient,
  place: { orgId: string; wsId: string },
  mine: boolean,
) {
  await Promise.all([
    client.invalidateQueries({ queryKey: keys.workspaceMembers(place.wsId) }),
    client.invalidateQueries({ queryKey: keys.members(place.orgId) }),
    ...(mine
      ? [
          client.invalidateQueries({ queryKey: keys.workspace(place.wsId) }),
          client.invalidateQueries({ queryKey: keys.workspaces(place.orgId) }),
        ]
      : []),
  ]);
}

export function canManageUsers(detail: WorkspaceDetail): boolean {
  return hasPermission(detail, "workspace.users");
}

/** The Users & Invitations page opens for admins (who manage) and editors (who read the list). */
export function canSeeUsers(detail: WorkspaceDetail): boolean {
  return hasPermission(detail, "workspace.users") || hasPermission(detail, "flows.write");
}

/** The default catalogue's workspace permissions (docs/roles.md), grouped as people think of them. */
const AREAS: { area: string; permissions: { name: string; verb: string }[] }[] = [
  {
    area: "Flows",
    permissions: [
      { name: "flows.read", verb: "read" },
      { name: "flows.write", verb: "write" },
      { name: "flows.start", verb: "start" },
    ],
  },
  { area: "Messages", permissions: [{ name: "messages.send", verb: "send" }] },
  {
    area: "Contacts",
    permissions: [
      { name: "contacts.read", verb: "read" },
      { name: "contacts.write", verb: "write" },
    ],
  },
  {
    area: "Imports and exports",
    permissions: [
      { name: "imports.create", verb: "import flows" },
      { name: "exports.create", verb: "export" },
    ],
  },
  {
    area: "Tickets",
    permissions: [
      { name: "tickets.read", verb: "read" },
      { name: "tickets.respond", verb: "respond" },
    ],
  },
  { area: "Settings", permissions: [{ name: "workspace.settings", verb: "name, timezone, language" }] },
  { area: "Integrations", permissions: [{ name: "workspace.integrations", verb: "manage" }] },
  { area: "Users", permissions: [{ name: "workspace.users", verb: "invite, change roles, remove" }] },
];

export interface AreaSummary {
  area: string;
  verbs: string[];
}

/**
 * Splits the catalogue into what `permissions` allow and what they do not, area by area
 * ("Flows: read, write, start"). A permission a host added (ROLES_FILE) is listed under its own
 * prefix.
 */
export function summarisePermissions(permissions: string[]): { can: AreaSummary[]; cannot: AreaSummary[] } {
  const have = new Set(permissions);
  const can: AreaSummary[] = [];
  const cannot: AreaSummary[] = [];
  const known = new Set<string>();
  for (const { area, permissions: list } of AREAS) {
    const yes = list.filter((p) => have.has(p.name)).map((p) => p.verb);
    const no = list.filter((p) => !have.has(p.name)).map((p) => p.verb);
    for (const p of list) known.add(p.name);
    if (yes.length > 0) can.push({ area, verbs: yes });
    if (no.length > 0) cannot.push({ area, verbs: no });
  }
  const extra = new Map<string, string[]>();
  for (const p of permissions) {
    if (known.has(p)) continue;
    const [prefix = p, ...rest] = p.split(".");
    const area = prefix.charAt(0).toUpperCase() + prefix.slice(1).replace(/_/g, " ");
    extra.set(area, [...(extra.get(area) ?? []), rest.join(" ").replace(/_/g, " ") || "yes"]);
  }
  for (const [area, verbs] of extra) can.push({ area, verbs });
  return { can, cannot };
}

/** "pt-BR" → "Portuguese (Brazil)", in the reader's language; the tag itself when unknown. */
export function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames(undefined, { type: "language" }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** The time now in `timezone`, e.g. "14:05"; empty when the zone is unknown to this browser. */
export function timeIn(timezone: string, now: Date = new Date()): string {
  try {
    return new Intl.DateTimeFormat(undefined, { timeZone: timezone, timeStyle: "short" }).format(now);
  } catch {
    return "";
  }
}

/**
 * The API's message for a field as a sentence: it says "must be at least 1" about the field it
 * names, so the field's name goes first ("Maximum uses must be at least 1.").
 */
export function fieldSentence(label: string, message: string | undefined): string | undefined {
  if (!message) return undefined;
  return /^(must|is|has)\b/.test(message) ? `${label} ${message}.` : message;
}
