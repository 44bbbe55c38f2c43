// The two ways to invite someone into a workspace: an e-mail Rollcall sends ("New invitation"), or
// a link the inviter shares ("Generate invite link"). Both make an invitation to join the
// organisation as member with a role in this workspace (POST /workspaces/{ws}/invitations).
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, call } from "../../api/client";
import { Button } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError, SelectField, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useNotify } from "../../components/Toast";
import { useAction } from "../../lib/forms";
import { EXPIRY_OPTIONS, expiryLabel } from "../../lib/options";
import { keys } from "../../lib/places";
import { roleLabel, WORKSPACE_ROLES, type WorkspaceRole } from "../../lib/roles";
import { fieldSentence, type WorkspacePlace } from "./common";

export function NewInvitationDialog({
  place,
  open,
  onClose,
  onSent,
}: {
  place: WorkspacePlace;
  open: boolean;
  onClose: () => void;
  onSent: () => void;
}) {
  return (
    <Dialog
      open={open}
      title="New invitation"
      description={`Rollcall e-mails a link to join ${place.detail.workspace.name}. It works once, for this address, for 7 days.`}
      onClose={onClose}
    >
      {open && <EmailForm place={place} onClose={onClose} onSent={onSent} />}
    </Dialog>
  );
}

function EmailForm({
  place,
  onClose,
  onSent,
}: {
  place: WorkspacePlace;
  onClose: () => void;
  onSent: () => void;
}) {
  const { wsId, detail } = place;
  const client = useQueryClient();
  const notify = useNotify();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<WorkspaceRole>("editor");
  const send = useAction(async () => {
    await call(
      api.POST("/api/v1/workspaces/{ws}/invitations", {
        params: { path: { ws: wsId } },
        body: { delivery: "email", email: email.trim(), role },
      }),
    );
    notify(`Invitation sent to ${email.trim()}`);
    await client.invalidateQueries({ queryKey: keys.workspaceInvitations(wsId) });
    await client.invalidateQueries({ queryKey: keys.orgInvitations(place.orgId) });
    onSent();
    onClose();
  });
  // The API names no field for these two, but they are about the address.
  const aboutEmail =
    send.error && ["invitation_pending", "already_member"].includes(send.error.code)
      ? send.error.message
      : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void send.run();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="E-mail"
        type="email"
        name="email"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        error={send.fieldError("email") ? "Enter an e-mail address, like name@example.org." : aboutEmail}
        required
        autoComplete="off"
        spellCheck={false}
      />
      <ChoiceList
        legend={`Role in ${detail.workspace.name}`}
        name="invite-email-role"
        value={role}
        onChange={setRole}
        choices={WORKSPACE_ROLES}
      />
      <FormError message={aboutEmail ? undefined : send.formError(["email", "role"])} />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={send.busy}>
          <Icon name="mail" /> Send invitation
        </Button>
      </div>
    </form>
  );
}

export function InviteLinkDialog({
  place,
  open,
  onClose,
  onCreated,
}: {
  place: WorkspacePlace;
  open: boolean;
  onClose: () => void;
  onCreated: () => void;
}) {
  return (
    <Dialog
      open={open}
      title="Generate invite link"
      description={`Anyone with the link can join ${place.detail.workspace.name} with the role you choose.`}
      onClose={onClose}
    >
      {open && <LinkForm place={place} onClose={onClose} onCreated={onCreated} />}
    </Dialog>
  );
}

function LinkForm({
  place,
  onClose,
  onCreated,
}: {
  place: WorkspacePlace;
  onClose: () => void;
  onCreated: () => void;
}) {
  const { wsId, detail } = place;
  const client = useQueryClient();
  const [role, setRole] = useState<WorkspaceRole>("viewer");
  const [expires, setExpires] = useState("168");
  const [maxUses, setMaxUses] = useState("1");
  const [url, setUrl] = useState<string | null>(null);
  const create = useAction(async () => {
    const answer = await call(
      api.POST("/api/v1/workspaces/{ws}/invitations", {
        params: { path: { ws: wsId } },
        body: { delivery: "link", role, expiresInHours: Number(expires), maxUses: Number(maxUses) },
      }),
    );
    setUrl(answer.url ?? null);
    await client.invalidateQueries({ queryKey: keys.workspaceInvitations(wsId) });
    await client.invalidateQueries({ queryKey: keys.orgInvitations(place.orgId) });
    onCreated();
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };

  if (url) {
    const uses = Number(maxUses);
    return (
      <div className="form">
        <CopyField label="Invite link" value={url} />
        <p className="alert alert-info">
          <Icon name="link" />
          <span>
            Rollcall does not send this link: share it yourself with the people you want to invite. Up to{" "}
            {uses === 1 ? "one person" : `${uses} people`} can join {detail.workspace.name} with it as{" "}
            {roleLabel(role)}, for {expiryLabel(expires)}. You will not see this link again; cancel it from
            the list if it reaches the wrong people.
          </span>
        </p>
        <div className="form-actions">
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </div>
      </div>
    );
  }

  return (
    <form className="form" onSubmit={submit} noValidate>
      <ChoiceList
        legend={`Role in ${detail.workspace.name}`}
        name="invite-link-role"
        value={role}
        onChange={setRole}
        choices={WORKSPACE_ROLES}
      />
      <div className="form-row">
        <SelectField
          label="Expires after"
          name="expiresInHours"
          value={expires}
          onChange={(e) => setExpires(e.target.value)}
          options={EXPIRY_OPTIONS}
          error={fieldSentence("The expiry", create.fieldError("expiresInHours"))}
        />
        <TextField
          label="Maximum uses"
          name="maxUses"
          type="number"
          inputMode="numeric"
          min={1}
          max={1000}
          value={maxUses}
          onChange={(e) => setMaxUses(e.target.value)}
          error={fieldSentence("Maximum uses", create.fieldError("maxUses"))}
          hint="How many people may join with it (1 to 1000)."
        />
      </div>
      <FormError message={create.formError(["role", "expiresInHours", "maxUses"])} />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={create.busy}>
          <Icon name="link" /> Generate invite link
        </Button>
      </div>
    </form>
  );
}

/** A new link for an existing link invitation (after "Resend"): shown once, with Copy. */
export function NewLinkDialog({ url, onClose }: { url: string | null; onClose: () => void }) {
  return (
    <Dialog open={url !== null} title="New invite link" onClose={onClose}>
      {url && (
        <div className="form">
          <CopyField label="Invite link" value={url} />
          <p className="alert alert-info">
            <Icon name="link" />
            <span>
              The old link no longer works. Rollcall does not send this link: share it yourself with the
              people you want to invite.
            </span>
          </p>
          <div className="form-actions">
            <Button variant="primary" onClick={onClose}>
              Done
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
