// The Users tab: the people with a role in this workspace, searchable (?q=), a page at a time.
// Admins open a person to change their role, remove them (trash → confirm), and add members of
// the organisation; everyone else reads the list. Whom I may change or remove is the server's
// answer for each person (a host's role ranked above mine is neither).
import { keepPreviousData, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { useSearchParams } from "react-router";
import { api, call } from "../../api/client";
import type { WorkspaceMember } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { useSignedIn } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import { AddMemberDialog } from "./AddMemberDialog";
import { canManageUsers, refreshMembership, type WorkspacePlace } from "./common";
import { MemberDialog } from "./MemberDialog";

const PAGE_SIZE = 50;

/** The search text, kept in ?q= after a short pause in typing. */
function useSearch(): [string, string, (text: string) => void] {
  const [params, setParams] = useSearchParams();
  const q = params.get("q") ?? "";
  const [text, setText] = useState(q);
  useEffect(() => {
    if (text.trim() === q) return;
    const timer = window.setTimeout(() => {
      setParams(
        (p) => {
          const next = new URLSearchParams(p);
          if (text.trim()) next.set("q", text.trim());
          else next.delete("q");
          return next;
        },
        { replace: true },
      );
    }, 300);
    return () => window.clearTimeout(timer);
  }, [text, q, setParams]);
  return [text, q, setText];
}

export function UsersTab({ place }: { place: WorkspacePlace }) {
  const { orgId, wsId, detail } = place;
  const me = useSignedIn();
  const manage = canManageUsers(detail);
  const client = useQueryClient();
  const notify = useNotify();
  const searchId = useId();
  const [text, q, setText] = useSearch();
  const [open, setOpen] = useState<WorkspaceMember | null>(null);
  const [removing, setRemoving] = useState<WorkspaceMember | null>(null);
  const [adding, setAdding] = useState(false);

  const members = useInfiniteQuery({
    queryKey: [...keys.workspaceMembers(wsId), "list", q],
    queryFn: ({ pageParam }) =>
      call(
        api.GET("/api/v1/workspaces/{ws}/members", {
          params: {
            path: { ws: wsId },
            query: { limit: PAGE_SIZE, ...(q ? { q } : {}), ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const rows = members.data?.pages.flatMap((p) => p.items) ?? [];
  const wsName = detail.workspace.name;

  const remove = useAction(async (member: WorkspaceMember) => {
    await call(
      api.DELETE("/api/v1/workspaces/{ws}/members/{user}", {
        params: { path: { ws: wsId, user: member.userId } },
      }),
    );
    setRemoving(null);
    notify(`${member.name} was removed from ${wsName}`);
    await refreshMembership(client, { orgId, wsId }, member.userId === me.user.id);
  });

  return (
    <>
      <div className="toolbar">
        <div className="search-box">
          <label htmlFor={searchId} className="visually-hidden">
            Search users
          </label>
          <Icon name="search" />
          <input
            id={searchId}
            type="search"
            placeholder="Search by name or e-mail"
            value={text}
            onChange={(e) => setText(e.target.value)}
            autoComplete="off"
          />
        </div>
        {manage && (
          <Button variant="primary" onClick={() => setAdding(true)}>
            <Icon name="plus" /> Add organisation member
          </Button>
        )}
      </div>

      <div className="card card-flush">
        {members.isPending ? (
          <div className="ws-table-loading">
            <Loading label="Loading the users…" rows={4} />
          </div>
        ) : members.isError ? (
          <div className="ws-table-loading">
            <ErrorNotice error={members.error} retry={() => void members.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          q ? (
            <EmptyState title={`Nobody matches “${q}”`}>Try part of a name or an e-mail address.</EmptyState>
          ) : (
            <EmptyState title="Nobody has a role in this workspace yet">
              {manage ? "Add a member of the organisation, or send an invitation." : null}
            </EmptyState>
          )
        ) : (
          <div className="table-wrap">
            <table className="responsive" aria-busy={members.isFetching && !members.isFetchingNextPage}>
              <caption className="visually-hidden">
                People with a role in {wsName}
                {q ? `, matching “${q}”` : ""}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Joined</th>
                  {manage && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {rows.map((m) => (
                  <tr key={m.userId}>
                    <td data-label="" className="ws-cell-person">
                      <div className="person">
                        {manage && m.abilities.changeRole ? (
                          <button
                            type="button"
                            className="person-name person-button"
                            onClick={() => setOpen(m)}
                            aria-haspopup="dialog"
                          >
                            {m.name}
                          </button>
                        ) : (
                          <span className="person-name">{m.name}</span>
                        )}
                        <span className="person-email">
                          {m.email}
                          {m.userId === me.user.id && <span className="ws-you"> · you</span>}
                        </span>
                      </div>
                    </td>
                    <td data-label="Role">
                      <Badge tone={m.role === "admin" ? "info" : "neutral"}>{roleLabel(m.role)}</Badge>
                    </td>
                    <td data-label="Joined">{formatDate(m.joinedAt)}</td>
                    {manage && (
                      <td data-label="" className="cell-actions">
                        {m.abilities.remove && (
                          <IconButton
                            label={`Remove ${m.name}`}
                            className="danger-hover"
                            onClick={() => {
                              remove.reset();
                              setRemoving(m);
                            }}
                          >
                            <Icon name="trash" />
                          </IconButton>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {members.hasNextPage && (
          <div className="pager">
            <Button busy={members.isFetchingNextPage} onClick={() => void members.fetchNextPage()}>
              Load more
            </Button>
          </div>
        )}
      </div>
      <p className="muted small">
        Owners and admins of the organisation are admins in every workspace; they appear here only when they
        also have a role of their own in it.
      </p>

      {manage && (
        <>
          <MemberDialog place={place} member={open} onClose={() => setOpen(null)} />
          <AddMemberDialog place={place} open={adding} onClose={() => setAdding(false)} />
          <ConfirmDialog
            open={removing !== null}
            title={removing ? `Remove ${removing.name} from ${wsName}?` : "Remove"}
            message={
              removing?.userId === me.user.id
                ? `This is you: you will lose your role in ${wsName} at once. You stay in the organisation.`
                : `${removing?.name ?? "They"} will lose access to ${wsName} at once, on every device. They stay in the organisation, and you can add them again later.`
            }
            confirmLabel="Remove"
            busy={remove.busy}
            error={remove.error?.message}
            onConfirm={() => {
              if (removing) void remove.run(removing);
            }}
            onClose={() => setRemoving(null)}
          />
        </>
      )}
    </>
  );
}
