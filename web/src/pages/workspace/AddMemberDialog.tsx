// "Add organisation member": the organisation's members, those already in this workspace shown but
// disabled, and a role; "Add" gives the role at once (PUT …/members/{user}).
//
// Listing the organisation's members needs org.users. A workspace admin who is only a member of
// the organisation lacks it: they are offered the people they share another workspace with (the
// API lets any member of a workspace list its members), and told how to reach anyone else.
import { keepPreviousData, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import { api, call } from "../../api/client";
import { Button } from "../../components/Button";
import { Dialog } from "../../components/Dialog";
import { FormError, SelectField } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Badge, EmptyState, ErrorNotice, Loading } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { useSignedIn } from "../../lib/auth";
import { useAction } from "../../lib/forms";
import { hasPermission, keys, useOrganization, useWorkspaces } from "../../lib/places";
import { roleLabel, WORKSPACE_ROLES, type WorkspaceRole } from "../../lib/roles";
import { refreshMembership, type WorkspacePlace } from "./common";

interface Candidate {
  userId: string;
  name: string;
  email: string;
  /** Why they cannot be added, e.g. "In this workspace as Editor"; null when they can. */
  present: string | null;
}

export function AddMemberDialog({
  place,
  open,
  onClose,
}: {
  place: WorkspacePlace;
  open: boolean;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={open}
      wide
      title="Add organisation member"
      description={`Give someone who already belongs to the organisation a role in ${place.detail.workspace.name}.`}
      onClose={onClose}
    >
      {open && <Picker place={place} onClose={onClose} />}
    </Dialog>
  );
}

