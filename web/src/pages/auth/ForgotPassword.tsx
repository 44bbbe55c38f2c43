// /forgot-password: ask for a reset link. The API answers 202 whatever the address, so that nobody
// learns from this page who has an account; the page says so in the same words every time.
import { type FormEvent, useRef, useState } from "react";
import { Link } from "react-router";
import { api, call } from "../../api/client";
import { AuthLayout } from "../../components/AuthLayout";
import { Button } from "../../components/Button";
import { FormError, TextField } from "../../components/Field";
import { useAction } from "../../lib/forms";
import { looksLikeEmail, type Problems, sentence, useFocusFirstProblem } from "./fields";
import { Result } from "./Result";
import "./auth.css";

export function ForgotPasswordPage() {
  const form = useRef<HTMLFormElement>(null);
  const [email, setEmail] = useState("");
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problems>({});
  const [attempt, setAttempt] = useState(0);
  useFocusFirstProblem(form, attempt);

  const send = useAction(async () => {
    const address = email.trim();
    await call(api.POST("/api/v1/auth/password-reset", { body: { email: address } }));
    setSentTo(address);
  });

  const footer = (
    <>
      Remembered it? <Link to="/login">Log in</Link>
    </>
  );

  if (sentTo) {
    return (
      <AuthLayout title="Check your inbox" footer={footer}>
        <Result
          icon="mail"
          announce
          action={
            <Button
              variant="secondary"
              onClick={() => {
                send.reset();
                setSentTo(null);
              }}
            >
              Use another address
            </Button>
          }
        >
          <p>
            If an account exists for <strong>{sentTo}</strong>, we've sent a link to choose a new password. It
            works once, for an hour.
          </p>
          <p className="muted">Nothing there after a few minutes? Look in your spam folder, or try again.</p>
        </Result>
      </AuthLayout>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Problems = {};
    if (!email.trim()) found.email = "Enter the e-mail address you log in with.";
    else if (!looksLikeEmail(email)) found.email = "Enter an e-mail address like name@example.org.";
    setProblems(found);
    send.reset();
    if (Object.keys(found).length > 0 || !(await send.run())) setAttempt((n) => n + 1);
  };

  return (
    <AuthLayout
      title="Reset your password"
      subtitle="Enter the address you log in with and we'll e-mail you a link to choose a new password."
      footer={footer}
    >
      <form ref={form} className="auth-form" noValidate onSubmit={submit}>
        <FormError message={send.formError(["email"])} />
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
          error={problems.email ?? sentence(send.fieldError("email"))}
        />
        <Button type="submit" variant="primary" className="auth-submit" busy={send.busy}>
          Send reset link
        </Button>
      </form>
    </AuthLayout>
  );
}
