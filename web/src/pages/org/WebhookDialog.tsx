// "Add webhook" and "Edit webhook": the URL, a description, and which events it receives — all of
// them (the default, which also takes types added later) or the ones ticked, grouped by what they
// are about. A new webhook's signing secret is shown once, here: closing this view is the last
// chance to copy it.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, call } from "../../api/client";
import type { CreatedWebhook, Webhook } from "../../api/types";
import { Button } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useNotify } from "../../components/Toast";
import { useAction } from "../../lib/forms";
import { keys } from "../../lib/places";
import { type ChoosableEventType, EVENT_TYPE_GROUPS, type EventType } from "../../lib/webhook-types";
import { asSentence, refuseField } from "./problems";

type Scope = "all" | "chosen";

const SCOPES: { value: Scope; label: string; description: string }[] = [
  {
    value: "all",
    label: "All events",
    description: "Every change in the organisation, including kinds of event added later.",
  },
  { value: "chosen", label: "Only these events", description: "Just the kinds you tick below." },
];

export function CreateWebhookDialog({
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
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const close = () => {
    // The secret leaves memory with the view that showed it.
    setCreated(null);
    onClose();
  };
  return (
    <Dialog
      open={open}
      wide
      title={created ? "Your webhook's signing secret" : "Add webhook"}
      description={created ? undefined : `Rollcall will post ${orgName}'s events to this address.`}
      onClose={close}
    >
      {open &&
        (created ? (
          <SecretView created={created} onDone={close} />
        ) : (
          <WebhookForm orgId={orgId} onCreated={setCreated} onClose={close} />
        ))}
    </Dialog>
  );
}

export function EditWebhookDialog({
  orgId,
  webhook,
  onClose,
}: {
  orgId: string;
  webhook: Webhook | null;
  onClose: () => void;
}) {
  return (
    <Dialog open={webhook !== null} wide title="Edit webhook" onClose={onClose}>
      {webhook && <WebhookForm key={webhook.id} orgId={orgId} webhook={webhook} onClose={onClose} />}
    </Dialog>
  );
}

/** Adds a webhook, or changes `webhook` when given (its secret stays as it is). */
function WebhookForm({
  orgId,
  webhook,
  onCreated,
  onClose,
}: {
  orgId: string;
  webhook?: Webhook;
  /** A new webhook, with its secret. */
  onCreated?: (created: CreatedWebhook) => void;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const [url, setUrl] = useState(webhook?.url ?? "");
  const [description, setDescription] = useState(webhook?.description ?? "");
  const [scope, setScope] = useState<Scope>(webhook && webhook.types.length > 0 ? "chosen" : "all");
  // EventType, not ChoosableEventType: a type set through the API that is not offered here is kept.
  const [types, setTypes] = useState<Set<EventType>>(new Set(webhook?.types));

  const save = useAction(async () => {
    if (!url.trim()) throw refuseField("url", "Enter the address Rollcall should post the events to.");
    if (scope === "chosen" && types.size === 0)
      throw refuseField("types", "Tick at least one kind of event, or choose all events.");
    // An empty list is every type, as the API reads it.
    const chosen = scope === "all" ? [] : [...types];
    if (webhook) {
      await call(
        api.PATCH("/api/v1/orgs/{org}/webhooks/{id}", {
          params: { path: { org: orgId, id: webhook.id } },
          body: { url: url.trim(), description: description.trim() || null, types: chosen },
        }),
      );
      await client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
      notify(`Webhook ${url.trim()} saved`);
      onClose();
      return;
    }
    const answer = await call(
      api.POST("/api/v1/orgs/{org}/webhooks", {
        params: { path: { org: orgId } },
        body: {
          url: url.trim(),
          ...(description.trim() ? { description: description.trim() } : {}),
          types: chosen,
        },
      }),
    );
    await client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
    notify(`Webhook ${answer.webhook.url} added`);
    onCreated?.(answer);
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void save.run();
  };
  // The API names a refused type by its place in the list ("types/3").
  const typeFields =
    save.error?.errors.map((e) => e.field).filter((f) => f === "types" || f.startsWith("types/")) ?? [];
  const typesError = typeFields[0] ? asSentence(save.fieldError(typeFields[0])) : undefined;
  const toggle = (type: ChoosableEventType, on: boolean) => {
    save.reset();
    setTypes((current) => {
      const next = new Set(current);
      if (on) next.add(type);
      else next.delete(type);
      return next;
    });
  };

  return (
    <form className="form" onSubmit={submit} noValidate>
      <TextField
        label="URL"
        type="url"
        inputMode="url"
        value={url}
        onChange={(e) => {
          save.reset();
          setUrl(e.target.value);
        }}
        error={asSentence(save.fieldError("url"))}
        maxLength={2048}
        autoComplete="off"
        spellCheck={false}
        placeholder="https://hooks.example.com/rollcall"
        hint="An https:// address on the public internet, where your receiver listens."
      />
      <TextField
        label="Description (optional)"
        value={description}
        onChange={(e) => {
          save.reset();
          setDescription(e.target.value);
        }}
        error={asSentence(save.fieldError("description"))}
        maxLength={500}
        autoComplete="off"
        placeholder="Syncs members to the billing system"
        hint="What receives it, so that the list tells webhooks apart."
      />
      <ChoiceList<Scope>
        legend="Events to send"
        name="webhook-scope"
        value={scope}
        onChange={(s) => {
          save.reset();
          setScope(s);
        }}
        choices={SCOPES}
      />
      {scope === "chosen" && (
        <fieldset
          className={`webhook-types ${typesError ? "field-invalid" : ""}`}
          aria-describedby={typesError ? "webhook-types-error" : undefined}
        >
          <legend className="visually-hidden">Kinds of event</legend>
          {EVENT_TYPE_GROUPS.map((group) => (
            <fieldset key={group.label} className="webhook-type-group">
              <legend>{group.label}</legend>
              {group.types.map((t) => (
                <label key={t.value} className="checkbox">
                  <input
                    type="checkbox"
                    checked={types.has(t.value)}
                    onChange={(e) => toggle(t.value, e.target.checked)}
                  />
                  <span>
                    {t.label} <code className="muted small">{t.value}</code>
                  </span>
                </label>
              ))}
            </fieldset>
          ))}
          {typesError && (
            <p className="field-error" id="webhook-types-error">
              <Icon name="alert" size={14} /> {typesError}
            </p>
          )}
        </fieldset>
      )}
      <FormError message={save.formError(["url", "description", ...typeFields])} />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        {webhook ? (
          <Button type="submit" variant="primary" busy={save.busy}>
            Save changes
          </Button>
        ) : (
          <Button type="submit" variant="primary" busy={save.busy}>
            <Icon name="plus" /> Add webhook
          </Button>
        )}
      </div>
    </form>
  );
}

function SecretView({ created, onDone }: { created: CreatedWebhook; onDone: () => void }) {
  return (
    <div className="form">
      <p className="alert alert-good">
        <Icon name="check" />
        <span>
          <strong className="webhook-url">{created.webhook.url}</strong> is added and receives events from now
          on.
        </span>
      </p>
      <CopyField label="Signing secret" value={created.secret} />
      <p className="org-note">
        <Icon name="alert" />
        <span>Copy it now: Rollcall cannot show it again.</span>
      </p>
      <p className="muted small">
        Your receiver checks each delivery's <code>webhook-signature</code> header with it (Standard
        Webhooks), so that it accepts only what Rollcall sent. Send a test event to see it work.
      </p>
      <div className="form-actions">
        <Button variant="primary" onClick={onDone}>
          Done
        </Button>
      </div>
    </div>
  );
}