function useDebounced(value: string, ms = 250): string {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setDebounced(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return debounced;
}

function matches(c: { name: string; email: string }, q: string): boolean {
  const needle = q.trim().toLowerCase();
  return !needle || c.name.toLowerCase().includes(needle) || c.email.toLowerCase().includes(needle);
}

/** Everyone in the organisation, through GET /orgs/{org}/members (org.users). */
function useOrgCandidates(place: WorkspacePlace, q: string, enabled: boolean) {
  const query = useQuery({
    queryKey: [...keys.members(place.orgId), "picker", q],
    queryFn: () =>
      call(
        api.GET("/api/v1/orgs/{org}/members", {
          params: { path: { org: place.orgId }, query: { limit: 200, ...(q ? { q } : {}) } },
        }),
      ),
    enabled,
    placeholderData: keepPreviousData,
  });
  const candidates: Candidate[] | undefined = query.data?.items.map((m) => {
    const here = m.workspaces.find((w) => w.id === place.wsId);
    // Their org role already acts as a role here (owners and admins: admin), whatever is granted.
    const present = m.actsAs
      ? `${roleLabel(m.actsAs)} here as organisation ${roleLabel(m.role)}`
      : here
        ? `In this workspace as ${roleLabel(here.role)}`
        : null;
    return { userId: m.userId, name: m.name, email: m.email, present };
  });
  return { ...query, candidates, more: query.data?.nextCursor !== null && query.data !== undefined };
}

/** Without org.users: the members of the other workspaces I am in. */
function useSharedCandidates(place: WorkspacePlace, q: string, enabled: boolean) {
  const workspaces = useWorkspaces(place.orgId);
  const others = (workspaces.data?.items ?? []).filter((w) => w.id !== place.wsId);
  const listOf = (ws: string) => ({
    queryKey: [...keys.workspaceMembers(ws), "picker"],
    queryFn: () =>
      call(api.GET("/api/v1/workspaces/{ws}/members", { params: { path: { ws }, query: { limit: 200 } } })),
    enabled,
  });
  const here = useQuery(listOf(place.wsId));
  const elsewhere = useQueries({ queries: others.map((w) => listOf(w.id)) });
  const isPending = !enabled || workspaces.isPending || here.isPending || elsewhere.some((e) => e.isPending);
  const error = workspaces.error ?? here.error ?? elsewhere.find((e) => e.error)?.error ?? null;
  let candidates: Candidate[] | undefined;
  if (!isPending && !error) {
    const present = new Map((here.data?.items ?? []).map((m) => [m.userId, m.role]));
    const seen = new Map<string, Candidate>();
    for (const list of elsewhere) {
      for (const m of list.data?.items ?? []) {
        if (seen.has(m.userId) || !matches(m, q)) continue;
        const role = present.get(m.userId);
        seen.set(m.userId, {
          userId: m.userId,
          name: m.name,
          email: m.email,
          present: role ? `In this workspace as ${roleLabel(role)}` : null,
        });
      }
    }
    candidates = [...seen.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
  return { isPending, error, candidates };
}

function Picker({ place, onClose }: { place: WorkspacePlace; onClose: () => void }) {
  const { orgId, wsId, detail } = place;
  const me = useSignedIn();
  const client = useQueryClient();
  const notify = useNotify();
  const searchId = useId();
  const org = useOrganization(orgId);
  const orgUsers = hasPermission(org.data, "org.users");
  const [text, setText] = useState("");
  const q = useDebounced(text.trim());
  const [role, setRole] = useState<WorkspaceRole>("viewer");
  const [added, setAdded] = useState<Map<string, string>>(new Map());
  const [busyId, setBusyId] = useState<string | null>(null);
  const everyone = useOrgCandidates(place, q, org.isSuccess && orgUsers);
  const shared = useSharedCandidates(place, q, org.isSuccess && !orgUsers);
  const source = orgUsers ? everyone : shared;
  const candidates = source.candidates;

  const add = useAction(async (c: Candidate) => {
    await call(
      api.PUT("/api/v1/workspaces/{ws}/members/{user}", {
        params: { path: { ws: wsId, user: c.userId } },
        body: { role },
      }),
    );
    setAdded((m) => new Map(m).set(c.userId, role));
    notify(`${c.name} was added to ${detail.workspace.name} as ${roleLabel(role)}`);
    await refreshMembership(client, { orgId, wsId }, c.userId === me.user.id);
  });

  const description = WORKSPACE_ROLES.find((r) => r.value === role)?.description;

  return (
    <div className="form">
      <div className="form-row">
        <div className="field ws-field-top">
          <label htmlFor={searchId}>Find a member</label>
          <div className="search-box ws-search-full">
            <Icon name="search" />
            <input
              id={searchId}
              type="search"
              placeholder="Name or e-mail"
              value={text}
              onChange={(e) => setText(e.target.value)}
              autoComplete="off"
            />
          </div>
        </div>
        <SelectField
          label="Role for the people you add"
          value={role}
          onChange={(e) => setRole(e.target.value as WorkspaceRole)}
          options={WORKSPACE_ROLES.map((r) => ({ value: r.value, label: r.label }))}
          hint={description}
        />
      </div>
      {org.isSuccess && !orgUsers && (
        <p className="alert alert-info">
          Only organisation owners and admins can see everyone in the organisation. Here are the people who
          share another workspace with you; to add anyone else, ask an organisation admin, or send them an
          invitation from the Invitations tab.
        </p>
      )}
      <FormError message={add.error?.message} />
      {org.isPending || source.isPending ? (
        <Loading label="Loading the organisation's members…" rows={3} />
      ) : org.error || source.error ? (
        <ErrorNotice error={org.error ?? source.error} />
      ) : !candidates || candidates.length === 0 ? (
        <EmptyState title={q ? `Nobody matches “${q}”` : "Nobody to add"}>
          {q
            ? "Try part of a name or an e-mail address."
            : "Invite people to bring them into the organisation."}
        </EmptyState>
      ) : (
        <ul className="ws-picker" aria-label="Organisation members">
          {candidates.map((c) => {
            const justAdded = added.get(c.userId);
            const present = justAdded ? `Added as ${roleLabel(justAdded)}` : c.present;
            return (
              <li key={c.userId} className={present ? "ws-picker-present" : undefined}>
                <div className="person">
                  <span className="person-name">{c.name}</span>
                  <span className="person-email">{c.email}</span>
                </div>
                <div className="ws-picker-action">
                  {present && <Badge tone={justAdded ? "good" : "neutral"}>{present}</Badge>}
                  <Button
                    size="sm"
                    disabled={present !== null || (add.busy && busyId !== c.userId)}
                    busy={add.busy && busyId === c.userId}
                    aria-label={`Add ${c.name}`}
                    onClick={() => {
                      setBusyId(c.userId);
                      void add.run(c);
                    }}
                  >
                    <Icon name="plus" /> Add
                  </Button>
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {orgUsers && everyone.more && (
        <p className="muted small">Only the first 200 are shown: search to find someone else.</p>
      )}
      <div className="form-actions">
        <Button onClick={onClose}>Done</Button>
      </div>
    </div>
  );
}
