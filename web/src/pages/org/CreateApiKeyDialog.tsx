// "Create API key": a name, the org role it acts as (admin or member, each in one line), the
// workspaces a member key works in, and when it expires. The answer's token is shown once, here:
// the server keeps only its hash, so closing this view is the last chance to copy it.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, call } from "../../api/client";
import type { CreatedApiKey } from "../../api/types";
import { Button } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError, SelectField, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useNotify } from "../../components/Toast";
import { formatDate } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys, useWorkspaces } from "../../lib/places";
import { asSentence, refuseField } from "./problems";
import { chosenGrants, type GrantRow, grantsProblem, WorkspaceGrants } from "./WorkspaceGrants";

type KeyRole = "admin" | "member";

const KEY_ROLES: { value: KeyRole; label: string; description: string }[] = [
  {
    value: "admin",
    label: "Admin",
    description:
      "Manages members, invitations, workspaces, settings and other keys; admin in every workspace.",
  },
  {
    value: "member",
    label: "Member",
    description: "Reads the organisation and works only in the workspaces it is given below.",
  },
];

/** Days until the key stops working; "" never. */
const LIFETIMES = [
  { value: "", label: "Never" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
  { value: "365", label: "365 days" },
];

export function CreateApiKeyDialog({
  orgId,
  orgName,
  open,
  onClose,
}: {
  orgId: string;
  orgName: string;
  open: boolean;
  onClose: () => void;
}) {
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const close = () => {
    // The token leaves memory with the view that showed it.
    setCreated(null);
    onClose();
  };
  return (
    <Dialog
      open={open}
      wide
      title={created ? "Your new API key" : "Create API key"}
      description={
        created
          ? undefined
          : `A key lets a program use Rollcall's API for ${orgName} with the access you give it.`
      }
      onClose={close}
    >
      {open &&
        (created ? (
          <TokenView created={created} onDone={close} />
        ) : (
          <CreateForm orgId={orgId} onCreated={setCreated} onClose={close} />
        ))}
    </Dialog>
  );
}

function CreateForm({
  orgId,
  onCreated,
  onClose,
}: {
  orgId: string;
  onCreated: (created: CreatedApiKey) => void;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const workspaces = useWorkspaces(orgId);
  const spaces = workspaces.data?.items ?? [];
  const [name, setName] = useState("");
  const [role, setRole] = useState<KeyRole>("member");
  const [grants, setGrants] = useState<GrantRow[]>([]);
  const [lifetime, setLifetime] = useState("");

  const create = useAction(async () => {
    if (!name.trim())
      throw refuseField("name", "Give the key a name that says what uses it, e.g. CI deploys.");
    const answer = await call(
      api.POST("/api/v1/orgs/{org}/api-keys", {
        params: { path: { org: orgId } },
        body: {
          name: name.trim(),
          role,
          workspaces: role === "member" ? chosenGrants(grants) : [],
          ...(lifetime ? { expiresInDays: Number(lifetime) } : {}),
        },
      }),
    );
    await client.invalidateQueries({ queryKey: keys.apiKeys(orgId) });
    notify(`API key ${answer.apiKey.name} created`);
    onCreated(answer);
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  const grantError = grantsProblem(create.error);

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="Name"
        value={name}
        onChange={(e) => {
          create.reset();
          setName(e.target.value);
        }}
        error={asSentence(create.fieldError("name"))}
        maxLength={100}
        autoComplete="off"
        placeholder="CI deploys"
        hint="What uses it, so that the list tells keys apart."
      />
      <ChoiceList<KeyRole>
        legend="Acts as"
        name="api-key-role"
        value={role}
        onChange={(r) => {
          create.reset();
          setRole(r);
        }}
        choices={KEY_ROLES}
      />
      <WorkspaceGrants
        workspaces={spaces}
        value={grants}
        onChange={(rows) => {
          create.reset();
          setGrants(rows);
        }}
        closed={
          role !== "member"
            ? "An admin key is admin in every workspace, so there is no workspace to choose."
            : undefined
        }
        emptyNote="Without a workspace the key reads the organisation only."
        note="The key works in these workspaces with these roles."
        error={grantError}
      />
      <SelectField
        label="Expires"
        value={lifetime}
        onChange={(e) => setLifetime(e.target.value)}
        options={LIFETIMES}
        error={asSentence(create.fieldError("expiresInDays"))}
        hint="After that, requests with it answer 401. You can revoke it sooner."
      />
      <FormError message={grantError ? undefined : create.formError(["name", "role", "expiresInDays"])} />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={create.busy}>
          <Icon name="key" /> Create API key
        </Button>
      </div>
    </form>
  );
}

function TokenView({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const { apiKey, token } = created;
  return (
    <div className="form">
      <p className="alert alert-good">
        <Icon name="check" />
        <span>
          <strong>{apiKey.name}</strong> is ready
          {apiKey.expiresAt ? ` and works until ${formatDate(apiKey.expiresAt)}` : ""}.
        </span>
      </p>
      <CopyField label="API key" value={token} />
      <p className="org-note">
        <Icon name="alert" />
        <span>Copy it now: Rollcall keeps only a hash and cannot show it again.</span>
      </p>
      <p className="muted small">
        A program sends it as <code>Authorization: Bearer {apiKey.prefix}…</code>. Keep it where secrets live
        (a CI secret, a vault), never in code.
      </p>
      <div className="form-actions">
        <Button variant="primary" onClick={onDone}>
          Done
        </Button>
      </div>
    </div>
  );
}
