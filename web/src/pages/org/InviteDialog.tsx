// "Invite People to the Organisation": an invite link the inviter shares, or an invitation Rollcall
// e-mails. Access level (Owner only for owners), workspaces with roles (for members), expiry, and
// for a link the number of people who may use it.
import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { api, call } from "../../api/client";
import type { Invitation, OrgDetail } from "../../api/types";
import { Button } from "../../components/Button";
import { CopyField } from "../../components/CopyField";
import { Dialog } from "../../components/Dialog";
import { ChoiceList, FormError, SelectField, TextField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { useNotify } from "../../components/Toast";
import { formatDateTime } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { DEFAULT_EXPIRY, EXPIRY_OPTIONS } from "../../lib/options";
import { hasPermission, keys, useWorkspaces } from "../../lib/places";
import { ORG_ROLES, type OrgRole, roleLabel } from "../../lib/roles";
import { asSentence, refuseField } from "./problems";
import { chosenGrants, type GrantRow, grantsProblem, WorkspaceGrants } from "./WorkspaceGrants";

type Delivery = "link" | "email";

type Result =
  | { delivery: "link"; url: string; invitation: Invitation }
  | { delivery: "email"; invitation: Invitation };

export function InviteDialog({
  orgId,
  org,
  open,
  onClose,
}: {
  orgId: string;
  org: OrgDetail;
  open: boolean;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={open}
      wide
      title="Invite People to the Organisation"
      description={`Invite people to ${org.organization.name} with a link you share, or by e-mail.`}
      onClose={onClose}
    >
      {open && <InviteFlow orgId={orgId} org={org} onClose={onClose} />}
    </Dialog>
  );
}

function InviteFlow({ orgId, org, onClose }: { orgId: string; org: OrgDetail; onClose: () => void }) {
  const [result, setResult] = useState<Result | null>(null);
  // A new form each time ("Create another"), with nothing left over from the last one.
  const [round, setRound] = useState(0);
  if (result) {
    return (
      <InviteResult
        result={result}
        onAgain={() => {
          setResult(null);
          setRound((r) => r + 1);
        }}
        onClose={onClose}
      />
    );
  }
  return <InviteForm key={round} orgId={orgId} org={org} onDone={setResult} onClose={onClose} />;
}

function InviteForm({
  orgId,
  org,
  onDone,
  onClose,
}: {
  orgId: string;
  org: OrgDetail;
  onDone: (result: Result) => void;
  onClose: () => void;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const workspaces = useWorkspaces(orgId);
  const spaces = workspaces.data?.items ?? [];
  const owners = hasPermission(org, "org.owners");
  const [delivery, setDelivery] = useState<Delivery>("link");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<OrgRole>("member");
  const [grants, setGrants] = useState<GrantRow[]>([]);
  const [expiry, setExpiry] = useState(DEFAULT_EXPIRY);
  const [maxUses, setMaxUses] = useState("1");

  const create = useAction(async () => {
    const uses = Number(maxUses);
    if (delivery === "email" && !email.trim())
      throw refuseField("email", "Enter the e-mail address to invite.");
    if (delivery === "link" && (!Number.isInteger(uses) || uses < 1 || uses > 1000))
      throw refuseField("maxUses", "Enter a whole number from 1 to 1000.");
    const chosen = role === "member" ? chosenGrants(grants) : [];
    const answer = await call(
      api.POST("/api/v1/orgs/{org}/invitations", {
        params: { path: { org: orgId } },
        body: {
          delivery,
          role,
          workspaces: chosen,
          expiresInHours: Number(expiry),
          ...(delivery === "email" ? { email: email.trim() } : { maxUses: uses }),
        },
      }),
    );
    await Promise.all([
      client.invalidateQueries({ queryKey: keys.orgInvitations(orgId) }),
      ...chosen.map((g) => client.invalidateQueries({ queryKey: keys.workspaceInvitations(g.workspaceId) })),
    ]);
    if (delivery === "link" && answer.url) {
      notify("Invite link ready");
      onDone({ delivery: "link", url: answer.url, invitation: answer.invitation });
    } else {
      notify(`Invitation sent to ${answer.invitation.email ?? email.trim()}`);
      onDone({ delivery: "email", invitation: answer.invitation });
    }
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run();
  };

  const grantError = grantsProblem(create.error);

  return (
    <form className="form" onSubmit={submit} noValidate>
      <DeliveryChoice
        value={delivery}
        onChange={(d) => {
          create.reset();
          setDelivery(d);
        }}
      />
      {delivery === "email" && (
        <TextField
          label="E-mail address"
          type="email"
          value={email}
          onChange={(e) => {
            create.reset();
            setEmail(e.target.value);
          }}
          error={asSentence(create.fieldError("email"))}
          autoComplete="off"
          placeholder="name@example.org"
          hint="Rollcall e-mails them a link that only this address can use."
        />
      )}
      <ChoiceList<OrgRole>
        legend="Access level"
        name="invite-role"
        value={role}
        onChange={setRole}
        choices={ORG_ROLES.filter((r) => r.value !== "owner" || owners)}
      />
      <WorkspaceGrants
        workspaces={spaces}
        value={grants}
        onChange={setGrants}
        closed={
          role !== "member"
            ? "Owners and admins are admin in every workspace, so there is no workspace to choose."
            : undefined
        }
        emptyNote="Without a workspace they join the organisation only; you can add them to workspaces later."
        note="They join these workspaces with these roles."
        error={grantError}
      />
      <div className="form-row org-row-top">
        <SelectField
          label="Expires after"
          value={expiry}
          onChange={(e) => setExpiry(e.target.value)}
          options={EXPIRY_OPTIONS}
          error={asSentence(create.fieldError("expiresInHours"))}
        />
        {delivery === "link" && (
          <TextField
            label="Maximum uses"
            type="number"
            inputMode="numeric"
            min={1}
            max={1000}
            step={1}
            value={maxUses}
            onChange={(e) => {
              create.reset();
              setMaxUses(e.target.value);
            }}
            error={asSentence(create.fieldError("maxUses"))}
            hint="How many people can join with this link (1–1000)."
          />
        )}
      </div>
      <FormError
        message={grantError ? undefined : create.formError(["email", "maxUses", "expiresInHours"])}
      />
      <div className="form-actions">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" busy={create.busy}>
          <Icon name={delivery === "link" ? "link" : "mail"} />
          {delivery === "link" ? "Generate Invite Link" : "Send invitation"}
        </Button>
      </div>
    </form>
  );
}

function DeliveryChoice({ value, onChange }: { value: Delivery; onChange: (d: Delivery) => void }) {
  const name = useId();
  const options: { value: Delivery; label: string; icon: "link" | "mail" }[] = [
    { value: "link", label: "Invite link", icon: "link" },
    { value: "email", label: "Invite by e-mail", icon: "mail" },
  ];
  return (
    <fieldset className="org-segmented">
      <legend className="visually-hidden">How to invite</legend>
      {options.map((o) => (
        <label key={o.value} className={`org-segment ${value === o.value ? "org-segment-on" : ""}`}>
          <input
            type="radio"
            name={name}
            value={o.value}
            checked={value === o.value}
            onChange={() => onChange(o.value)}
          />
          <Icon name={o.icon} />
          <span>{o.label}</span>
        </label>
      ))}
    </fieldset>
  );
}

/** "Member; Field Ops as Editor, Sales as Viewer". */
export function describeOffer(invitation: Invitation): string {
  const places = invitation.workspaces.map((w) => `${w.name} as ${roleLabel(w.role)}`);
  return places.length > 0
    ? `${roleLabel(invitation.role)}; ${places.join(", ")}`
    : roleLabel(invitation.role);
}

function InviteResult({
  result,
  onAgain,
  onClose,
}: {
  result: Result;
  onAgain: () => void;
  onClose: () => void;
}) {
  const { invitation } = result;
  const until = formatDateTime(invitation.expiresAt);
  return (
    <div className="form">
      {result.delivery === "link" ? (
        <>
          <p className="alert alert-good">
            <Icon name="check" />
            <span>Your invite link is ready.</span>
          </p>
          <CopyField label="Invite link" value={result.url} />
          <p className="org-note">
            <Icon name="alert" />
            <span>Rollcall does not send this link: share it yourself.</span>
          </p>
          <p className="muted small">
            {invitation.maxUses === 1 ? "One person" : `Up to ${invitation.maxUses} people`} can join with it
            as {describeOffer(invitation)}, until {until}. You can revoke it under Pending invitations.
          </p>
        </>
      ) : (
        <>
          <p className="alert alert-good" role="status">
            <Icon name="check" />
            <span>Invitation sent to {invitation.email}.</span>
          </p>
          <p className="muted small">
            They join as {describeOffer(invitation)} and have until {until} to accept. Its delivery shows
            under Pending invitations.
          </p>
        </>
      )}
      <div className="form-actions">
        <Button onClick={onAgain}>
          {result.delivery === "link" ? "Create another link" : "Invite someone else"}
        </Button>
        <Button variant="primary" onClick={onClose}>
          Done
        </Button>
      </div>
    </div>
  );
}
