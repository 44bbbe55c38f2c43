// /orgs/:orgId — the organisation's home: my role, the workspaces I can enter as tiles, a "New
// workspace" dialog for those who may create one, and leaving the organisation.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { api, call } from "../../api/client";
import type { OrgDetail } from "../../api/types";
import { Button } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { ME_KEY, useSignedIn } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { hasPermission, keys, usePlaceParams, useWorkspaces } from "../../lib/places";
import { ORG_ROLES, roleLabel } from "../../lib/roles";
import { NewWorkspaceDialog } from "./NewWorkspaceDialog";
import { OrgGate } from "./OrgGate";
import "./org.css";

export function OrgHomePage() {
  const { orgId } = usePlaceParams();
  return <OrgGate orgId={orgId}>{(org) => <OrgHome orgId={orgId} org={org} />}</OrgGate>;
}

function OrgHome({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const [creating, setCreating] = useState(false);
  const canCreate = hasPermission(org, "org.workspaces");
  const name = org.organization.name;
  const roleDescription = ORG_ROLES.find((r) => r.value === org.role)?.description;
  return (
    <>
      <PageHeader
        title={name}
        description={
          <>
            Your role: <Badge tone="info">{roleLabel(org.role)}</Badge>
            {roleDescription && <span className="org-role-note"> {roleDescription}</span>}
          </>
        }
        actions={
          canCreate && (
            <Button variant="primary" onClick={() => setCreating(true)}>
              <Icon name="plus" /> New workspace
            </Button>
          )
        }
      />
      <section aria-labelledby="workspaces-title">
        <h2 id="workspaces-title" className="section-title">
          Workspaces
        </h2>
        <WorkspaceTiles
          orgId={orgId}
          orgName={name}
          canCreate={canCreate}
          onCreate={() => setCreating(true)}
        />
      </section>
      <LeaveOrganization orgId={orgId} orgName={name} />
      <NewWorkspaceDialog orgId={orgId} orgName={name} open={creating} onClose={() => setCreating(false)} />
    </>
  );
}

function WorkspaceTiles({
  orgId,
  orgName,
  canCreate,
  onCreate,
}: {
  orgId: string;
  orgName: string;
  canCreate: boolean;
  onCreate: () => void;
}) {
  const workspaces = useWorkspaces(orgId);
  if (workspaces.isPending) return <Loading label="Loading workspaces…" rows={2} />;
  if (workspaces.isError) return <ErrorNotice error={workspaces.error} retry={() => workspaces.refetch()} />;
  const items = workspaces.data.items;
  if (items.length === 0) {
    return (
      <div className="card">
        {canCreate ? (
          <EmptyState title={`${orgName} has no workspace yet`}>
            <p>A workspace holds a team's work, with its own people and roles.</p>
            <Button variant="primary" onClick={onCreate}>
              <Icon name="plus" /> Create the first workspace
            </Button>
          </EmptyState>
        ) : (
          <EmptyState title={`You're not in any workspace of ${orgName} yet.`}>
            <p>Ask an admin to add you.</p>
          </EmptyState>
        )}
      </div>
    );
  }
  return (
    <ul className="grid-cards org-tiles">
      {items.map((w) => (
        <li key={w.id}>
          <Link className="tile org-tile" to={`/orgs/${orgId}/workspaces/${w.id}`}>
            <span className="org-tile-head">
              <span className="org-tile-icon" aria-hidden="true">
                <Icon name="grid" />
              </span>
              <span className="tile-title">{w.name}</span>
            </span>
            <span className="org-tile-meta">
              <Badge>{roleLabel(w.role)}</Badge>
              <span className="tile-meta">{w.timezone.replaceAll("_", " ")}</span>
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function LeaveOrganization({ orgId, orgName }: { orgId: string; orgName: string }) {
  const me = useSignedIn();
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useNotify();
  const [open, setOpen] = useState(false);
  const leave = useAction(async () => {
    await call(
      api.DELETE("/api/v1/orgs/{org}/members/{user}", {
        params: { path: { org: orgId, user: me.user.id } },
      }),
    );
    await client.refetchQueries({ queryKey: ME_KEY });
    setOpen(false);
    navigate("/", { replace: true });
    client.removeQueries({ queryKey: keys.org(orgId) });
    notify(`You left ${orgName}`);
  });
  return (
    <div className="org-leave muted small">
      <p>
        Don't need access to {orgName} any more?{" "}
        <button type="button" className="link-button" onClick={() => setOpen(true)}>
          Leave organisation
        </button>
      </p>
      <ConfirmDialog
        open={open}
        title={`Leave ${orgName}?`}
        message={`You lose access to ${orgName} and to every workspace in it at once. To come back, you will need a new invitation.`}
        confirmLabel="Leave organisation"
        busy={leave.busy}
        error={leave.formError()}
        onConfirm={() => void leave.run()}
        onClose={() => {
          leave.reset();
          setOpen(false);
        }}
      />
    </div>
  );
}
