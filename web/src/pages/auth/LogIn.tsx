// /login: e-mail and password. Afterwards the page asked for (?next=), else Home, which opens the
// organisation used last. Someone already logged in goes straight there.
import { type FormEvent, useRef, useState } from "react";
import { Link, Navigate, useNavigate, useSearchParams } from "react-router";
import { api, call } from "../../api/client";
import { AuthLayout } from "../../components/AuthLayout";
import { Button } from "../../components/Button";
import { FormError, TextField } from "../../components/Field";
import { Loading } from "../../components/Page";
import { safeNext } from "../../components/RequireAuth";
import { useMe, useResetSession } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { PasswordField, type Problems, sentence, useFocusFirstProblem } from "./fields";
import "./auth.css";

/** The invitation a `next` of /invite/<token> is about, to offer an invited sign-up instead. */
export function invitationIn(next: string | undefined): string | undefined {
  const match = next ? /^\/invite\/([^/?#]+)$/.exec(next) : null;
  return match?.[1];
}

export function LogInPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const destination = next ?? "/";
  const invitation = invitationIn(next);
  const me = useMe();
  const navigate = useNavigate();
  const resetSession = useResetSession();
  const form = useRef<HTMLFormElement>(null);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [attempt, setAttempt] = useState(0);
  const [leaving, setLeaving] = useState(false);
  useFocusFirstProblem(form, attempt);

  const logIn = useAction(async () => {
    await call(api.POST("/api/v1/auth/login", { body: { email: email.trim(), password } }));
    setLeaving(true);
    // Whatever was cached belonged to whoever used this browser before.
    await resetSession();
    navigate(destination, { replace: true });
  });

  if (me.isPending) {
    return (
      <AuthLayout title="Log in to Rollcall">
        <Loading label="Checking your session…" rows={3} />
      </AuthLayout>
    );
  }
  if (me.data && !leaving && !logIn.busy) return <Navigate to={destination} replace />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (!email.trim()) found.email = "Enter your e-mail address.";
    if (!password) found.password = "Enter your password.";
    setProblems(found);
    logIn.reset();
    if (Object.keys(found).length > 0 || !(await logIn.run())) setAttempt((n) => n + 1);
  };

  const error = logIn.error;
  const formError =
    error?.code === "invalid_credentials"
      ? "E-mail or password is wrong."
      : error?.status === 429
        ? error.message
        : logIn.formError(["email", "password"]);
  const signupTo = invitation ? `/signup?invitation=${encodeURIComponent(invitation)}` : "/signup";

  return (
    <AuthLayout
      title="Log in to Rollcall"
      subtitle={invitation ? "Log in to accept your invitation." : "Welcome back."}
      footer={
        <>
          New to Rollcall? <Link to={signupTo}>Create account</Link>
        </>
      }
    >
      <form ref={form} className="auth-form" noValidate onSubmit={submit}>
        <FormError message={formError} />
        <TextField
          label="E-mail"
          type="email"
          name="email"
          autoComplete="username"
          inputMode="email"
          autoCapitalize="off"
          spellCheck={false}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problems.email ?? sentence(logIn.fieldError("email"))}
        />
        <PasswordField
          label="Password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problems.password ?? sentence(logIn.fieldError("password"))}
          aside={<Link to="/forgot-password">Forgot password?</Link>}
        />
        <Button type="submit" variant="primary" className="auth-submit" busy={logIn.busy}>
          Log in
        </Button>
      </form>
    </AuthLayout>
  );
}
