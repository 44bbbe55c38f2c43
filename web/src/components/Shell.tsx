// The signed-in frame: a header with the organisation switcher, the workspace picker and the
// profile menu, a navigation that offers only what the caller's roles allow, and the page.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { NavLink, Outlet, useNavigate, useParams } from "react-router";
import { api, call } from "../api/client";
import { rememberOrganization, useMe, useResetSession, useSignedIn } from "../lib/auth";
import { hasPermission, useOrganization, useWorkspace, useWorkspaces } from "../lib/places";
import { roleLabel } from "../lib/roles";
import { Icon } from "./Icon";
import { Menu } from "./Menu";

export function Shell() {
  const { orgId, wsId } = useParams();
  useEffect(() => {
    if (orgId) rememberOrganization(orgId);
  }, [orgId]);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="Rollcall home">
          <img src="/favicon.svg" alt="" width={28} height={28} />
          <span className="brand-name">Rollcall</span>
        </NavLink>
        <div className="topbar-places">
          <OrgSwitcher orgId={orgId} />
          {orgId && <WorkspacePicker orgId={orgId} wsId={wsId} />}
        </div>
        <ProfileMenu />
      </header>
      <div className="frame">
        {orgId && <SideNav orgId={orgId} wsId={wsId} />}
        <main id="main" className="content" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </div>
  );
}

function OrgSwitcher({ orgId }: { orgId: string | undefined }) {
  const me = useSignedIn();
  const navigate = useNavigate();
  const current = me.organizations.find((o) => o.id === orgId);
  return (
    <Menu
      label="Switch organisation"
      button={
        <span className="place-button">
          <Icon name="building" />
          <span className="place-name">{current?.name ?? "Organisations"}</span>
        </span>
      }
      items={[
        ...me.organizations.map((o) => ({
          key: o.id,
          label: o.name,
          detail: roleLabel(o.role),
          current: o.id === orgId,
          onSelect: () => navigate(`/orgs/${o.id}`),
        })),
        {
          key: "new",
          label: "Create organisation",
          icon: <Icon name="plus" />,
          separatorBefore: me.organizations.length > 0,
          onSelect: () => navigate("/orgs/new"),
        },
      ]}
    />
  );
}

function WorkspacePicker({ orgId, wsId }: { orgId: string; wsId: string | undefined }) {
  const workspaces = useWorkspaces(orgId);
  const navigate = useNavigate();
  const items = workspaces.data?.items ?? [];
  const current = items.find((w) => w.id === wsId);
  if (workspaces.isPending || (items.length === 0 && !wsId)) return null;
  return (
    <Menu
      label="Switch workspace"
      button={
        <span className="place-button">
          <Icon name="grid" />
          <span className="place-name">{current?.name ?? "Workspaces"}</span>
        </span>
      }
      items={items.map((w) => ({
        key: w.id,
        label: w.name,
        detail: roleLabel(w.role),
        current: w.id === wsId,
        onSelect: () => navigate(`/orgs/${orgId}/workspaces/${w.id}`),
      }))}
    />
  );
}

function ProfileMenu() {
  const me = useSignedIn();
  const navigate = useNavigate();
  const reset = useResetSession();
  const client = useQueryClient();
  const logOut = async () => {
    try {
      await call(api.POST("/api/v1/auth/logout"));
    } finally {
      client.clear();
      await reset();
      navigate("/login", { replace: true });
    }
  };
  return (
    <Menu
      label="Profile"
      align="end"
      button={
        <span className="avatar" aria-hidden="true">
          {initials(me.user.name)}
        </span>
      }
      header={
        <div className="menu-header">
          <strong>{me.user.name}</strong>
          <span>{me.user.email}</span>
        </div>
      }
      items={[
        {
          key: "account",
          label: "My account",
          icon: <Icon name="users" />,
          onSelect: () => navigate("/account"),
        },
        {
          key: "devices",
          label: "My devices",
          icon: <Icon name="devices" />,
          onSelect: () => navigate("/devices"),
        },
        {
          key: "logout",
          label: "Log out",
          icon: <Icon name="logout" />,
          separatorBefore: true,
          onSelect: logOut,
        },
      ]}
    />
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts.at(-1)] : [parts[0]];
  return letters.map((p) => [...(p ?? "?")][0]?.toUpperCase() ?? "").join("") || "?";
}

function SideNav({ orgId, wsId }: { orgId: string; wsId: string | undefined }) {
  const org = useOrganization(orgId);
  const ws = useWorkspace(wsId);
  const me = useMe();
  const canOrgUsers = hasPermission(org.data, "org.users");
  const canOrgSettings = hasPermission(org.data, "org.settings");
  const canApiKeys = hasPermission(org.data, "org.apikeys");
  const wsPermissions = ws.data;
  const base = `/orgs/${orgId}`;
  return (
    <nav className="sidenav" aria-label="Organisation and workspace">
      <div className="sidenav-group">
        <p className="sidenav-title">
          {org.data?.organization.name ?? me.data?.organizations.find((o) => o.id === orgId)?.name}
        </p>
        <NavLink end to={base} className="navlink">
          <Icon name="grid" /> Workspaces
        </NavLink>
        {canOrgUsers && (
          <NavLink to={`${base}/members`} className="navlink">
            <Icon name="users" /> User Settings
          </NavLink>
        )}
        {canOrgUsers && (
          <NavLink to={`${base}/audit`} className="navlink">
            <Icon name="log" /> Audit log
          </NavLink>
        )}
        {canApiKeys && (
          <NavLink to={`${base}/api-keys`} className="navlink">
            <Icon name="key" /> API keys
          </NavLink>
        )}
        {canApiKeys && (
          <NavLink to={`${base}/webhooks`} className="navlink">
            <Icon name="link" /> Webhooks
          </NavLink>
        )}
        {canOrgSettings && (
          <NavLink to={`${base}/settings`} className="navlink">
            <Icon name="settings" /> Settings
          </NavLink>
        )}
      </div>
      {wsId && ws.data && (
        <div className="sidenav-group">
          <p className="sidenav-title">{ws.data.workspace.name}</p>
          <NavLink end to={`${base}/workspaces/${wsId}`} className="navlink">
            <Icon name="grid" /> Overview
          </NavLink>
          {(hasPermission(wsPermissions, "workspace.users") ||
            hasPermission(wsPermissions, "flows.write")) && (
            <NavLink to={`${base}/workspaces/${wsId}/users`} className="navlink">
              <Icon name="users" /> Users &amp; Invitations
            </NavLink>
          )}
          {hasPermission(wsPermissions, "workspace.settings") && (
            <NavLink to={`${base}/workspaces/${wsId}/settings`} className="navlink">
              <Icon name="settings" /> General
            </NavLink>
          )}
        </div>
      )}
    </nav>
  );
}
