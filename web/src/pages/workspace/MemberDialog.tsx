// A person's details in the workspace, with their role to change (PUT …/members/{user}).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, call } from "../../api/client";
import type { WorkspaceMember } from "../../api/types";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError } from "../../components/Field";
import { useNotify } from "../../components/Toast";
import { useSignedIn } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys } from "../../lib/places";
import { roleLabel, WORKSPACE_ROLES, type WorkspaceRole } from "../../lib/roles";
import { refreshMembership, type WorkspacePlace } from "./common";

export function MemberDialog({
  place,
  member,
  onClose,
}: {
  place: WorkspacePlace;
  member: WorkspaceMember | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={member !== null}
      title={member?.name ?? "Member"}
      description={member?.email}
      onClose={onClose}
    >
      {member && <MemberForm key={member.userId} place={place} member={member} onClose={onClose} />}
    </Dialog>
  );
}

function isWorkspaceRole(role: string): role is WorkspaceRole {
  return WORKSPACE_ROLES.some((r) => r.value === role);
}

function MemberForm({
  place,
  member,
  onClose,
}: {
  place: WorkspacePlace;
  member: WorkspaceMember;
  onClose: () => void;
}) {
  const { orgId, wsId, detail } = place;
  const me = useSignedIn();
  const client = useQueryClient();
  const notify = useNotify();
  const [role, setRole] = useState<WorkspaceRole>(isWorkspaceRole(member.role) ? member.role : "viewer");
  const mine = member.userId === me.user.id;
  // Their effective role: an owner or admin of the organisation acts as admin whatever is granted here.
  const effective = useQuery({
    queryKey: [...keys.workspaceMembers(wsId), "effective", member.userId],
    queryFn: () =>
      call(
        api.POST("/api/v1/workspaces/{ws}/authorize", {
          params: { path: { ws: wsId } },
          body: { permission: "workspace.users", userId: member.userId },
        }),
      ),
  });
  const actsAs = effective.data?.role;
  const viaOrg = actsAs !== undefined && actsAs !== null && actsAs !== member.role;

  const save = useAction(async () => {
    await call(
      api.PUT("/api/v1/workspaces/{ws}/members/{user}", {
        params: { path: { ws: wsId, user: member.userId } },
        body: { role },
      }),
    );
    notify(`${member.name} is now ${roleLabel(role)} in ${detail.workspace.name}`);
    onClose();
    await refreshMembership(client, { orgId, wsId }, mine);
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (role === member.role) {
      onClose();
      return;
    }
    void save.run();
  };

  return (
    <form className="form" onSubmit={submit} noValidate>
      <dl className="summary-list">
        <div>
          <dt>Role now</dt>
          <dd>{roleLabel(member.role)}</dd>
        </div>
        <div>
          <dt>In this workspace since</dt>
          <dd>{formatDate(member.joinedAt)}</dd>
        </div>
      </dl>
      {viaOrg && (
        <p className="alert alert-info">
          {member.name} acts as {roleLabel(actsAs)} here through their organisation role, whatever role you
          give them in this workspace. Their organisation role is changed in the organisation's User Settings.
        </p>
      )}
      {mine && !viaOrg && (
        <p className="alert alert-warn">
          This is you. If you give yourself a lower role, you may lose access to this page.
        </p>
      )}
      <ChoiceList
        legend={`Role in ${detail.workspace.name}`}
        name={`role-${member.userId}`}
        value={role}
        onChange={setRole}
        choices={WORKSPACE_ROLES}
      />
      <FormError message={save.error?.message} />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={save.busy}>
          Save
        </Button>
      </div>
    </form>
  );
}
