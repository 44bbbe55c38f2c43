// /invite/:token, logged in or out: who invites me to what, as what, until when. Logged out: create
// an account (an invited sign-up) or log in. Logged in with the address an e-mail invitation was not
// sent to: say which one it was (masked) and offer to switch. Otherwise: Join or Decline. An
// invitation that can no longer be used says what happened and whom to ask.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { api, call, isApiError } from "../api/client";
import type { InvitationLookup, Me } from "../api/types";
import { AuthLayout } from "../components/AuthLayout";
import { Button } from "../components/Button";
import { FormError } from "../components/Field";
import { Icon } from "../components/Icon";
import { ErrorNotice, Loading } from "../components/Page";
import { useNotify } from "../components/Toast";
import { ME_KEY, rememberOrganization, useMe, useResetSession } from "../lib/auth";
import { useAction } from "../lib/forms";
import {
  fitsHint,
  InvitationFacts,
  InvitationLead,
  invitationKey,
  unavailable,
  useInvitation,
} from "./auth/invitation";
import { Result } from "./auth/Result";
import "./auth/auth.css";

export function AcceptInvitationPage() {
  const { token = "" } = useParams();
  const me = useMe();
  const invitation = useInvitation(token);
  const [declined, setDeclined] = useState<InvitationLookup | null>(null);
  const [wrongAccount, setWrongAccount] = useState(false);

  if (declined) return <Declined invitation={declined} signedIn={Boolean(me.data)} />;
  if (me.isPending || invitation.isPending) {
    return (
      <AuthLayout title="Your invitation">
        <Loading label="Loading the invitation…" rows={4} />
      </AuthLayout>
    );
  }
  const gone = unavailable(invitation.data, invitation.error);
  if (gone) {
    return (
      <AuthLayout title={gone.title} footer={<HomeLink me={me.data ?? null} />}>
        <Result icon="alert" tone="warn">
          {gone.body}
        </Result>
      </AuthLayout>
    );
  }
  if (!invitation.data) {
    return (
      <AuthLayout title="Your invitation" footer={<HomeLink me={me.data ?? null} />}>
        <ErrorNotice error={invitation.error} retry={() => invitation.refetch()} />
      </AuthLayout>
    );
  }
  const offer = invitation.data;
  const title = `Join ${offer.organization.name}`;

  if (!me.data) {
    const next = encodeURIComponent(`/invite/${token}`);
    return (
      <AuthLayout title={title}>
        <InvitationLead invitation={offer} />
        <InvitationFacts invitation={offer} />
        <div className="auth-actions">
          <Link className="btn btn-primary" to={`/signup?invitation=${encodeURIComponent(token)}`}>
            Create account
          </Link>
          <Link className="btn btn-secondary" to={`/login?next=${next}`}>
            Log in
          </Link>
        </div>
        <p className="auth-note">
          {offer.emailHint
            ? `New to Rollcall? Create an account with the address this invitation was sent to (${offer.emailHint}). Already have one? Log in with it.`
            : "New to Rollcall? Create an account. Already have one? Log in to join with it."}
        </p>
      </AuthLayout>
    );
  }

  if (wrongAccount || !fitsHint(me.data.user.email, offer.emailHint)) {
    return <WrongAccount token={token} invitation={offer} me={me.data} />;
  }
  return (
    <AuthLayout title={title} footer={<HomeLink me={me.data} />}>
      <InvitationLead invitation={offer} />
      <InvitationFacts invitation={offer} />
      <Respond
        token={token}
        me={me.data}
        onDeclined={() => setDeclined(offer)}
        onWrongAccount={() => setWrongAccount(true)}
      />
    </AuthLayout>
  );
}

