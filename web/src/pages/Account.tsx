// My account: my display name (PATCH /me) and my password (POST /me/password, which logs out
// every other device — the page says so when it is done).
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "react-router";
import { api, call } from "../api/client";
import { Button } from "../components/Button";
import { FormError, TextField } from "../components/Field";
import { Icon } from "../components/Icon";
import { Card, PageHeader } from "../components/Page";
import { useNotify } from "../components/Toast";
import { ME_KEY, useSignedIn } from "../lib/auth";
import { formatDate } from "../lib/format";
import { useAction } from "../lib/forms";
import { keys } from "../lib/places";

export function AccountPage() {
  const me = useSignedIn();
  return (
    <div className="narrow">
      <PageHeader
        title="My account"
        description={
          <>Your name and password. You have been a Rollcall user since {formatDate(me.user.createdAt)}.</>
        }
      />
      <ProfileCard />
      <PasswordCard />
    </div>
  );
}

function ProfileCard() {
  const me = useSignedIn();
  const client = useQueryClient();
  const notify = useNotify();
  const [name, setName] = useState(me.user.name);
  const [blank, setBlank] = useState(false);
  const save = useAction(async () => {
    await call(api.PATCH("/api/v1/me", { body: { name } }));
  });
  const unchanged = name.trim() === me.user.name;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (name.trim() === "") {
      setBlank(true);
      return;
    }
    if (await save.run()) {
      await client.invalidateQueries({ queryKey: ME_KEY });
      setName((n) => n.trim());
      notify("Name saved");
    }
  };

  return (
    <Card title="Profile" description="Your name is what the people in your organisations see.">
      <form className="form" noValidate onSubmit={submit}>
        <TextField
          label="Display name"
          name="name"
          autoComplete="name"
          value={name}
          maxLength={200}
          onChange={(e) => {
            setName(e.target.value);
            setBlank(false);
            save.reset();
          }}
          error={blank ? "Your name cannot be blank." : save.fieldError("name")}
        />
        <TextField
          label="E-mail address"
          name="email"
          value={me.user.email}
          readOnly
          hint="You log in with this address. It cannot be changed here."
        />
        <FormError message={save.formError(["name"])} />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy} disabled={unchanged}>
            Save
          </Button>
        </div>
      </form>
    </Card>
  );
}

function PasswordCard() {
  const client = useQueryClient();
  const notify = useNotify();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [mismatch, setMismatch] = useState(false);
  const [missing, setMissing] = useState(false);
  const [done, setDone] = useState(false);
  const change = useAction(async () => {
    await call(api.POST("/api/v1/me/password", { body: { currentPassword: current, newPassword: next } }));
  });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setDone(false);
    change.reset();
    setMissing(current === "");
    setMismatch(next !== "" && next !== repeat);
    if (current === "" || (next !== "" && next !== repeat)) return;
    if (await change.run()) {
      setCurrent("");
      setNext("");
      setRepeat("");
      setDone(true);
      notify("Password changed");
      await client.invalidateQueries({ queryKey: keys.sessions() });
    }
  };

  return (
    <Card
      title="Password"
      description="Changing your password logs out every other device; this one stays logged in."
    >
      <form className="form" noValidate onSubmit={submit}>
        <TextField
          label="Current password"
          name="current-password"
          type="password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => {
            setCurrent(e.target.value);
            setMissing(false);
          }}
          error={missing ? "Enter your current password." : change.fieldError("currentPassword")}
        />
        <div className="form-row">
          <TextField
            label="New password"
            name="new-password"
            type="password"
            autoComplete="new-password"
            value={next}
            onChange={(e) => setNext(e.target.value)}
            hint="At least 8 characters. A few unusual words make a strong one."
            error={change.fieldError("newPassword")}
          />
          <TextField
            label="Repeat the new password"
            name="repeat-password"
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => {
              setRepeat(e.target.value);
              setMismatch(false);
            }}
            error={mismatch ? "The two new passwords are not the same." : undefined}
          />
        </div>
        <FormError message={change.formError(["currentPassword", "newPassword"])} />
        {done && (
          <div className="alert alert-good" role="status">
            <Icon name="check" />
            <span>
              Your password is changed. Every other device was logged out and needs the new password to log in
              again. <Link to="/devices">See my devices</Link>
            </span>
          </div>
        )}
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={change.busy}>
            Change password
          </Button>
        </div>
      </form>
    </Card>
  );
}
