// The organisation's pending invitations: who (or which link, with its uses), what they offer,
// when they expire and how the mail fared; Resend (a new mail, or a new link) and Revoke.
import { keepPreviousData, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../../api/client";
import type { Invitation } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { formatDateTime, fromNow } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys } from "../../lib/places";
import { roleLabel } from "../../lib/roles";

const PAGE_SIZE = 50;

export function PendingInvitations({ orgId }: { orgId: string }) {
  const client = useQueryClient();
  const notify = useNotify();
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const [renewing, setRenewing] = useState<Invitation | null>(null);
  const [resendingId, setResendingId] = useState<string | null>(null);
  const [newLink, setNewLink] = useState<{ url: string; invitation: Invitation } | null>(null);

  const invitations = useInfiniteQuery({
    queryKey: [...keys.orgInvitations(orgId), "pending"],
    queryFn: ({ pageParam }) =>
      call(
        api.GET("/api/v1/orgs/{org}/invitations", {
          params: {
            path: { org: orgId },
            query: { status: "pending", limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
    // A queued mail becomes sent (or failed) a moment later: look again while one is on its way.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((i) => i.mail?.status === "queued")) ? 2000 : false,
  });
  const rows = invitations.data?.pages.flatMap((p) => p.items) ?? [];

  const refresh = (invitation: Invitation) =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.orgInvitations(orgId) }),
      ...invitation.workspaces.map((w) =>
        client.invalidateQueries({ queryKey: keys.workspaceInvitations(w.id) }),
      ),
    ]);

  const resend = useAction(async (invitation: Invitation) => {
    const answer = await call(
      api.POST("/api/v1/invitations/{id}/resend", { params: { path: { id: invitation.id } } }),
    );
    await refresh(invitation);
    if (answer.url) {
      setRenewing(null);
      setNewLink({ url: answer.url, invitation: answer.invitation });
      notify("New invite link ready; the old one no longer works");
    } else {
      notify(`Invitation sent again to ${invitation.email ?? ""}`);
    }
  });

  const revoke = useAction(async (invitation: Invitation) => {
    await call(api.DELETE("/api/v1/invitations/{id}", { params: { path: { id: invitation.id } } }));
    await refresh(invitation);
    setRevoking(null);
    notify(invitation.email ? `Invitation for ${invitation.email} revoked` : "Invite link revoked");
  });

  return (
    <section className="card card-flush" aria-labelledby="pending-title">
      <header className="card-header org-card-header">
        <div>
          <h2 id="pending-title">Pending invitations</h2>
          <p className="card-description">
            Invitations nobody has used up yet. Revoke one and its link stops working.
          </p>
        </div>
      </header>
      {resend.error && !renewing && (
        <div className="org-pad org-pad-top-0">
          <ErrorNotice error={resend.error} />
        </div>
      )}
      {invitations.isPending ? (
        <div className="org-pad">
          <Loading label="Loading invitations…" rows={2} />
        </div>
      ) : invitations.isError ? (
        <div className="org-pad">
          <ErrorNotice error={invitations.error} retry={() => invitations.refetch()} />
        </div>
      ) : rows.length === 0 ? (
        <EmptyState title="No pending invitations">
          Invite people with “Invite People to the Organisation” above.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="responsive org-invitations">
            <thead>
              <tr>
                <th scope="col">Invitee</th>
                <th scope="col">Role</th>
                <th scope="col">Workspaces</th>
                <th scope="col">Expires</th>
                <th scope="col">Delivery</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={i.id}>
                  <td data-label="Invitee">
                    <span className="person">
                      <span className="person-name">
                        {i.email ?? (
                          <>
                            <Icon name="link" size={16} /> Invite link
                          </>
                        )}
                      </span>
                      <span className="person-email">
                        {i.delivery === "link"
                          ? `${i.uses} of ${i.maxUses} ${i.maxUses === 1 ? "use" : "uses"} · by ${i.invitedBy.name}`
                          : `Invited by ${i.invitedBy.name}`}
                        , {fromNow(i.createdAt)}
                      </span>
                    </span>
                  </td>
                  <td data-label="Role">{roleLabel(i.role)}</td>
                  <td data-label="Workspaces">
                    {i.workspaces.length > 0 ? (
                      <ul className="chips org-chips">
                        {i.workspaces.map((w) => (
                          <li key={w.id}>
                            <Badge>
                              {w.name} · {roleLabel(w.role)}
                            </Badge>
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <span className="muted small">{i.role === "member" ? "None" : "All, as admin"}</span>
                    )}
                  </td>
                  <td data-label="Expires">
                    <time dateTime={i.expiresAt} title={formatDateTime(i.expiresAt)} className="org-nowrap">
                      {fromNow(i.expiresAt)}
                    </time>
                  </td>
                  <td data-label="Delivery">
                    <MailStatus invitation={i} />
                  </td>
                  <td data-label="" className="cell-actions">
                    {/* What I may do is the server's answer: an admin cannot touch an invitation as owner. */}
                    {!i.abilities.resend && !i.abilities.cancel && (
                      <span className="muted small">Offers more than you can give</span>
                    )}
                    {i.abilities.resend &&
                      (i.delivery === "email" ? (
                        <Button
                          size="sm"
                          busy={resend.busy && resendingId === i.id}
                          onClick={() => {
                            setResendingId(i.id);
                            void resend.run(i);
                          }}
                        >
                          Resend<span className="visually-hidden"> to {i.email}</span>
                        </Button>
                      ) : (
                        <Button size="sm" onClick={() => setRenewing(i)}>
                          New link
                        </Button>
                      ))}
                    {i.abilities.cancel && (
                      <IconButton
                        label={i.email ? `Revoke invitation for ${i.email}` : "Revoke invite link"}
                        className="danger-hover"
                        onClick={() => setRevoking(i)}
                      >
                        <Icon name="trash" />
                      </IconButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {invitations.hasNextPage && (
        <div className="pager">
          <Button busy={invitations.isFetchingNextPage} onClick={() => void invitations.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this invitation?"
        message={
          revoking?.email
            ? `The invitation for ${revoking.email} stops working at once. You can invite them again later.`
            : `The invite link stops working at once${
                revoking && revoking.uses > 0 ? `; the ${revoking.uses} people who joined with it stay` : ""
              }. You can make a new link later.`
        }
        confirmLabel="Revoke invitation"
        busy={revoke.busy}
        error={revoke.formError()}
        onConfirm={() => revoking && void revoke.run(revoking)}
        onClose={() => {
          revoke.reset();
          setRevoking(null);
        }}
      />
      <ConfirmDialog
        open={renewing !== null}
        title="Make a new invite link?"
        message="The current link stops working at once: anyone you gave it to will need the new one. The new link offers the same access, with a fresh expiry."
        confirmLabel="Make new link"
        busy={resend.busy}
        error={renewing ? resend.formError() : undefined}
        onConfirm={() => {
          if (!renewing) return;
          setResendingId(renewing.id);
          void resend.run(renewing);
        }}
        onClose={() => {
          resend.reset();
          setRenewing(null);
        }}
      />
      <Dialog
        open={newLink !== null}
        title="New invite link"
        onClose={() => setNewLink(null)}
        footer={
          <Button variant="primary" onClick={() => setNewLink(null)}>
            Done
          </Button>
        }
      >
        {newLink && (
          <>
            <CopyField label="Invite link" value={newLink.url} />
            <p className="org-note">
              <Icon name="alert" />
              <span>Rollcall does not send this link: share it yourself.</span>
            </p>
            <p className="muted small">
              {newLink.invitation.maxUses - newLink.invitation.uses} of {newLink.invitation.maxUses} uses
              left, until {formatDateTime(newLink.invitation.expiresAt)}. The old link no longer works.
            </p>
          </>
        )}
      </Dialog>
    </section>
  );
}

function MailStatus({ invitation }: { invitation: Invitation }) {
  if (invitation.delivery === "link") return <span className="muted small">Link, not e-mailed</span>;
  const mail = invitation.mail;
  if (!mail) return <span className="muted small">Not sent</span>;
  if (mail.status === "sent") return <Badge tone="good">Sent</Badge>;
  if (mail.status === "queued") return <Badge tone="info">Sending…</Badge>;
  return (
    <span className="org-mail-failed">
      <Badge tone="bad">Failed</Badge>
      {mail.lastError && <span className="small org-mail-error">{mail.lastError}</span>}
    </span>
  );
}
