// /orgs/:orgId/members (owners and admins) — "User Settings": the members table (search, role
// filter, "Load more"), a member's organisation role and workspaces (MemberDialog), removal with a
// confirmation, "Invite People to the Organisation" (InviteDialog) and the pending invitations.
import { keepPreviousData, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, call } from "../../api/client";
import type { OrgDetail, OrgMember } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { useSignedIn } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys, usePlaceParams } from "../../lib/places";
import { type OrgRole, roleLabel } from "../../lib/roles";
import { InviteDialog } from "./InviteDialog";
import { MemberDialog } from "./MemberDialog";
import { OrgGate } from "./OrgGate";
import { PendingInvitations } from "./PendingInvitations";
import "./org.css";

const PAGE_SIZE = 50;

export function OrgMembersPage() {
  const { orgId } = usePlaceParams();
  return (
    <OrgGate orgId={orgId} permission="org.users">
      {(org) => <OrgMembers orgId={orgId} org={org} />}
    </OrgGate>
  );
}

/** `value`, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

function OrgMembers({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const me = useSignedIn();
  const [search, setSearch] = useState("");
  const [role, setRole] = useState<OrgRole | "">("");
  const q = useDebounced(search.trim(), 250);
  const [inviting, setInviting] = useState(false);
  const [managing, setManaging] = useState<OrgMember | null>(null);
  const [removing, setRemoving] = useState<OrgMember | null>(null);
  const name = org.organization.name;

  const members = useInfiniteQuery({
    queryKey: [...keys.members(orgId), { q, role }],
    queryFn: ({ pageParam }) =>
      call(
        api.GET("/api/v1/orgs/{org}/members", {
          params: {
            path: { org: orgId },
            query: {
              limit: PAGE_SIZE,
              ...(q ? { q } : {}),
              ...(role ? { role } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = q !== "" || role !== "";
  // The server looks through a bounded number of members per request: more may match further on.
  const stoppedEarly = members.data?.pages.at(-1)?.searchLimitReached === true;

  return (
    <>
      <PageHeader
        title="User Settings"
        description={`Everyone in ${name}: their organisation role and the workspaces they work in.`}
        actions={
          <Button variant="primary" onClick={() => setInviting(true)}>
            <Icon name="plus" /> Invite People to the Organisation
          </Button>
        }
      />
      <div className="toolbar">
        <div className="search-box">
          <Icon name="search" />
          <label htmlFor="member-search" className="visually-hidden">
            Search members
          </label>
          <input
            id="member-search"
            type="search"
            placeholder="Search by name or e-mail"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            autoComplete="off"
          />
        </div>
        <div className="org-filter">
          <label htmlFor="member-role">Role</label>
          <select id="member-role" value={role} onChange={(e) => setRole(e.target.value as OrgRole | "")}>
            <option value="">All roles</option>
            <option value="owner">Owners</option>
            <option value="admin">Admins</option>
            <option value="member">Members</option>
          </select>
        </div>
      </div>
      <section className="card card-flush" aria-labelledby="members-title">
        <h2 id="members-title" className="visually-hidden">
          Members
        </h2>
        {members.isPending ? (
          <div className="org-pad">
            <Loading label="Loading members…" rows={4} />
          </div>
        ) : members.isError ? (
          <div className="org-pad">
            <ErrorNotice error={members.error} retry={() => members.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          !stoppedEarly && (
            <EmptyState title={filtered ? "Nobody matches" : "No members yet"}>
              {filtered ? "Try another name, e-mail address or role." : "Invite people to get started."}
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="responsive org-members" aria-busy={members.isPlaceholderData || undefined}>
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Role</th>
                  <th scope="col">Workspaces</th>
                  <th scope="col">Joined</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <MemberRow
                    key={m.userId}
                    member={m}
                    isMe={m.userId === me.user.id}
                    removable={m.abilities.remove}
                    onManage={() => setManaging(m)}
                    onRemove={() => setRemoving(m)}
                  />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {members.hasNextPage && (
          <div className="pager">
            {stoppedEarly && (
              <p role="status">
                {rows.length === 0 ? "No match yet: the" : "The"} search looked through a large part of the
                organisation; load more to keep looking.
              </p>
            )}
            <Button busy={members.isFetchingNextPage} onClick={() => void members.fetchNextPage()}>
              Load more
            </Button>
          </div>
        )}
      </section>
      <PendingInvitations orgId={orgId} />
      <InviteDialog orgId={orgId} org={org} open={inviting} onClose={() => setInviting(false)} />
      <MemberDialog
        orgId={orgId}
        org={org}
        member={managing}
        isMe={managing?.userId === me.user.id}
        onClose={() => setManaging(null)}
      />
      <RemoveMemberDialog orgId={orgId} orgName={name} member={removing} onClose={() => setRemoving(null)} />
    </>
  );
}

function MemberRow({
  member,
  isMe,
  removable,
  onManage,
  onRemove,
}: {
  member: OrgMember;
  isMe: boolean;
  /** The server's answer: whether I may remove them (owners only by owners). */
  removable: boolean;
  onManage: () => void;
  onRemove: () => void;
}) {
  return (
    <tr>
      <td data-label="Member">
        <span className="person">
          <span className="person-name">
            {member.name} {isMe && <Badge tone="info">You</Badge>}
          </span>
          <span className="person-email">{member.email}</span>
        </span>
      </td>
      <td data-label="Role">
        <Badge tone={member.role === "member" ? "neutral" : "info"}>{roleLabel(member.role)}</Badge>
      </td>
      <td data-label="Workspaces">
        {member.workspaces.length > 0 ? (
          <ul className="chips org-chips">
            {member.workspaces.map((w) => (
              <li key={w.id}>
                <Badge>
                  {w.name} · {roleLabel(w.role)}
                </Badge>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted small">
            {member.actsAs ? `${roleLabel(member.actsAs)} in every workspace` : "No workspace yet"}
          </span>
        )}
      </td>
      <td data-label="Joined">
        <span className="org-nowrap">{formatDate(member.joinedAt)}</span>
      </td>
      <td data-label="" className="cell-actions">
        <Button size="sm" onClick={onManage}>
          Manage<span className="visually-hidden"> {member.name}</span>
        </Button>
        {!isMe && removable && (
          <IconButton label={`Remove ${member.name}`} className="danger-hover" onClick={onRemove}>
            <Icon name="trash" />
          </IconButton>
        )}
      </td>
    </tr>
  );
}

function RemoveMemberDialog({
  orgId,
  orgName,
  member,
  onClose,
}: {
  orgId: string;
  orgName: string;
  member: OrgMember | null;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const remove = useAction(async (m: OrgMember) => {
    await call(
      api.DELETE("/api/v1/orgs/{org}/members/{user}", { params: { path: { org: orgId, user: m.userId } } }),
    );
    await client.invalidateQueries({ queryKey: keys.members(orgId) });
    notify(`${m.name} was removed from ${orgName}`);
    onClose();
  });
  const spaces = member?.workspaces.map((w) => w.name) ?? [];
  return (
    <ConfirmDialog
      open={member !== null}
      title={`Remove ${member?.name ?? "this member"}?`}
      message={
        <>
          <strong>{member?.name}</strong> ({member?.email}) loses access to {orgName} and to every workspace
          in it
          {spaces.length > 0 && ` (${spaces.join(", ")})`} at once, on every device. What they did stays in
          the audit log. To bring them back, invite them again.
        </>
      }
      confirmLabel="Remove from organisation"
      busy={remove.busy}
      error={remove.formError()}
      onConfirm={() => member && void remove.run(member)}
      onClose={() => {
        remove.reset();
        onClose();
      }}
    />
  );
}
