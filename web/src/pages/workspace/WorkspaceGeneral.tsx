// Workspace → Settings → General (workspace.settings): name, timezone and language.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { api, call } from "../../api/client";
import type { Workspace } from "../../api/types";
import { Button } from "../../components/Button";
import { FormError, SelectField, TextField } from "../../components/Field";
import { Card, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { useAction } from "../../lib/forms";
import { languageOptions, timeZoneOptions } from "../../lib/options";
import { hasPermission, keys } from "../../lib/places";
import { fieldSentence, timeIn, WithWorkspace, WorkspaceForbidden, type WorkspacePlace } from "./common";

export function WorkspaceGeneralPage() {
  return (
    <WithWorkspace>
      {(place) =>
        hasPermission(place.detail, "workspace.settings") ? (
          <GeneralForm key={place.wsId} place={place} />
        ) : (
          <WorkspaceForbidden place={place} need="Admin" />
        )
      }
    </WithWorkspace>
  );
}

function GeneralForm({ place }: { place: WorkspacePlace }) {
  const { orgId, wsId } = place;
  const client = useQueryClient();
  const notify = useNotify();
  const [saved, setSaved] = useState<Workspace>(place.detail.workspace);
  const [name, setName] = useState(saved.name);
  const [timezone, setTimezone] = useState(saved.timezone);
  const [language, setLanguage] = useState(saved.language);
  const zoneOptions = useMemo(() => timeZoneOptions(timezone), [timezone]);
  const langOptions = useMemo(() => languageOptions(language), [language]);
  const [blank, setBlank] = useState(false);
  const changed = name !== saved.name || timezone !== saved.timezone || language !== saved.language;

  const save = useAction(async () => {
    const { workspace } = await call(
      api.PATCH("/api/v1/workspaces/{ws}", {
        params: { path: { ws: wsId } },
        body: { name, timezone, language },
      }),
    );
    setSaved(workspace);
    setName(workspace.name);
    setTimezone(workspace.timezone);
    setLanguage(workspace.language);
    await Promise.all([
      client.invalidateQueries({ queryKey: keys.workspace(wsId), exact: true }),
      client.invalidateQueries({ queryKey: keys.workspaces(orgId) }),
    ]);
    notify("Workspace settings saved");
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const isBlank = name.trim() === "";
    setBlank(isBlank);
    if (isBlank) return;
    void save.run();
  };
  const localTime = timeIn(timezone);

  return (
    <div className="narrow">
      <PageHeader title="General" description={`Settings of ${saved.name}, for everyone who works in it.`} />
      <Card>
        <form className="form" onSubmit={submit} noValidate>
          <FormError message={save.formError(["name", "timezone", "language"])} />
          <TextField
            label="Workspace name"
            name="name"
            value={name}
            onChange={(e) => {
              setName(e.target.value);
              setBlank(false);
            }}
            error={blank ? "Give the workspace a name." : fieldSentence("The name", save.fieldError("name"))}
            required
            maxLength={200}
            autoComplete="off"
          />
          <SelectField
            label="Timezone"
            name="timezone"
            value={timezone}
            onChange={(e) => setTimezone(e.target.value)}
            options={zoneOptions}
            error={fieldSentence("The timezone", save.fieldError("timezone"))}
            hint={
              localTime ? `It is ${localTime} there now. Dates in this workspace use this zone.` : undefined
            }
          />
          <SelectField
            label="Language"
            name="language"
            value={language}
            onChange={(e) => setLanguage(e.target.value)}
            options={langOptions}
            error={fieldSentence("The language", save.fieldError("language"))}
            hint="The language of what this workspace sends to the people it serves."
          />
          <div className="form-actions">
            {changed && !save.busy && <span className="muted small">You have unsaved changes.</span>}
            <Button type="submit" variant="primary" busy={save.busy}>
              Save
            </Button>
          </div>
        </form>
      </Card>
    </div>
  );
}
