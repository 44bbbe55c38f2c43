// /orgs/:orgId/api-keys (org.apikeys: owners and admins) — the organisation's API keys: what each
// acts as and where, who made it, when it was last used and when it expires; "Create API key"
// (CreateApiKeyDialog, which shows the token once) and revocation with a confirmation.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, call } from "../../api/client";
import type { ApiKey, OrgDetail } from "../../api/types";
import { Button, IconButton } from "../../components/Button";
import { ConfirmDialog } from "../../components/Dialog";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { formatDate, formatDateTime, fromNow } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys, usePlaceParams } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import { CreateApiKeyDialog } from "./CreateApiKeyDialog";
import { OrgGate } from "./OrgGate";
import "./org.css";

export function ApiKeysPage() {
  const { orgId } = usePlaceParams();
  return (
    <OrgGate orgId={orgId} permission="org.apikeys">
      {(org) => <ApiKeys orgId={orgId} org={org} />}
    </OrgGate>
  );
}

function ApiKeys({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const name = org.organization.name;
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const apiKeys = useQuery({
    queryKey: keys.apiKeys(orgId),
    queryFn: () => call(api.GET("/api/v1/orgs/{org}/api-keys", { params: { path: { org: orgId } } })),
  });
  const rows = apiKeys.data?.items ?? [];

  return (
    <>
      <PageHeader
        title="API keys"
        description={
          <>
            Programs — a deploy script, your product's backend — use these keys to call Rollcall's API for{" "}
            {name}, sent as <code>Authorization: Bearer rk_…</code>. A key belongs to the organisation, not to
            whoever made it.
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Icon name="plus" /> Create API key
          </Button>
        }
      />
      <section className="card card-flush" aria-labelledby="api-keys-title">
        <h2 id="api-keys-title" className="visually-hidden">
          Keys
        </h2>
        {apiKeys.isPending ? (
          <div className="org-pad">
            <Loading label="Loading API keys…" rows={3} />
          </div>
        ) : apiKeys.isError ? (
          <div className="org-pad">
            <ErrorNotice error={apiKeys.error} retry={() => apiKeys.refetch()} />
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title="No API keys yet">
            <p>
              An API key lets a program act in {name} without anyone's log-in: it reads and changes what its
              role and workspaces allow, and every change it makes is in the audit log under its name.
            </p>
            <Button onClick={() => setCreating(true)}>
              <Icon name="key" /> Create your first API key
            </Button>
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="responsive org-api-keys" aria-busy={apiKeys.isRefetching || undefined}>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Role</th>
                  <th scope="col">Workspaces</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Expires</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((k) => (
                  <KeyRow key={k.id} apiKey={k} onRevoke={() => setRevoking(k)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <CreateApiKeyDialog orgId={orgId} orgName={name} open={creating} onClose={() => setCreating(false)} />
      <RevokeDialog orgId={orgId} apiKey={revoking} onClose={() => setRevoking(null)} />
    </>
  );
}

function KeyRow({ apiKey: k, onRevoke }: { apiKey: ApiKey; onRevoke: () => void }) {
  const expired = k.expiresAt !== null && new Date(k.expiresAt).getTime() <= Date.now();
  return (
    <tr>
      <td data-label="Key">
        <span className="person">
          <span className="person-name">{k.name}</span>
          <span className="person-email mono">{k.prefix}…</span>
        </span>
      </td>
      <td data-label="Role">
        <Badge tone={k.role === "member" ? "neutral" : "info"}>{roleLabel(k.role)}</Badge>
      </td>
      <td data-label="Workspaces">
        {k.workspaces.length > 0 ? (
          <ul className="chips org-chips">
            {k.workspaces.map((w) => (
              <li key={w.id}>
                <Badge>
                  {w.name} · {roleLabel(w.role)}
                </Badge>
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted small">{k.role === "member" ? "None" : "All, as admin"}</span>
        )}
      </td>
      <td data-label="Created">
        <span className="org-stacked">
          <time dateTime={k.createdAt} title={formatDateTime(k.createdAt)} className="org-nowrap">
            {formatDate(k.createdAt)}
          </time>
          <span className="muted small">by {k.createdBy.name}</span>
        </span>
      </td>
      <td data-label="Last used">
        {k.lastUsedAt ? (
          <time dateTime={k.lastUsedAt} title={formatDateTime(k.lastUsedAt)} className="org-nowrap">
            {fromNow(k.lastUsedAt)}
          </time>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td data-label="Expires">
        {k.expiresAt ? (
          <span className="org-stacked">
            <time dateTime={k.expiresAt} title={formatDateTime(k.expiresAt)} className="org-nowrap">
              {formatDate(k.expiresAt)}
            </time>
            {expired && <Badge tone="bad">Expired</Badge>}
          </span>
        ) : (
          <span className="muted">Never</span>
        )}
      </td>
      <td data-label="" className="cell-actions">
        <IconButton label={`Revoke ${k.name}`} className="danger-hover" onClick={onRevoke}>
          <Icon name="trash" />
        </IconButton>
      </td>
    </tr>
  );
}

function RevokeDialog({
  orgId,
  apiKey,
  onClose,
}: {
  orgId: string;
  apiKey: ApiKey | null;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const revoke = useAction(async (k: ApiKey) => {
    await call(
      api.DELETE("/api/v1/orgs/{org}/api-keys/{id}", { params: { path: { org: orgId, id: k.id } } }),
    );
    await client.invalidateQueries({ queryKey: keys.apiKeys(orgId) });
    notify(`${k.name} was revoked`);
    onClose();
  });
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title={`Revoke ${apiKey?.name ?? "this key"}?`}
      message={
        <>
          Anything using it stops working at its next request. A revoked key cannot be brought back: a program
          that still needs access needs a new key.
        </>
      }
      confirmLabel="Revoke key"
      busy={revoke.busy}
      error={revoke.formError()}
      onConfirm={() => apiKey && void revoke.run(apiKey)}
      onClose={() => {
        revoke.reset();
        onClose();
      }}
    />
  );
}
