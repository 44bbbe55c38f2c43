// One member, managed: their organisation role (Owner offered only to owners; the API's refusals,
// such as the last owner, shown in place) and their workspaces — add, change a role, remove — each
// change made at once.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, call } from "../../api/client";
import type { OrgDetail, OrgMember } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError, SelectField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { ME_KEY } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { hasPermission, keys, useWorkspaces } from "../../lib/places";
import { ORG_ROLES, type OrgRole, roleLabel, WORKSPACE_ROLES, type WorkspaceRole } from "../../lib/roles";
import { asSentence, refuseField } from "./problems";

type Grant = OrgMember["workspaces"][number];

export function MemberDialog({
  orgId,
  org,
  member,
  isMe,
  onClose,
}: {
  orgId: string;
  org: OrgDetail;
  member: OrgMember | null;
  isMe: boolean;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={member !== null}
      wide
      title={member?.name ?? "Member"}
      description={member?.email}
      onClose={onClose}
    >
      {member && <MemberPanel key={member.userId} orgId={orgId} org={org} member={member} isMe={isMe} />}
      <div className="form-actions">
        <Button onClick={onClose}>Done</Button>
      </div>
    </Dialog>
  );
}

function MemberPanel({
  orgId,
  org,
  member,
  isMe,
}: {
  orgId: string;
  org: OrgDetail;
  member: OrgMember;
  isMe: boolean;
}) {
  // What the dialog shows follows each answer, whatever the table behind it filters.
  const [current, setCurrent] = useState(member);
  // Said here rather than in a toast: a modal dialog covers the page's toasts.
  const [done, setDone] = useState("");
  return (
    <>
      <RoleSection
        orgId={orgId}
        org={org}
        member={current}
        isMe={isMe}
        onChanged={(m, message) => {
          setCurrent(m);
          setDone(message);
        }}
      />
      <WorkspaceSection
        orgId={orgId}
        member={current}
        isMe={isMe}
        onChanged={(workspaces, message) => {
          setCurrent((m) => ({ ...m, workspaces }));
          setDone(message);
        }}
      />
      <p className="org-done" role="status">
        {done && (
          <>
            <Icon name="check" /> {done}
          </>
        )}
      </p>
    </>
  );
}

