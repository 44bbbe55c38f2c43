// /reset-password?token=…: the link from a reset mail (or from `rollcall create-owner`). Setting the
// password ends every session of the account, this browser's included; the person logs in again.
import { type FormEvent, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api, call, isApiError } from "../../api/client";
import { AuthLayout } from "../../components/AuthLayout";
import { Button } from "../../components/Button";
import { FormError } from "../../components/Field";
import { useResetSession } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import {
  hasProblems,
  PASSWORD_HINT,
  PasswordField,
  type Problems,
  passwordLengthProblem,
  sentence,
  useFocusFirstProblem,
} from "./fields";
import { Result } from "./Result";
import "./auth.css";

export function ResetPasswordPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const [state, setState] = useState<"form" | "done" | "invalid">("form");

  if (!token) {
    return (
      <LinkProblem
        title="This link is incomplete"
        body="The address has no reset code in it. Open the link from the e-mail again — the whole of it — or ask for a new one."
      />
    );
  }
  if (state === "invalid") {
    return (
      <LinkProblem
        title="This link no longer works"
        body="Password links work once and for a limited time, and setting a password ends every other link. Ask for a new link and use the latest e-mail."
      />
    );
  }
  if (state === "done") {
    return (
      <AuthLayout title="Password changed">
        <Result
          icon="check"
          tone="good"
          announce
          action={
            <Link className="btn btn-primary" to="/login">
              Log in
            </Link>
          }
        >
          <p>Your new password is set. For your safety, every device was logged out, this one too.</p>
        </Result>
      </AuthLayout>
    );
  }
  return <ResetForm token={token} onDone={() => setState("done")} onInvalid={() => setState("invalid")} />;
}

function ResetForm({
  token,
  onDone,
  onInvalid,
}: {
  token: string;
  onDone: () => void;
  onInvalid: () => void;
}) {
  const resetSession = useResetSession();
  const form = useRef<HTMLFormElement>(null);
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [attempt, setAttempt] = useState(0);
  useFocusFirstProblem(form, attempt);

  const save = useAction(async () => {
    try {
      await call(api.POST("/api/v1/auth/password-reset/confirm", { body: { token, password } }));
    } catch (err) {
      if (isApiError(err, "invalid_reset_token")) {
        onInvalid();
        return;
      }
      throw err;
    }
    // Every session ended: whatever this browser had cached belongs to nobody now.
    await resetSession();
    onDone();
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    const lengthProblem = passwordLengthProblem(password);
    if (lengthProblem) found.password = lengthProblem;
    if (!found.password && confirm !== password) found.confirm = "The two passwords are not the same.";
    setProblems(found);
    save.reset();
    if (hasProblems(found) || !(await save.run())) setAttempt((n) => n + 1);
  };

  return (
    <AuthLayout
      title="Choose a new password"
      subtitle="After this, every device logged in to your account is logged out."
      footer={<Link to="/login">Back to log in</Link>}
    >
      <form ref={form} className="auth-form" noValidate onSubmit={submit}>
        <FormError message={save.formError(["password"])} />
        <PasswordField
          label="New password"
          name="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          hint={PASSWORD_HINT}
          error={problems.password ?? sentence(save.fieldError("password"))}
        />
        <PasswordField
          label="Confirm new password"
          name="confirm"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          error={problems.confirm}
        />
        <Button type="submit" variant="primary" className="auth-submit" busy={save.busy}>
          Set new password
        </Button>
      </form>
    </AuthLayout>
  );
}

function LinkProblem({ title, body }: { title: string; body: string }) {
  return (
    <AuthLayout title={title} footer={<Link to="/login">Back to log in</Link>}>
      <Result
        icon="alert"
        tone="warn"
        action={
          <Link className="btn btn-primary" to="/forgot-password">
            Ask for a new link
          </Link>
        }
      >
        <p>{body}</p>
      </Result>
    </AuthLayout>
  );
}
