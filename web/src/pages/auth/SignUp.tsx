// /signup: a new account and its own organisation; with ?invitation=<token>, an account that joins
// the inviting organisation instead. The API answers the same whether or not the address already
// has an account (it mails the owner and hands out a session that opens nothing; with
// SIGNUP_CONFIRM=email it answers 202 with no session and mails a link that makes the account), so
// the page reads /me afterwards: nobody there means "check your inbox", never the app.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { api, call } from "../../api/client";
import type { Me } from "../../api/types";
import { AuthLayout } from "../../components/AuthLayout";
import { Button } from "../../components/Button";
import { FormError, TextField } from "../../components/Field";
import { ErrorNotice, Loading } from "../../components/Page";
import { ME_KEY, rememberOrganization, useMe, useResetSession } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { roleLabel } from "../../lib/roles";
import {
  hasProblems,
  looksLikeEmail,
  PASSWORD_HINT,
  PasswordField,
  type Problems,
  passwordLengthProblem,
  sentence,
  useFocusFirstProblem,
} from "./fields";
import { fitsHint, unavailable, useInvitation } from "./invitation";
import { Result } from "./Result";
import "./auth.css";

const FIELDS = ["name", "email", "password", "organizationName"];

export function SignUpPage() {
  const [params] = useSearchParams();
  const token = params.get("invitation") ?? undefined;
  const me = useMe();
  const invitation = useInvitation(token);
  const navigate = useNavigate();
  const client = useQueryClient();
  const resetSession = useResetSession();
  const [finished, setFinished] = useState<"inbox" | "signed-in" | null>(null);

  /** After the API said 201: find out whether that opened an account, and go where it leads. */
  const afterSignUp = async () => {
    const joining = invitation.data?.organization.name;
    setFinished("signed-in");
    // Drops whatever was cached for a previous person, and reads /me with the new session.
    await resetSession();
    const signedIn = client.getQueryData<Me | null>(ME_KEY);
    if (!signedIn) {
      setFinished("inbox");
      return;
    }
    // An invited sign-up makes no organisation of its own: the one joined is the one named.
    const joined = token
      ? (signedIn.organizations.find((o) => o.name === joining) ?? signedIn.organizations[0])
      : undefined;
    if (joined) {
      rememberOrganization(joined.id);
      navigate(`/orgs/${joined.id}`, { replace: true });
    } else {
      navigate("/", { replace: true });
    }
  };

  const loginTo = token ? `/login?next=${encodeURIComponent(`/invite/${token}`)}` : "/login";
  const footer = (
    <>
      Already have an account? <Link to={loginTo}>Log in</Link>
    </>
  );

  if (finished === "inbox") return <CheckInbox invited={token !== undefined} loginTo={loginTo} />;
  if (finished === "signed-in") {
    return (
      <AuthLayout title="Setting up your account">
        <Loading label="Setting up your account…" rows={4} />
      </AuthLayout>
    );
  }
  if (me.isPending || (token && invitation.isPending)) {
    return (
      <AuthLayout title="Create your account">
        <Loading label="Loading…" rows={4} />
      </AuthLayout>
    );
  }
  // Already logged in: an invitation is accepted on its own page; otherwise, the app.
  if (me.data) {
    return <Navigate to={token ? `/invite/${encodeURIComponent(token)}` : "/"} replace />;
  }
  if (token) {
    const gone = unavailable(invitation.data, invitation.error);
    if (gone) {
      return (
        <AuthLayout title={gone.title} footer={footer}>
          <Result icon="alert" tone="warn">
            {gone.body}
          </Result>
        </AuthLayout>
      );
    }
    if (invitation.isError) {
      return (
        <AuthLayout title="Create your account" footer={footer}>
          <ErrorNotice error={invitation.error} retry={() => invitation.refetch()} />
        </AuthLayout>
      );
    }
  }
  const offer = invitation.data;
  return (
    <AuthLayout
      title={offer ? `Join ${offer.organization.name}` : "Create your account"}
      subtitle={
        offer
          ? `${offer.inviterName} invited you as ${roleLabel(offer.role)}. Create your account to join.`
          : "Set up Rollcall for your team in a minute."
      }
      footer={footer}
    >
      <SignUpForm
        token={token}
        emailHint={offer?.emailHint ?? null}
        note={
          offer
            ? `You will join ${offer.organization.name} as ${roleLabel(offer.role)}; its admins can change your role later.`
            : "You will own a new organisation with one workspace. Invite your team from its settings."
        }
        onCreated={afterSignUp}
      />
    </AuthLayout>
  );
}

