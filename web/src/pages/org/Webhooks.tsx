// /orgs/:orgId/webhooks (org.apikeys: owners and admins) — the endpoints the organisation's events are
// posted to (docs/webhooks.md): each with what it receives, whether it is on (and why the server
// turned it off), its newest delivery, and what an admin does with it: open its delivery log, send
// a test event, change it, turn it off (after a confirmation: what waits fails) or on, rotate its
// secret (the new one shown once), delete it.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { Link } from "react-router";
import { api, call } from "../../api/client";
import type { OrgDetail, Webhook } from "../../api/types";
import { Button } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { ConfirmDialog, Dialog } from "../../components/Dialog";
import { FormError } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { formatDateTime, fromNow } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys, usePlaceParams } from "../../lib/places";
import { eventTypeLabel, STATUS_LABELS, typesSummary } from "../../lib/webhook-types";
import { OrgGate } from "./OrgGate";
import { CreateWebhookDialog, EditWebhookDialog } from "./WebhookDialog";
import "./org.css";
import "./webhooks.css";

export function WebhooksPage() {
  const { orgId } = usePlaceParams();
  return (
    <OrgGate orgId={orgId} permission="org.apikeys">
      {(org) => <Webhooks orgId={orgId} org={org} />}
    </OrgGate>
  );
}

/** The list, shared with the delivery log, which reads its endpoint from it (there is no GET by id). */
export function useWebhooks(orgId: string) {
  return useQuery({
    queryKey: keys.webhooks(orgId),
    queryFn: () => call(api.GET("/api/v1/orgs/{org}/webhooks", { params: { path: { org: orgId } } })),
  });
}

export const STATUS_TONES = { pending: "warn", delivered: "good", failed: "bad" } as const;

function Webhooks({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const name = org.organization.name;
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [turningOff, setTurningOff] = useState<Webhook | null>(null);
  const webhooks = useWebhooks(orgId);
  const rows = webhooks.data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Webhooks"
        description={
          <>
            Rollcall posts {name}'s changes — members, workspaces, invitations, keys — to these addresses as
            they happen, signed so that the receiver can check they came from here.
          </>
        }
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            <Icon name="plus" /> Add webhook
          </Button>
        }
      />
      <section aria-labelledby="webhooks-title">
        <h2 id="webhooks-title" className="visually-hidden">
          Endpoints
        </h2>
        {webhooks.isPending ? (
          <div className="card">
            <Loading label="Loading webhooks…" rows={3} />
          </div>
        ) : webhooks.isError ? (
          <ErrorNotice error={webhooks.error} retry={() => webhooks.refetch()} />
        ) : rows.length === 0 ? (
          <div className="card card-flush">
            <EmptyState title="No webhooks yet">
              <p>
                A webhook tells one of your systems about each change in {name} — someone joins, a role
                changes, a workspace is deleted — without it having to ask.
              </p>
              <Button onClick={() => setCreating(true)}>
                <Icon name="link" /> Add your first webhook
              </Button>
            </EmptyState>
          </div>
        ) : (
          <ul className="webhook-list">
            {rows.map((w) => (
              <WebhookCard
                key={w.id}
                orgId={orgId}
                webhook={w}
                onEdit={() => setEditing(w)}
                onRotate={() => setRotating(w)}
                onTurnOff={() => setTurningOff(w)}
                onDelete={() => setDeleting(w)}
              />
            ))}
          </ul>
        )}
      </section>
      <CreateWebhookDialog orgId={orgId} orgName={name} open={creating} onClose={() => setCreating(false)} />
      <EditWebhookDialog orgId={orgId} webhook={editing} onClose={() => setEditing(null)} />
      <RotateDialog orgId={orgId} webhook={rotating} onClose={() => setRotating(null)} />
      <TurnOffDialog orgId={orgId} webhook={turningOff} onClose={() => setTurningOff(null)} />
      <DeleteDialog orgId={orgId} webhook={deleting} onClose={() => setDeleting(null)} />
    </>
  );
}

