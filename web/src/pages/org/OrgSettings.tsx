// /orgs/:orgId/settings (owners and admins): the organisation's name, and for owners the danger
// zone where the organisation is deleted after typing its name.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { api, call } from "../../api/client";
import type { OrgDetail } from "../../api/types";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { FormError, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Card, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { ME_KEY } from "../../lib/auth";
import { formatDate } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { hasPermission, keys, usePlaceParams, useWorkspaces } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import { OrgGate } from "./OrgGate";
import { asSentence, refuseField } from "./problems";
import "./org.css";

export function OrgSettingsPage() {
  const { orgId } = usePlaceParams();
  return (
    <OrgGate orgId={orgId} permission="org.settings">
      {(org) => <OrgSettings orgId={orgId} org={org} />}
    </OrgGate>
  );
}

function OrgSettings({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const name = org.organization.name;
  return (
    <div className="org-settings">
      <PageHeader title="Settings" description={`How ${name} is named and what happens to it.`} />
      <RenameCard key={name} orgId={orgId} name={name} />
      <Card title="About">
        <dl className="summary-list">
          <div>
            <dt>Organisation ID</dt>
            <dd className="mono">{org.organization.id}</dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(org.organization.createdAt)}</dd>
          </div>
          <div>
            <dt>Your role</dt>
            <dd>{roleLabel(org.role)}</dd>
          </div>
        </dl>
      </Card>
      {hasPermission(org, "org.owners") ? (
        <DangerZone orgId={orgId} name={name} />
      ) : (
        <p className="muted small">Only an owner of {name} can delete it.</p>
      )}
    </div>
  );
}

function RenameCard({ orgId, name }: { orgId: string; name: string }) {
  const client = useQueryClient();
  const notify = useNotify();
  const [value, setValue] = useState(name);
  const save = useAction(async () => {
    if (!value.trim()) throw refuseField("name", "The organisation needs a name.");
    const { organization } = await call(
      api.PATCH("/api/v1/orgs/{org}", { params: { path: { org: orgId } }, body: { name: value.trim() } }),
    );
    setValue(organization.name);
    await Promise.all([
      client.invalidateQueries({ queryKey: keys.org(orgId) }),
      client.invalidateQueries({ queryKey: ME_KEY }),
    ]);
    notify(`Organisation renamed to ${organization.name}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  return (
    <Card
      title="Organisation name"
      description="Everyone in the organisation sees this name, in the console and in e-mails."
    >
      <form className="form org-rename" onSubmit={submit} noValidate>
        <FormError message={save.formError(["name"])} />
        <TextField
          label="Name"
          value={value}
          onChange={(e) => {
            save.reset();
            setValue(e.target.value);
          }}
          error={asSentence(save.fieldError("name"))}
          maxLength={200}
          required
          autoComplete="organization"
        />
        <div className="form-actions">
          <Button type="submit" variant="primary" busy={save.busy} disabled={value.trim() === name}>
            Save
          </Button>
        </div>
      </form>
    </Card>
  );
}

function DangerZone({ orgId, name }: { orgId: string; name: string }) {
  const [open, setOpen] = useState(false);
  const workspaces = useWorkspaces(orgId);
  const count = workspaces.data?.items.length;
  return (
    <section className="card org-danger" aria-labelledby="danger-title">
      <header className="card-header">
        <div>
          <h2 id="danger-title">Danger zone</h2>
          <p className="card-description">Actions here cannot be undone.</p>
        </div>
      </header>
      <div className="org-danger-row">
        <div>
          <p className="org-danger-what">Delete this organisation</p>
          <p className="muted small">
            Deletes {name}
            {count !== undefined && ` and its ${count === 1 ? "workspace" : `${count} workspaces`}`}, every
            membership, pending invitation and the audit log. Everyone loses access at once.
          </p>
        </div>
        <Button variant="danger" onClick={() => setOpen(true)}>
          <Icon name="trash" /> Delete organisation
        </Button>
      </div>
      <Dialog
        open={open}
        title={`Delete ${name}?`}
        description="This cannot be undone."
        onClose={() => setOpen(false)}
      >
        {open && <DeleteForm orgId={orgId} name={name} onClose={() => setOpen(false)} />}
      </Dialog>
    </section>
  );
}

function DeleteForm({ orgId, name, onClose }: { orgId: string; name: string; onClose: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useNotify();
  const [typed, setTyped] = useState("");
  const matches = typed.trim() === name.trim();
  const remove = useAction(async () => {
    await call(api.DELETE("/api/v1/orgs/{org}", { params: { path: { org: orgId } } }));
    await client.refetchQueries({ queryKey: ME_KEY });
    onClose();
    navigate("/", { replace: true });
    client.removeQueries({ queryKey: keys.org(orgId) });
    notify(`${name} was deleted`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (matches) void remove.run();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      <p className="alert alert-warn">
        <Icon name="alert" />
        <span>
          Every workspace, membership, invitation and audit event of <strong>{name}</strong> is deleted, and
          everyone in it loses access at once.
        </span>
      </p>
      <FormError message={remove.formError()} />
      <TextField
        label={
          <>
            Type <strong>{name}</strong> to confirm
          </>
        }
        value={typed}
        onChange={(e) => setTyped(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="danger" busy={remove.busy} disabled={!matches}>
          Delete organisation
        </Button>
      </div>
    </form>
  );
}
