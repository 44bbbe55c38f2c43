// An invitation as the accept page and the invited sign-up show it: the look-up (which uses
// nothing), what it offers in words, and what to do when it can no longer be used.
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ApiError, api, call } from "../../api/client";
import type { InvitationLookup } from "../../api/types";
import { Badge } from "../../components/Page";
import { formatDate, formatDateTime, fromNow } from "../../lib/format";
import { ORG_ROLES, roleLabel } from "../../lib/roles";

export const invitationKey = (token: string) => ["invitation", token] as const;

export function useInvitation(token: string | undefined) {
  return useQuery({
    queryKey: invitationKey(token ?? ""),
    queryFn: () => call(api.GET("/api/v1/invitations/lookup", { params: { query: { token: token ?? "" } } })),
    enabled: Boolean(token),
    staleTime: 30_000,
  });
}

/**
 * Whether an address could be the one an e-mail invitation was sent to: the server shows only its
 * first character and its domain ("c***@example.org"). A link invitation (no hint) fits anyone.
 */
export function fitsHint(email: string, hint: string | null): boolean {
  if (!hint) return true;
  const address = email.trim().toLowerCase();
  const masked = hint.toLowerCase();
  const domain = (value: string) => value.slice(value.lastIndexOf("@"));
  return address.length > 0 && address.charAt(0) === masked.charAt(0) && domain(address) === domain(masked);
}

/** "Olive Owner invited you to join Acme as Member." */
export function InvitationLead({ invitation }: { invitation: InvitationLookup }) {
  return (
    <p className="invite-lead">
      <strong>{invitation.inviterName}</strong> invited you to join{" "}
      <strong>{invitation.organization.name}</strong> as {roleLabel(invitation.role)}.
    </p>
  );
}

/** The role (with what it may do), the workspaces with a role in each, the address and the expiry. */
export function InvitationFacts({ invitation }: { invitation: InvitationLookup }) {
  const role = ORG_ROLES.find((r) => r.value === invitation.role);
  return (
    <dl className="invite-facts">
      <div>
        <dt>Role in {invitation.organization.name}</dt>
        <dd>
          <span className="invite-role">
            <strong>{roleLabel(invitation.role)}</strong>
          </span>
          {role && <span className="invite-role-description">{role.description}</span>}
        </dd>
      </div>
      {invitation.workspaces.length > 0 && (
        <div>
          <dt>{invitation.workspaces.length === 1 ? "Workspace" : "Workspaces"}</dt>
          <dd>
            <ul className="invite-workspaces">
              {invitation.workspaces.map((w) => (
                <li key={w.id}>
                  <span>{w.name}</span>
                  <Badge tone="info">{roleLabel(w.role)}</Badge>
                </li>
              ))}
            </ul>
          </dd>
        </div>
      )}
      {invitation.emailHint && (
        <div>
          <dt>Sent to</dt>
          <dd>{invitation.emailHint}</dd>
        </div>
      )}
      <div>
        <dt>Expiry</dt>
        <dd>
          <time dateTime={invitation.expiresAt} title={formatDateTime(invitation.expiresAt)}>
            Expires {fromNow(invitation.expiresAt)}
          </time>
          <span className="muted"> · {formatDate(invitation.expiresAt)}</span>
        </dd>
      </div>
    </dl>
  );
}

export interface Unavailable {
  title: string;
  body: ReactNode;
}

/**
 * What happened to an invitation that cannot be used, and whom to ask; undefined while it can be.
 * `error` is the look-up's failure (an unknown token answers 404).
 */
export function unavailable(
  invitation: InvitationLookup | undefined,
  error: unknown,
): Unavailable | undefined {
  if (error) {
    if (error instanceof ApiError && error.code === "invitation_not_found") {
      return {
        title: "This invitation link does not work",
        body: (
          <>
            <p>
              Rollcall does not know this link. Check that you opened the whole link from the message you
              received; links copied from a chat are sometimes cut short.
            </p>
            <p>If it still does not work, ask the person who invited you to send a new invitation.</p>
          </>
        ),
      };
    }
    return undefined;
  }
  if (!invitation) return undefined;
  const inviter = invitation.inviterName;
  const org = invitation.organization.name;
  switch (invitation.status) {
    case "pending":
      return undefined;
    case "accepted":
    case "exhausted":
      return {
        title: "This invitation has already been used",
        body: (
          <>
            <p>
              {invitation.status === "exhausted" ? (
                <>
                  This link to join <strong>{org}</strong> has been used as many times as it allows.
                </>
              ) : (
                <>
                  This invitation to join <strong>{org}</strong> was already accepted; it works only once.
                </>
              )}
            </p>
            <p>
              If you joined already, log in to open {org}. Otherwise, ask <strong>{inviter}</strong> for a new
              invitation.
            </p>
          </>
        ),
      };
    case "cancelled":
      return {
        title: "This invitation was cancelled",
        body: (
          <>
            <p>
              Someone at <strong>{org}</strong> cancelled this invitation, so it can no longer be used.
            </p>
            <p>
              If you think you should still join, ask <strong>{inviter}</strong> for a new invitation.
            </p>
          </>
        ),
      };
    case "declined":
      return {
        title: "This invitation was declined",
        body: (
          <>
            <p>
              The invitation to join <strong>{org}</strong> was declined, so it can no longer be used.
            </p>
            <p>
              Changed your mind? Ask <strong>{inviter}</strong> to invite you again.
            </p>
          </>
        ),
      };
    case "expired":
      return {
        title: "This invitation has expired",
        body: (
          <>
            <p>
              The invitation to join <strong>{org}</strong> expired on{" "}
              <time dateTime={invitation.expiresAt}>{formatDate(invitation.expiresAt)}</time>.
            </p>
            <p>
              Ask <strong>{inviter}</strong> to send you a new invitation.
            </p>
          </>
        ),
      };
  }
}