function Respond({
  token,
  me,
  onDeclined,
  onWrongAccount,
}: {
  token: string;
  me: Me;
  onDeclined: () => void;
  onWrongAccount: () => void;
}) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useNotify();
  const switchAccount = useSwitchAccount(token);

  // A refusal that changes what the page should show: the invitation ended meanwhile (410) or
  // belongs to another address (403).
  const settle = async (err: unknown) => {
    if (isApiError(err, "invitation_email_mismatch")) onWrongAccount();
    else if (isApiError(err) && (err.status === 410 || err.status === 404)) {
      await client.invalidateQueries({ queryKey: invitationKey(token) });
    }
  };

  const join = useAction(async () => {
    try {
      const joined = await call(api.POST("/api/v1/invitations/accept", { body: { token } }));
      await client.invalidateQueries({ queryKey: ME_KEY });
      rememberOrganization(joined.organization.id);
      notify(`You joined ${joined.organization.name}`);
      navigate(`/orgs/${joined.organization.id}`, { replace: true });
    } catch (err) {
      await settle(err);
      throw err;
    }
  });
  const decline = useAction(async () => {
    try {
      await call(api.POST("/api/v1/invitations/decline", { body: { token } }));
      onDeclined();
    } catch (err) {
      await settle(err);
      throw err;
    }
  });
  const error = join.formError() ?? decline.formError();

  return (
    <>
      <FormError message={error} />
      <div className="auth-actions-row">
        <Button variant="primary" busy={join.busy} disabled={decline.busy} onClick={() => join.run()}>
          Join
        </Button>
        <Button variant="secondary" busy={decline.busy} disabled={join.busy} onClick={() => decline.run()}>
          Decline
        </Button>
      </div>
      <p className="signed-in-as">
        <span>
          Joining as <strong>{me.user.name}</strong> ({me.user.email}).
        </span>
        <button
          type="button"
          className="link-button"
          disabled={switchAccount.busy}
          onClick={() => switchAccount.run()}
        >
          Use another account
        </button>
      </p>
    </>
  );
}

function WrongAccount({ token, invitation, me }: { token: string; invitation: InvitationLookup; me: Me }) {
  const switchAccount = useSwitchAccount(token);
  return (
    <AuthLayout title={`Join ${invitation.organization.name}`} footer={<HomeLink me={me} />}>
      <InvitationLead invitation={invitation} />
      <div className="alert alert-warn" role="alert">
        <Icon name="alert" />
        <span className="auth-alert-text">
          This invitation was sent to <strong>{invitation.emailHint}</strong>. You're logged in as{" "}
          <strong>{me.user.email}</strong>.
        </span>
      </div>
      <p className="auth-note">
        Only the person it was sent to can accept it. Log out, then log in with that address — or create an
        account with it if you don't have one yet.
      </p>
      <FormError message={switchAccount.formError()} />
      <div className="auth-actions">
        <Button variant="primary" busy={switchAccount.busy} onClick={() => switchAccount.run()}>
          Log out and switch account
        </Button>
      </div>
    </AuthLayout>
  );
}

/** Logs this browser out and opens the log-in page, which comes back to this invitation. */
function useSwitchAccount(token: string) {
  const navigate = useNavigate();
  const resetSession = useResetSession();
  return useAction(async () => {
    try {
      await call(api.POST("/api/v1/auth/logout"));
    } catch (err) {
      // A session that had already ended is logged out all the same.
      if (!(isApiError(err) && err.status === 401)) throw err;
    }
    await resetSession();
    navigate(`/login?next=${encodeURIComponent(`/invite/${token}`)}`, { replace: true });
  });
}

function Declined({ invitation, signedIn }: { invitation: InvitationLookup; signedIn: boolean }) {
  const link = invitation.emailHint === null;
  return (
    <AuthLayout
      title="You declined the invitation"
      footer={signedIn ? <Link to="/">Go to Rollcall</Link> : null}
    >
      <Result icon="check" announce>
        <p>
          You did not join <strong>{invitation.organization.name}</strong>.
        </p>
        <p className="muted">
          {link
            ? "Nothing has changed in your account. If you change your mind, open the link again while it is valid."
            : `If you change your mind, ask ${invitation.inviterName} to invite you again.`}
        </p>
      </Result>
    </AuthLayout>
  );
}

function HomeLink({ me }: { me: Me | null }) {
  if (!me) {
    return (
      <>
        Have an account? <Link to="/login">Log in</Link>
      </>
    );
  }
  return <Link to="/">Go to my organisations</Link>;
}
