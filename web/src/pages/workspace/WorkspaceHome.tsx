// A workspace's overview: its settings at a glance, my role in it with what that role may and may
// not do, and the way to the settings pages my role opens.
import { Link } from "react-router";
import { Icon } from "../../components/Icon";
import { Badge, Card, PageHeader } from "../../components/Page";
import { hasPermission, useOrganization } from "../../lib/places";
import { ORG_ROLES, roleLabel, WORKSPACE_ROLES } from "../../lib/roles";
import {
  type AreaSummary,
  canManageUsers,
  canSeeUsers,
  languageName,
  summarisePermissions,
  timeIn,
  WithWorkspace,
  type WorkspacePlace,
} from "./common";

export function WorkspaceHomePage() {
  return <WithWorkspace>{(place) => <Overview place={place} />}</WithWorkspace>;
}

function Overview({ place }: { place: WorkspacePlace }) {
  const { orgId, wsId, detail } = place;
  const { workspace, role, permissions } = detail;
  const org = useOrganization(orgId);
  const orgRole = org.data?.role;
  // My role here is the one my org role acts as everywhere (the server says which that is).
  const throughOrg = orgRole !== undefined && org.data?.actsAs != null && org.data.actsAs === role;
  const described = WORKSPACE_ROLES.find((r) => r.value === role);
  const { can, cannot } = summarisePermissions(permissions);
  const base = `/orgs/${orgId}/workspaces/${wsId}`;
  const links = [
    canSeeUsers(detail) && {
      to: `${base}/users`,
      icon: "users" as const,
      title: "Users & Invitations",
      text: canManageUsers(detail)
        ? "Invite people, change their roles, remove them."
        : "See who works in this workspace.",
    },
    hasPermission(detail, "workspace.settings") && {
      to: `${base}/settings`,
      icon: "settings" as const,
      title: "General",
      text: "Name, timezone and language.",
    },
  ].filter((l) => l !== false);
  const localTime = timeIn(workspace.timezone);

  return (
    <>
      <PageHeader title={workspace.name} description="A workspace of your organisation." />
      <div className="ws-overview">
        <Card title="About this workspace">
          <dl className="summary-list">
            <div>
              <dt>Timezone</dt>
              <dd>
                {workspace.timezone}
                {localTime && <span className="muted small ws-inline-note">{localTime} there now</span>}
              </dd>
            </div>
            <div>
              <dt>Language</dt>
              <dd>
                {languageName(workspace.language)} <span className="muted small">({workspace.language})</span>
              </dd>
            </div>
          </dl>
        </Card>
        <Card title="Your role">
          <p className="ws-role">
            <Badge tone="info">{roleLabel(role)}</Badge>
            <span>{described?.description ?? `The ${roleLabel(role)} role of this server.`}</span>
          </p>
          {throughOrg && (
            <p className="muted small">
              You are an {ORG_ROLES.find((r) => r.value === orgRole)?.label.toLowerCase() ?? orgRole} of the
              organisation, so you act as an admin in every one of its workspaces.
            </p>
          )}
        </Card>
      </div>

      <div className="ws-abilities">
        <Card title="What you can do here">
          <AbilityList areas={can} empty="Your role gives you nothing in this workspace yet." positive />
        </Card>
        <Card title="What your role does not include">
          <AbilityList
            areas={cannot}
            empty="Nothing: your role can do everything in this workspace."
            positive={false}
          />
          {cannot.length > 0 && (
            <p className="muted small ws-ask">If you need more, ask an admin of this workspace.</p>
          )}
        </Card>
      </div>

      {links.length > 0 && (
        <section aria-labelledby="ws-settings-title" className="ws-links">
          <h2 id="ws-settings-title">Workspace settings</h2>
          <div className="grid-cards">
            {links.map((l) => (
              <Link key={l.to} to={l.to} className="tile">
                <span className="tile-title">
                  <Icon name={l.icon} /> {l.title}
                </span>
                <span className="tile-meta">{l.text}</span>
              </Link>
            ))}
          </div>
        </section>
      )}
    </>
  );
}

function AbilityList({ areas, empty, positive }: { areas: AreaSummary[]; empty: string; positive: boolean }) {
  if (areas.length === 0) return <p className="muted">{empty}</p>;
  return (
    <ul className={`ws-abilities-list ${positive ? "ws-can" : "ws-cannot"}`}>
      {areas.map((a) => (
        <li key={a.area}>
          <span className="ws-ability-mark" aria-hidden="true">
            <Icon name={positive ? "check" : "close"} size={16} />
          </span>
          <span>
            <strong>{a.area}</strong>: {a.verbs.join(", ")}
          </span>
        </li>
      ))}
    </ul>
  );
}
