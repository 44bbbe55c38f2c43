// /confirm-signup?token=…: the link mailed by a sign-up on a server with SIGNUP_CONFIRM=email. The
// account is made only when the person presses the button here (not when the page loads: mail
// scanners open links), then this browser is logged in to it and the app opens.
import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, call, isApiError } from "../../api/client";
import { AuthLayout } from "../../components/AuthLayout";
import { Button } from "../../components/Button";
import { FormError } from "../../components/Field";
import { useResetSession } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { Result } from "./Result";
import "./auth.css";

export function ConfirmSignUpPage() {
  const [params] = useSearchParams();
  const token = params.get("token");
  const navigate = useNavigate();
  const resetSession = useResetSession();
  const [invalid, setInvalid] = useState(false);

  const confirm = useAction(async () => {
    if (!token) return;
    try {
      await call(api.POST("/api/v1/auth/signup/confirm", { body: { token } }));
    } catch (err) {
      if (isApiError(err, "invalid_signup_token")) {
        setInvalid(true);
        return;
      }
      throw err;
    }
    // Drops whatever was cached for a previous person, and reads /me with the new session.
    await resetSession();
    navigate("/", { replace: true });
  });

  if (!token || invalid) {
    return (
      <AuthLayout
        title={token ? "This link no longer works" : "This link is incomplete"}
        footer={<Link to="/login">Log in</Link>}
      >
        <Result
          icon="alert"
          tone="warn"
          action={
            <Link className="btn btn-primary" to="/signup">
              Sign up again
            </Link>
          }
        >
          <p>
            {token
              ? "Confirmation links work once and for 24 hours. If you confirmed already, log in; otherwise sign up again and use the latest e-mail."
              : "The address has no confirmation code in it. Open the link from the e-mail again — the whole of it."}
          </p>
        </Result>
      </AuthLayout>
    );
  }
  return (
    <AuthLayout title="Confirm your account" footer={<Link to="/login">Log in</Link>}>
      <FormError message={confirm.formError([])} />
      <Result
        icon="mail"
        action={
          <Button variant="primary" className="auth-submit" busy={confirm.busy} onClick={() => confirm.run()}>
            Confirm and open my account
          </Button>
        }
      >
        <p>Your e-mail address is confirmed by this link. Press the button to create your account.</p>
      </Result>
    </AuthLayout>
  );
}