function WebhookCard({
  orgId,
  webhook: w,
  onEdit,
  onRotate,
  onTurnOff,
  onDelete,
}: {
  orgId: string;
  webhook: Webhook;
  onEdit: () => void;
  onRotate: () => void;
  /** Turning off fails what is waiting: it asks first (TurnOffDialog). Turning on does not. */
  onTurnOff: () => void;
  onDelete: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const titleId = `webhook-${w.id}`;
  const refresh = () => client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
  const turnOn = useAction(async () => {
    await setEnabled(orgId, w, true);
    await refresh();
    notify(`${w.url} was turned on`);
  });
  const test = useAction(async () => {
    await call(
      api.POST("/api/v1/orgs/{org}/webhooks/{id}/test", { params: { path: { org: orgId, id: w.id } } }),
    );
    await refresh();
    notify("A test event is on its way: its delivery log shows how it went");
  });
  const error = turnOn.formError() ?? test.formError();

  return (
    <li className="card webhook" aria-labelledby={titleId}>
      <div className="webhook-head">
        <h3 id={titleId} className="webhook-url mono">
          {w.url}
        </h3>
        {w.enabled ? <Badge tone="good">On</Badge> : <Badge tone="neutral">Turned off</Badge>}
      </div>
      {w.description && <p className="webhook-description">{w.description}</p>}
      <dl className="webhook-facts">
        <div>
          <dt>Events</dt>
          <dd title={w.types.map(eventTypeLabel).join(", ") || undefined}>{typesSummary(w.types)}</dd>
        </div>
        <div>
          <dt>Last delivery</dt>
          <dd>
            {w.lastDelivery ? (
              <span className="webhook-last">
                <Badge tone={STATUS_TONES[w.lastDelivery.status]}>
                  {STATUS_LABELS[w.lastDelivery.status]}
                </Badge>
                {w.lastDelivery.responseStatus !== null && (
                  <span className="mono">HTTP {w.lastDelivery.responseStatus}</span>
                )}
                <time
                  dateTime={w.lastDelivery.at}
                  title={formatDateTime(w.lastDelivery.at)}
                  className="muted"
                >
                  {fromNow(w.lastDelivery.at)}
                </time>
              </span>
            ) : (
              <span className="muted">None yet</span>
            )}
          </dd>
        </div>
      </dl>
      {!w.enabled && (
        <p className="org-note">
          <Icon name="alert" />
          <span>
            Nothing is sent to it while it is off.
            {w.disabledReason ? ` ${w.disabledReason}` : ""}
          </span>
        </p>
      )}
      <FormError message={error} />
      <div className="webhook-actions">
        <Link to={`/orgs/${orgId}/webhooks/${w.id}`} className="btn btn-secondary btn-sm">
          <Icon name="log" /> Delivery log
        </Link>
        <Button size="sm" busy={test.busy} onClick={() => void test.run()}>
          <Icon name="mail" /> Send test event
        </Button>
        <Button size="sm" onClick={onEdit}>
          <Icon name="settings" /> Edit
        </Button>
        {w.enabled ? (
          <Button size="sm" onClick={onTurnOff}>
            Turn off
          </Button>
        ) : (
          <Button size="sm" busy={turnOn.busy} onClick={() => void turnOn.run()}>
            Turn on
          </Button>
        )}
        <Button size="sm" onClick={onRotate}>
          <Icon name="key" /> Rotate secret
        </Button>
        <Button size="sm" variant="ghost" className="danger-hover" onClick={onDelete}>
          <Icon name="trash" /> Delete
        </Button>
      </div>
    </li>
  );
}

/** A confirmation first; then the new secret, shown this once, in the same dialog. */
function RotateDialog({
  orgId,
  webhook,
  onClose,
}: {
  orgId: string;
  webhook: Webhook | null;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const [secret, setSecret] = useState<string | null>(null);
  const rotate = useAction(async (w: Webhook) => {
    const answer = await call(
      api.POST("/api/v1/orgs/{org}/webhooks/{id}/rotate-secret", {
        params: { path: { org: orgId, id: w.id } },
      }),
    );
    await client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
    setSecret(answer.secret);
  });
  const close = () => {
    // The secret leaves memory with the view that showed it.
    setSecret(null);
    rotate.reset();
    onClose();
  };
  return (
    <Dialog
      open={webhook !== null}
      wide={secret !== null}
      title={secret ? "The new signing secret" : "Rotate the signing secret?"}
      onClose={close}
      footer={
        secret ? (
          <Button variant="primary" onClick={close}>
            Done
          </Button>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="danger" busy={rotate.busy} onClick={() => webhook && void rotate.run(webhook)}>
              Rotate secret
            </Button>
          </>
        )
      }
    >
      {secret ? (
        <div className="form">
          <CopyField label="Signing secret" value={secret} />
          <p className="org-note">
            <Icon name="alert" />
            <span>Copy it now: Rollcall cannot show it again.</span>
          </p>
          <p className="muted small">
            For the next 24 hours each delivery is signed with both the old and the new secret, so the
            receiver keeps working while you give it the new one.
          </p>
        </div>
      ) : (
        <>
          <p>
            <span className="mono webhook-url">{webhook?.url}</span> gets a new secret. The old one keeps
            signing for 24 more hours: switch the receiver over within that time.
          </p>
          <FormError message={rotate.formError()} />
        </>
      )}
    </Dialog>
  );
}

function setEnabled(orgId: string, w: Webhook, enabled: boolean) {
  return call(
    api.PATCH("/api/v1/orgs/{org}/webhooks/{id}", {
      params: { path: { org: orgId, id: w.id } },
      body: { enabled },
    }),
  );
}

/** Asks before a change that loses what is waiting; on yes, makes it, refreshes the list and says so. */
function ConfirmWebhookChange({
  orgId,
  webhook,
  onClose,
  title,
  message,
  confirmLabel,
  change,
  done,
}: {
  orgId: string;
  webhook: Webhook | null;
  onClose: () => void;
  title: string;
  message: (url: ReactNode) => ReactNode;
  confirmLabel: string;
  change: (w: Webhook) => Promise<unknown>;
  /** What the notice says once it is done. */
  done: string;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const action = useAction(async (w: Webhook) => {
    await change(w);
    await client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
    notify(`${w.url} ${done}`);
    onClose();
  });
  return (
    <ConfirmDialog
      open={webhook !== null}
      title={title}
      message={message(<span className="mono webhook-url">{webhook?.url}</span>)}
      confirmLabel={confirmLabel}
      busy={action.busy}
      error={action.formError()}
      onConfirm={() => webhook && void action.run(webhook)}
      onClose={() => {
        action.reset();
        onClose();
      }}
    />
  );
}

function TurnOffDialog(props: { orgId: string; webhook: Webhook | null; onClose: () => void }) {
  return (
    <ConfirmWebhookChange
      {...props}
      title="Turn this webhook off?"
      message={(url) => (
        <>
          Nothing is sent to {url} while it is off, and the deliveries still waiting are marked failed. After
          turning it on again, retry them from its delivery log.
        </>
      )}
      confirmLabel="Turn off"
      change={(w) => setEnabled(props.orgId, w, false)}
      done="was turned off"
    />
  );
}

function DeleteDialog(props: { orgId: string; webhook: Webhook | null; onClose: () => void }) {
  return (
    <ConfirmWebhookChange
      {...props}
      title="Delete this webhook?"
      message={(url) => (
        <>
          Nothing more is sent to {url}. Its delivery log goes with it, and deliveries still waiting are never
          sent.
        </>
      )}
      confirmLabel="Delete webhook"
      change={(w) =>
        call(
          api.DELETE("/api/v1/orgs/{org}/webhooks/{id}", {
            params: { path: { org: props.orgId, id: w.id } },
          }),
        )
      }
      done="was deleted"
    />
  );
}
