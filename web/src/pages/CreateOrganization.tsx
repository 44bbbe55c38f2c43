import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useNavigate } from "react-router";
import { api, call } from "../api/client";
import { Button } from "../components/Button";
import { FormError, TextField } from "../components/Field";
import { Card, PageHeader } from "../components/Page";
import { ME_KEY, useSignedIn } from "../lib/auth";
import { useAction } from "../lib/forms";

export function CreateOrganizationPage() {
  const me = useSignedIn();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [name, setName] = useState("");
  const create = useAction(async () => {
    const { organization } = await call(api.POST("/api/v1/orgs", { body: { name } }));
    await client.invalidateQueries({ queryKey: ME_KEY });
    navigate(`/orgs/${organization.id}`);
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };
  return (
    <div className="narrow">
      <PageHeader
        title="Create organisation"
        description={
          me.organizations.length === 0
            ? "You are not in any organisation yet. Create one, or open an invitation link someone sent you."
            : "An organisation holds your team's workspaces and members. You will be its owner."
        }
      />
      <Card>
        <form onSubmit={submit} className="form" noValidate>
          <FormError message={create.formError(["name"])} />
          <TextField
            label="Organisation name"
            name="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            error={create.fieldError("name")}
            required
            maxLength={100}
            autoComplete="organization"
          />
          <div className="form-actions">
            <Button type="submit" variant="primary" busy={create.busy}>
              Create organisation
            </Button>
          </div>
        </form>
      </Card>
    </div>
  );
}
