// "New workspace": name, time zone (the browser's by default) and language → the new workspace.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { useNavigate } from "react-router";
import { api, call } from "../../api/client";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { FormError, SelectField, TextField } from "../../components/Field";
import { useNotify } from "../../components/Toast";
import { useAction } from "../../lib/forms";
import { browserLanguage, browserTimeZone, languageOptions, timeZoneOptions } from "../../lib/options";
import { keys } from "../../lib/places";
import { asSentence, refuseField } from "./problems";

export function NewWorkspaceDialog({
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
  return (
    <Dialog
      open={open}
      title="New workspace"
      description={`A workspace of ${orgName}, with its own people and roles. Owners and admins of ${orgName} can enter it at once.`}
      onClose={onClose}
    >
      {open && <NewWorkspaceForm orgId={orgId} onClose={onClose} />}
    </Dialog>
  );
}

function NewWorkspaceForm({ orgId, onClose }: { orgId: string; onClose: () => void }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const notify = useNotify();
  const zones = useMemo(() => timeZoneOptions(), []);
  const languages = useMemo(() => languageOptions(), []);
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState(browserTimeZone);
  const [language, setLanguage] = useState(browserLanguage);
  const create = useAction(async () => {
    if (!name.trim()) throw refuseField("name", "Give the workspace a name.");
    const { workspace } = await call(
      api.POST("/api/v1/orgs/{org}/workspaces", {
        params: { path: { org: orgId } },
        body: { name, timezone, language },
      }),
    );
    await client.invalidateQueries({ queryKey: keys.workspaces(orgId) });
    notify(`Workspace ${workspace.name} created`);
    onClose();
    navigate(`/orgs/${orgId}/workspaces/${workspace.id}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  return (
    <form className="form" onSubmit={submit} noValidate>
      <FormError message={create.formError(["name", "timezone", "language"])} />
      <TextField
        label="Workspace name"
        value={name}
        onChange={(e) => {
          create.reset();
          setName(e.target.value);
        }}
        error={asSentence(create.fieldError("name"))}
        maxLength={200}
        required
        autoComplete="off"
        placeholder="e.g. Field Ops"
        autoFocus
      />
      <div className="form-row org-row-top">
        <SelectField
          label="Time zone"
          value={timezone}
          onChange={(e) => setTimezone(e.target.value)}
          options={zones}
          error={asSentence(create.fieldError("timezone"))}
        />
        <SelectField
          label="Language"
          value={language}
          onChange={(e) => setLanguage(e.target.value)}
          options={languages}
          error={asSentence(create.fieldError("language"))}
        />
      </div>
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={create.busy}>
          Create workspace
        </Button>
      </div>
    </form>
  );
}
