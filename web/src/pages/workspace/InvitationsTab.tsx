// The Invitations tab (workspace.users): the invitations that grant this workspace, filtered by
// status (?status=, pending by default), with how their e-mail went; new ones by e-mail or as a
// link; Resend (a new token: the old link dies) and cancel (trash → confirm).
import { keepPreviousData, useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { api, call } from "../../api/client";
import type { Invitation } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { SelectField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { formatDate, fromNow } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import type { WorkspacePlace } from "./common";
import { InviteLinkDialog, NewInvitationDialog, NewLinkDialog } from "./InviteDialogs";

type Status = Invitation["status"];

const FILTERS: { value: string; label: string; statuses: (Status | undefined)[] }[] = [
  { value: "pending", label: "Pending", statuses: ["pending"] },
  // An e-mail invitation is "accepted"; a link whose every use is taken is "exhausted".
  { value: "accepted", label: "Accepted", statuses: ["accepted", "exhausted"] },
  { value: "expired", label: "Expired", statuses: ["expired"] },
  { value: "cancelled", label: "Cancelled", statuses: ["cancelled"] },
  { value: "declined", label: "Declined", statuses: ["declined"] },
  { value: "all", label: "All", statuses: [undefined] },
];

const STATUS_BADGE: Record<Status, { label: string; tone: "neutral" | "good" | "warn" | "bad" | "info" }> = {
  pending: { label: "Pending", tone: "info" },
  accepted: { label: "Accepted", tone: "good" },
  exhausted: { label: "Used up", tone: "good" },
  cancelled: { label: "Cancelled", tone: "neutral" },
  declined: { label: "Declined", tone: "warn" },
  expired: { label: "Expired", tone: "warn" },
};

const PAGE_SIZE = 50;

/** One cursor per status asked for; null once that status has no more pages. */
type Cursors = (string | null | undefined)[];

function describe(inv: Invitation): string {
  return inv.delivery === "email" && inv.email ? `the invitation to ${inv.email}` : "this invite link";
}

function linkTitle(inv: Invitation): string {
  return `Invite link (${inv.uses} of ${inv.maxUses} ${inv.maxUses === 1 ? "use" : "uses"})`;
}

export function InvitationsTab({ place }: { place: WorkspacePlace }) {
  const { orgId, wsId, detail } = place;
  const client = useQueryClient();
  const notify = useNotify();
  const [params, setParams] = useSearchParams();
  const filter = FILTERS.find((f) => f.value === params.get("status")) ?? FILTERS[0];
  const [composing, setComposing] = useState<"email" | "link" | null>(null);
  const [cancelling, setCancelling] = useState<Invitation | null>(null);
  const [relinking, setRelinking] = useState<Invitation | null>(null);
  const [newLink, setNewLink] = useState<string | null>(null);
  const [resendingId, setResendingId] = useState<string | null>(null);
  const statuses = filter?.statuses ?? ["pending"];

  const setFilter = (value: string) =>
    setParams(
      (p) => {
        const next = new URLSearchParams(p);
        if (value === "pending") next.delete("status");
        else next.set("status", value);
        return next;
      },
      { replace: true },
    );

  const invitations = useInfiniteQuery({
    queryKey: [...keys.workspaceInvitations(wsId), filter?.value ?? "pending"],
    queryFn: async ({ pageParam }) => {
      const pages = await Promise.all(
        statuses.map((status, i) => {
          const cursor = pageParam[i];
          if (cursor === null) return Promise.resolve({ items: [], nextCursor: null });
          return call(
            api.GET("/api/v1/workspaces/{ws}/invitations", {
              params: {
                path: { ws: wsId },
                query: {
                  limit: PAGE_SIZE,
                  ...(status ? { status } : {}),
                  ...(cursor ? { cursor } : {}),
                },
              },
            }),
          );
        }),
      );
      const items = pages.flatMap((p) => p.items).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      return { items, cursors: pages.map((p) => p.nextCursor) as Cursors };
    },
    initialPageParam: statuses.map(() => undefined) as Cursors,
    getNextPageParam: (last) => (last.cursors.some((c) => c !== null) ? last.cursors : undefined),
    placeholderData: keepPreviousData,
    // While an e-mail is on its way, look again every few seconds: its delivery status will change.
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) =>
        p.items.some((i) => i.status === "pending" && i.mail?.status === "queued"),
      )
        ? 2000
        : false,
  });
  const rows = invitations.data?.pages.flatMap((p) => p.items) ?? [];

  // Whether I may resend or cancel it is the server's answer ("as for creating it", over every
  // workspace it grants, not only this one); an open one I may not touch says who can.
  const open = (inv: Invitation) => inv.status === "pending" || inv.status === "expired";

  const refresh = () =>
    Promise.all([
      client.invalidateQueries({ queryKey: keys.workspaceInvitations(wsId) }),
      client.invalidateQueries({ queryKey: keys.orgInvitations(orgId) }),
    ]);

  const resend = useAction(async (inv: Invitation) => {
    const answer = await call(
      api.POST("/api/v1/invitations/{id}/resend", { params: { path: { id: inv.id } } }),
    );
    if (inv.delivery === "link") {
      setRelinking(null);
      setNewLink(answer.url ?? null);
      notify("A new invite link was made; the old one no longer works");
    } else {
      notify(`Invitation sent again to ${inv.email ?? "the invitee"}`);
    }
    await refresh();
  });

  const cancel = useAction(async (inv: Invitation) => {
    await call(api.DELETE("/api/v1/invitations/{id}", { params: { path: { id: inv.id } } }));
    setCancelling(null);
    notify(inv.email ? `The invitation to ${inv.email} was cancelled` : "The invite link was cancelled");
    await refresh();
  });

  return (
    <>
      <div className="toolbar ws-invite-toolbar">
        <div className="ws-filter">
          <SelectField
            label="Show"
            value={filter?.value ?? "pending"}
            onChange={(e) => setFilter(e.target.value)}
            options={FILTERS.map((f) => ({ value: f.value, label: f.label }))}
          />
        </div>
        <div className="page-actions">
          <Button onClick={() => setComposing("link")}>
            <Icon name="link" /> Generate invite link
          </Button>
          <Button variant="primary" onClick={() => setComposing("email")}>
            <Icon name="mail" /> New invitation
          </Button>
        </div>
      </div>
      {resend.error && !relinking && (
        <div className="ws-gap">
          <ErrorNotice error={resend.error} />
        </div>
      )}

      <div className="card card-flush">
        {invitations.isPending ? (
          <div className="ws-table-loading">
            <Loading label="Loading the invitations…" rows={3} />
          </div>
        ) : invitations.isError ? (
          <div className="ws-table-loading">
            <ErrorNotice error={invitations.error} retry={() => void invitations.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title={filter?.value === "pending" ? "No pending invitations" : "No invitations here"}>
            {filter?.value === "pending"
              ? "Invite someone by e-mail, or generate a link to share."
              : "Choose another status to see other invitations."}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="responsive ws-invitations">
              <caption className="visually-hidden">
                {filter?.label ?? "Pending"} invitations to {detail.workspace.name}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Invitation</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Sent on</th>
                  <th scope="col">Delivery</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((inv) => {
                  const grant = inv.workspaces.find((w) => w.id === wsId);
                  const badge = STATUS_BADGE[inv.status];
                  return (
                    <tr key={inv.id}>
                      <td data-label="" className="ws-cell-person">
                        <div className="ws-invitee">
                          <span className="ws-invitee-icon" aria-hidden="true">
                            <Icon name={inv.delivery === "email" ? "mail" : "link"} size={16} />
                          </span>
                          <div className="person">
                            <span className="person-name">
                              {inv.delivery === "email" ? inv.email : linkTitle(inv)}
                            </span>
                            <span className="person-email">Invited by {inv.invitedBy.name}</span>
                          </div>
                        </div>
                      </td>
                      <td data-label="Role">
                        <span className="chips">
                          <Badge>{grant ? roleLabel(grant.role) : "—"}</Badge>
                          {inv.role !== "member" && <Badge tone="info">Org {roleLabel(inv.role)}</Badge>}
                        </span>
                      </td>
                      <td data-label="Status">
                        <Badge tone={badge.tone}>{badge.label}</Badge>
                      </td>
                      <td data-label="Sent on">
                        <span className="ws-dates">
                          <span>{formatDate(inv.createdAt)}</span>
                          {inv.status === "pending" && (
                            <span className="muted small">Expires {fromNow(inv.expiresAt)}</span>
                          )}
                        </span>
                      </td>
                      <td data-label="Delivery">
                        <Delivery inv={inv} />
                      </td>
                      <td data-label="" className="cell-actions">
                        {inv.abilities.resend || inv.abilities.cancel ? (
                          <span className="ws-row-actions">
                            {inv.abilities.resend && (
                              <Button
                                size="sm"
                                busy={resend.busy && relinking === null && resendingId === inv.id}
                                aria-label={`Resend ${describe(inv)}`}
                                onClick={() => {
                                  resend.reset();
                                  setResendingId(inv.id);
                                  if (inv.delivery === "link") setRelinking(inv);
                                  else void resend.run(inv);
                                }}
                              >
                                Resend
                              </Button>
                            )}
                            {inv.abilities.cancel && (
                              <IconButton
                                label={`Cancel ${describe(inv)}`}
                                className="danger-hover"
                                onClick={() => {
                                  cancel.reset();
                                  setCancelling(inv);
                                }}
                              >
                                <Icon name="trash" />
                              </IconButton>
                            )}
                          </span>
                        ) : open(inv) ? (
                          <span className="muted small">Managed by organisation admins</span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
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
      </div>

      <NewInvitationDialog
        place={place}
        open={composing === "email"}
        onClose={() => setComposing(null)}
        onSent={() => {
          if (filter?.value !== "all") setFilter("pending");
        }}
      />
      <InviteLinkDialog
        place={place}
        open={composing === "link"}
        onClose={() => setComposing(null)}
        onCreated={() => {
          if (filter?.value !== "all") setFilter("pending");
        }}
      />
      <NewLinkDialog url={newLink} onClose={() => setNewLink(null)} />
      <ConfirmDialog
        open={relinking !== null}
        title="Make a new invite link?"
        message="The current link stops working at once, and a new one is made with the same role, uses and lifetime. Share the new link with the people who should still join."
        confirmLabel="Make a new link"
        busy={resend.busy}
        error={resend.error?.message}
        onConfirm={() => {
          if (relinking) void resend.run(relinking);
        }}
        onClose={() => setRelinking(null)}
      />
      <ConfirmDialog
        open={cancelling !== null}
        title={cancelling ? `Cancel ${describe(cancelling)}?` : "Cancel the invitation?"}
        message={
          cancelling?.delivery === "email"
            ? `${cancelling.email} will no longer be able to join with it. You can invite them again later.`
            : "Nobody else will be able to join with this link. People who already joined stay."
        }
        confirmLabel="Cancel invitation"
        busy={cancel.busy}
        error={cancel.error?.message}
        onConfirm={() => {
          if (cancelling) void cancel.run(cancelling);
        }}
        onClose={() => setCancelling(null)}
      />
    </>
  );
}

/** How the invitation's e-mail went; a link is shared by hand. */
function Delivery({ inv }: { inv: Invitation }) {
  if (inv.delivery === "link") return <span className="muted small">Shared by hand</span>;
  const mail = inv.mail;
  if (!mail) return <span className="muted small">—</span>;
  if (mail.status === "sent") return <Badge tone="good">Sent</Badge>;
  if (mail.status === "failed") {
    return (
      <span className="ws-delivery">
        <Badge tone="bad">Failed</Badge>
        {mail.lastError && <span className="ws-mail-error">{mail.lastError}</span>}
      </span>
    );
  }
  if (mail.lastError) {
    return (
      <span className="ws-delivery">
        <Badge tone="warn">Retrying</Badge>
        <span className="ws-mail-error">{mail.lastError}</span>
      </span>
    );
  }
  return <Badge tone="info">Sending</Badge>;
}
