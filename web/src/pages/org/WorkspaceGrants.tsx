// The "Workspaces" part of a form that gives access to be used later — an invitation, an API key:
// rows of a workspace of the organisation and a role in it, added and removed before anything is
// sent. Each workspace is offered once; an org role that is admin everywhere has nothing to choose.
import { useRef } from "react";
import type { ApiError } from "../../api/client";
import { Button, IconButton } from "../../components/Button";
import { FormError, SelectField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { WORKSPACE_ROLES, type WorkspaceRole } from "../../lib/roles";

export interface GrantRow {
  /** Identifies the row while it is edited; never sent. */
  key: number;
  workspaceId: string;
  role: WorkspaceRole;
}

/** The rows as the API takes them: `[{workspaceId, role}]`, leaving out a row with no workspace. */
export function chosenGrants(rows: GrantRow[]): { workspaceId: string; role: WorkspaceRole }[] {
  return rows.filter((r) => r.workspaceId).map((r) => ({ workspaceId: r.workspaceId, role: r.role }));
}

/** The API's refusal of the rows (fields `workspaces…`), as one message; undefined when none. */
export function grantsProblem(error: ApiError | null): string | undefined {
  const named = error?.errors.filter((e) => e.field.startsWith("workspaces")) ?? [];
  return named.length > 0 ? named.map((e) => e.message).join(" ") : undefined;
}

export function WorkspaceGrants({
  workspaces,
  value,
  onChange,
  closed,
  emptyNote,
  note,
  error,
}: {
  /** The organisation's workspaces the giver may offer. */
  workspaces: { id: string; name: string }[];
  value: GrantRow[];
  onChange: (rows: GrantRow[]) => void;
  /** When set, there is nothing to choose (the org role is admin everywhere): this says why. */
  closed?: string | undefined;
  /** What no row means. */
  emptyNote: string;
  /** What the rows mean, once there is one. */
  note: string;
  /** The API's refusal of a row, shown under the rows. */
  error?: string | undefined;
}) {
  const nextKey = useRef(1);
  const add = () => {
    const taken = new Set(value.map((g) => g.workspaceId));
    const first = workspaces.find((w) => !taken.has(w.id));
    onChange([...value, { key: nextKey.current++, workspaceId: first?.id ?? "", role: "editor" }]);
  };
  const update = (key: number, change: Partial<GrantRow>) =>
    onChange(value.map((r) => (r.key === key ? { ...r, ...change } : r)));
  const remove = (key: number) => onChange(value.filter((r) => r.key !== key));

  return (
    <fieldset className="org-fieldset">
      <legend>Workspaces</legend>
      {closed ? (
        <p className="muted small org-fieldset-note">{closed}</p>
      ) : (
        <>
          <p className="muted small org-fieldset-note">{value.length === 0 ? emptyNote : note}</p>
          {value.map((g) => (
            <GrantFields
              key={g.key}
              row={g}
              options={workspaces.map((w) => ({
                value: w.id,
                label: w.name,
                disabled: w.id !== g.workspaceId && value.some((o) => o.workspaceId === w.id),
              }))}
              onChange={(change) => update(g.key, change)}
              onRemove={() => remove(g.key)}
            />
          ))}
          <FormError message={error} />
          {workspaces.length > value.length && (
            <div>
              <Button size="sm" onClick={add}>
                <Icon name="plus" /> Add a workspace
              </Button>
            </div>
          )}
        </>
      )}
    </fieldset>
  );
}

function GrantFields({
  row,
  options,
  onChange,
  onRemove,
}: {
  row: GrantRow;
  options: { value: string; label: string; disabled?: boolean }[];
  onChange: (change: Partial<GrantRow>) => void;
  onRemove: () => void;
}) {
  const workspaceName = options.find((o) => o.value === row.workspaceId)?.label ?? "this workspace";
  return (
    <div className="org-grant-row">
      <SelectField
        label="Workspace"
        value={row.workspaceId}
        onChange={(e) => onChange({ workspaceId: e.target.value })}
        options={options}
      />
      <SelectField
        label="Role in workspace"
        value={row.role}
        onChange={(e) => onChange({ role: e.target.value as WorkspaceRole })}
        options={WORKSPACE_ROLES.map((r) => ({ value: r.value, label: r.label }))}
        hint={WORKSPACE_ROLES.find((r) => r.value === row.role)?.description}
      />
      <IconButton
        label={`Remove ${workspaceName}`}
        className="danger-hover org-grant-remove"
        onClick={onRemove}
      >
        <Icon name="close" />
      </IconButton>
    </div>
  );
}