function SignUpForm({
  token,
  emailHint,
  note,
  onCreated,
}: {
  token: string | undefined;
  emailHint: string | null;
  note: string;
  onCreated: () => Promise<void>;
}) {
  const form = useRef<HTMLFormElement>(null);
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [orgName, setOrgName] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [attempt, setAttempt] = useState(0);
  useFocusFirstProblem(form, attempt);

  const signUp = useAction(async () => {
    await call(
      api.POST("/api/v1/auth/signup", {
        body: {
          name: name.trim(),
          email: email.trim(),
          password,
          ...(token
            ? { invitationToken: token }
            : orgName.trim()
              ? { organizationName: orgName.trim() }
              : {}),
        },
      }),
    );
    await onCreated();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (!name.trim()) found.name = "Enter your name.";
    if (!email.trim()) found.email = "Enter your e-mail address.";
    else if (!looksLikeEmail(email)) found.email = "Enter an e-mail address like name@example.org.";
    else if (!fitsHint(email, emailHint)) {
      found.email = `Use the address this invitation was sent to (${emailHint}).`;
    }
    const passwordProblem = passwordLengthProblem(password);
    if (passwordProblem) found.password = passwordProblem;
    setProblems(found);
    signUp.reset();
    if (hasProblems(found) || !(await signUp.run())) setAttempt((n) => n + 1);
  };

  const error = signUp.error;
  const apiEmailError =
    error?.code === "invitation_email_mismatch"
      ? `Use the address this invitation was sent to${emailHint ? ` (${emailHint})` : ""}.`
      : sentence(signUp.fieldError("email"));
  const formError =
    error?.code === "signup_disabled"
      ? "Sign-up on this server needs an invitation. Ask someone in your organisation to invite you, then open the link they send."
      : error?.code === "invitation_email_mismatch"
        ? undefined
        : signUp.formError(FIELDS);

  return (
    <form ref={form} className="auth-form" noValidate onSubmit={submit}>
      <FormError message={formError} />
      <TextField
        label="Your name"
        name="name"
        autoComplete="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={problems.name ?? sentence(signUp.fieldError("name"))}
      />
      <TextField
        label="E-mail"
        type="email"
        name="email"
        autoComplete="email"
        inputMode="email"
        autoCapitalize="off"
        spellCheck={false}
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        hint={emailHint ? `Use the address this invitation was sent to (${emailHint}).` : undefined}
        error={problems.email ?? apiEmailError}
      />
      <PasswordField
        label="Password"
        name="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        hint={PASSWORD_HINT}
        error={problems.password ?? sentence(signUp.fieldError("password"))}
      />
      {!token && (
        <TextField
          label="Organisation name"
          name="organizationName"
          autoComplete="organization"
          value={orgName}
          placeholder={`${name.trim() || "Your name"}'s organisation`}
          onChange={(e) => setOrgName(e.target.value)}
          hint="Optional. Your team's name; you can change it later."
          error={sentence(signUp.fieldError("organizationName"))}
        />
      )}
      <Button type="submit" variant="primary" className="auth-submit" busy={signUp.busy}>
        Create account
      </Button>
      <p className="auth-note small">{note}</p>
    </form>
  );
}

function CheckInbox({ invited, loginTo }: { invited: boolean; loginTo: string }) {
  return (
    <AuthLayout
      title="Check your inbox"
      footer={
        <>
          <Link to={loginTo}>Log in</Link> · <Link to="/forgot-password">Forgot password?</Link>
        </>
      }
    >
      <Result icon="mail" announce>
        <p>If this address can be used, we have sent a message to it with what to do next.</p>
        <p className="muted">
          {invited
            ? "If you already have a Rollcall account, log in with it to accept the invitation."
            : "If you already have a Rollcall account, log in instead, or reset your password if you forgot it."}
        </p>
      </Result>
    </AuthLayout>
  );
}