function RoleSection({
  orgId,
  org,
  member,
  isMe,
  onChanged,
}: {
  orgId: string;
  org: OrgDetail;
  member: OrgMember;
  isMe: boolean;
  onChanged: (member: OrgMember, message: string) => void;
}) {
  const client = useQueryClient();
  const owners = hasPermission(org, "org.owners");
  // The server's answer: whether I may give them another role (an owner's, only if I am one).
  const locked = !member.abilities.changeRole;
  const [role, setRole] = useState<OrgRole>(
    ORG_ROLES.some((r) => r.value === member.role) ? (member.role as OrgRole) : "member",
  );
  const save = useAction(async () => {
    const answer = await call(
      api.PATCH("/api/v1/orgs/{org}/members/{user}", {
        params: { path: { org: orgId, user: member.userId } },
        body: { role },
      }),
    );
    onChanged(answer.member, `${member.name} is now ${roleLabel(answer.member.role)}`);
    await Promise.all([
      client.invalidateQueries({ queryKey: keys.members(orgId) }),
      // My own role changes what I may do here and in every workspace.
      ...(isMe
        ? [
            client.invalidateQueries({ queryKey: ["org", orgId] }),
            client.invalidateQueries({ queryKey: ME_KEY }),
          ]
        : []),
    ]);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  return (
    <form className="form org-section" onSubmit={submit} noValidate>
      <ChoiceList<OrgRole>
        legend="Organisation role"
        name="member-role"
        value={role}
        onChange={(r) => {
          save.reset();
          setRole(r);
        }}
        choices={ORG_ROLES.map((r) => ({ ...r, disabled: locked || (r.value === "owner" && !owners) }))}
      />
      {locked ? (
        <p className="muted small">Only an owner can change the role of an owner.</p>
      ) : !owners ? (
        <p className="muted small">Only owners can make someone an owner.</p>
      ) : null}
      {isMe && !locked && (
        <p className="alert alert-warn">
          <Icon name="alert" />
          <span>This is you: with a lower role you may no longer manage this organisation.</span>
        </p>
      )}
      <FormError message={save.formError()} />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={save.busy} disabled={locked || role === member.role}>
          Save role
        </Button>
      </div>
    </form>
  );
}

function WorkspaceSection({
  orgId,
  member,
  isMe,
  onChanged,
}: {
  orgId: string;
  member: OrgMember;
  isMe: boolean;
  onChanged: (workspaces: Grant[], message: string) => void;
}) {
  const client = useQueryClient();
  const workspaces = useWorkspaces(orgId);
  const all = workspaces.data?.items ?? [];
  const free = all.filter((w) => !member.workspaces.some((g) => g.id === w.id));
  const [adding, setAdding] = useState("");
  const [addRole, setAddRole] = useState<WorkspaceRole>("editor");
  const chosen = free.some((w) => w.id === adding) ? adding : (free[0]?.id ?? "");

  const refresh = async (wsId: string) => {
    await Promise.all([
      client.invalidateQueries({ queryKey: keys.members(orgId) }),
      client.invalidateQueries({ queryKey: keys.workspaceMembers(wsId) }),
      ...(isMe
        ? [
            client.invalidateQueries({ queryKey: keys.workspaces(orgId) }),
            client.invalidateQueries({ queryKey: keys.workspace(wsId) }),
          ]
        : []),
    ]);
  };

  const grant = useAction(async (wsId: string, wsName: string, role: string) => {
    if (!wsId) throw refuseField("workspace", "Choose a workspace.");
    const answer = await call(
      api.PUT("/api/v1/workspaces/{ws}/members/{user}", {
        params: { path: { ws: wsId, user: member.userId } },
        body: { role: role as WorkspaceRole },
      }),
    );
    const next = member.workspaces.some((g) => g.id === wsId)
      ? member.workspaces.map((g) => (g.id === wsId ? { ...g, role: answer.member.role } : g))
      : [...member.workspaces, { id: wsId, name: wsName, role: answer.member.role }];
    onChanged(next, `${member.name} is ${roleLabel(answer.member.role)} in ${wsName}`);
    await refresh(wsId);
  });

  const revoke = useAction(async (g: Grant) => {
    await call(
      api.DELETE("/api/v1/workspaces/{ws}/members/{user}", {
        params: { path: { ws: g.id, user: member.userId } },
      }),
    );
    onChanged(
      member.workspaces.filter((x) => x.id !== g.id),
      `${member.name} was removed from ${g.name}`,
    );
    await refresh(g.id);
  });

  const busy = grant.busy || revoke.busy;
  const add = (e: FormEvent) => {
    e.preventDefault();
    const ws = free.find((w) => w.id === chosen);
    void grant.run(chosen, ws?.name ?? "", addRole);
  };

  return (
    <section className="org-section" aria-labelledby="member-workspaces">
      <h3 id="member-workspaces" className="org-section-title">
        Workspaces
      </h3>
      {member.actsAs && (
        <p className="muted small">
          As {roleLabel(member.role)}, {member.name} is {roleLabel(member.actsAs).toLowerCase()} in every
          workspace. The roles below apply if their organisation role becomes Member.
        </p>
      )}
      {member.workspaces.length === 0 ? (
        <p className="muted small">{member.name} has no role in any workspace yet.</p>
      ) : (
        <ul className="org-grants">
          {member.workspaces.map((g) => (
            <li key={g.id} className="org-grant">
              <span className="org-grant-name">{g.name}</span>
              <select
                aria-label={`Role in ${g.name}`}
                value={g.role}
                disabled={busy}
                onChange={(e) => void grant.run(g.id, g.name, e.target.value)}
              >
                {!WORKSPACE_ROLES.some((r) => r.value === g.role) && (
                  <option value={g.role}>{roleLabel(g.role)}</option>
                )}
                {WORKSPACE_ROLES.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
              <IconButton
                label={`Remove from ${g.name}`}
                className="danger-hover"
                disabled={busy}
                onClick={() => void revoke.run(g)}
              >
                <Icon name="trash" />
              </IconButton>
            </li>
          ))}
        </ul>
      )}
      <FormError message={revoke.formError() ?? grant.formError(["workspace", "role"])} />
      {workspaces.isSuccess && free.length > 0 && (
        <form className="org-add-grant" onSubmit={add} noValidate>
          <SelectField
            label="Add to workspace"
            value={chosen}
            onChange={(e) => setAdding(e.target.value)}
            options={free.map((w) => ({ value: w.id, label: w.name }))}
            error={asSentence(grant.fieldError("workspace"))}
          />
          <SelectField
            label="Workspace role"
            value={addRole}
            onChange={(e) => setAddRole(e.target.value as WorkspaceRole)}
            options={WORKSPACE_ROLES.map((r) => ({ value: r.value, label: r.label }))}
            hint={WORKSPACE_ROLES.find((r) => r.value === addRole)?.description}
            error={asSentence(grant.fieldError("role"))}
          />
          <Button type="submit" busy={grant.busy} disabled={revoke.busy} className="org-add-button">
            <Icon name="plus" /> Add
          </Button>
        </form>
      )}
      {workspaces.isSuccess && all.length > 0 && free.length === 0 && (
        <p className="muted small">{member.name} has a role in every workspace.</p>
      )}
    </section>
  );
}
