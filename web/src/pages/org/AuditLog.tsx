// The organisation's audit log (owners and admins: org.users): every change, newest first, in
// plain words ("Alice changed Bob's role from Editor to Agent in Field Ops"), filtered by kind of
// change and by person, a page at a time (keyset: Newer / Older over the API's nextCursor).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useId, useMemo, useState } from "react";
import { useSearchParams } from "react-router";
import { ApiError, api, call } from "../../api/client";
import type { AuditEvent, OrgDetail } from "../../api/types";
import { Button } from "../../components/Button";
import { Forbidden, NotFoundPage } from "../../components/Forbidden";
import { Icon } from "../../components/Icon";
import { EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { ACTION_GROUPS, actorLabel, describe, readableAction } from "../../lib/audit-words";
import { formatDateTime, fromNow } from "../../lib/format";
import { hasPermission, keys, useOrganization, usePlaceParams, useWorkspaces } from "../../lib/places";
import { roleLabel } from "../../lib/roles";
import "./audit.css";

const PAGE_SIZES = [25, 50, 100];
const DEFAULT_PAGE_SIZE = 25;

export function AuditLogPage() {
  const { orgId } = usePlaceParams();
  const org = useOrganization(orgId);
  if (org.isPending) {
    return (
      <>
        <PageHeader title="Audit log" />
        <Loading label="Loading the audit log…" rows={6} />
      </>
    );
  }
  if (org.isError) {
    if (org.error instanceof ApiError && org.error.status === 404)
      return <NotFoundPage what="organisation" />;
    return <ErrorNotice error={org.error} retry={() => org.refetch()} />;
  }
  if (!hasPermission(org.data, "org.users")) {
    return (
      <Forbidden
        need="Owner or Admin"
        place={org.data.organization.name}
        current={roleLabel(org.data.role)}
        back={{ to: `/orgs/${orgId}`, label: "Back to the workspaces" }}
      />
    );
  }
  return <AuditLog orgId={orgId} org={org.data} />;
}

function pageSize(value: string | null): number {
  const n = Number(value);
  return PAGE_SIZES.includes(n) ? n : DEFAULT_PAGE_SIZE;
}

function AuditLog({ orgId, org }: { orgId: string; org: OrgDetail }) {
  const [params, setParams] = useSearchParams();
  const action = params.get("action") ?? "";
  const actor = params.get("actor") ?? "";
  const limit = pageSize(params.get("limit"));
  // The cursors of the pages before this one: Newer pops, Older pushes. A new filter starts over.
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const ids = { action: useId(), actor: useId(), limit: useId() };

  const events = useQuery({
    queryKey: [...keys.audit(orgId), { action, actor, limit, cursor }],
    queryFn: () =>
      call(
        api.GET("/api/v1/orgs/{org}/audit", {
          params: {
            path: { org: orgId },
            query: {
              limit,
              ...(action ? { action } : {}),
              ...(actor ? { actor } : {}),
              ...(cursor ? { cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const workspaces = useWorkspaces(orgId);
  const members = useQuery({
    queryKey: [...keys.members(orgId), "audit-people"],
    queryFn: () =>
      call(
        api.GET("/api/v1/orgs/{org}/members", { params: { path: { org: orgId }, query: { limit: 200 } } }),
      ),
  });

  const items = events.data?.items ?? [];
  const context = useMemo(() => {
    const workspaceNames = new Map((workspaces.data?.items ?? []).map((w) => [w.id, w.name]));
    // Workspaces deleted since keep the name their own events recorded, when this page has one.
    const recorded = new Map<string, string>();
    for (const e of items) {
      const name = e.data.name;
      if (e.action.startsWith("workspace.") && e.targetId && typeof name === "string")
        recorded.set(e.targetId, name);
    }
    const people = new Map((members.data?.items ?? []).map((m) => [m.userId, m.name]));
    return {
      organizationName: org.organization.name,
      workspaceName: (id: string) => workspaceNames.get(id) ?? recorded.get(id),
      personName: (id: string) => people.get(id),
    };
  }, [workspaces.data, members.data, items, org.organization.name]);

  const setFilter = (name: "action" | "actor" | "limit", value: string) => {
    const next = new URLSearchParams(params);
    if (value && !(name === "limit" && Number(value) === DEFAULT_PAGE_SIZE)) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    setCursors([]);
  };
  const filtered = action !== "" || actor !== "";
  const people = [...(members.data?.items ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const knownAction = ACTION_GROUPS.some((g) => g.options.some((o) => o.value === action));
  const pageNumber = cursors.length + 1;
  const first = cursors.length * limit + 1;

  return (
    <>
      <PageHeader
        title="Audit log"
        description={`Every change to ${org.organization.name}: who did what, and when. Newest first.`}
      />
      <section className="card card-flush" aria-label="Events">
        <div className="audit-filters">
          <div className="field">
            <label htmlFor={ids.action}>Activity</label>
            <select id={ids.action} value={action} onChange={(e) => setFilter("action", e.target.value)}>
              <option value="">All activity</option>
              {!knownAction && action !== "" && <option value={action}>{readableAction(action)}</option>}
              {ACTION_GROUPS.map((g) => (
                <optgroup key={g.label} label={g.label}>
                  {g.options.map((o) => (
                    <option key={o.value} value={o.value}>
                      {o.label}
                    </option>
                  ))}
                </optgroup>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor={ids.actor}>Done by</label>
            <select id={ids.actor} value={actor} onChange={(e) => setFilter("actor", e.target.value)}>
              <option value="">Anyone</option>
              {actor !== "" && !people.some((p) => p.userId === actor) && (
                <option value={actor}>A former member</option>
              )}
              {people.map((p) => (
                <option key={p.userId} value={p.userId}>
                  {p.name} ({p.email})
                </option>
              ))}
            </select>
          </div>
          <div className="field audit-limit">
            <label htmlFor={ids.limit}>Per page</label>
            <select id={ids.limit} value={limit} onChange={(e) => setFilter("limit", e.target.value)}>
              {PAGE_SIZES.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          {filtered && (
            <Button
              variant="ghost"
              className="audit-clear"
              onClick={() => {
                const next = new URLSearchParams(params);
                next.delete("action");
                next.delete("actor");
                setParams(next, { replace: true });
                setCursors([]);
              }}
            >
              <Icon name="close" size={16} /> Clear filters
            </Button>
          )}
        </div>
        {events.isPending ? (
          <div className="audit-state">
            <Loading label="Loading events…" rows={6} />
          </div>
        ) : events.isError ? (
          <div className="audit-state">
            <ErrorNotice error={events.error} retry={() => events.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState title={filtered ? "No events match these filters" : "Nothing has happened here yet"}>
            {filtered ? "Try another kind of activity or another person." : null}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="responsive audit-table" aria-busy={events.isFetching || undefined}>
              <caption className="visually-hidden">
                Events {first} to {first + items.length - 1}, newest first
              </caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">What happened</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <EventRow key={e.id} event={e} sentence={describe(e, context)} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {events.data && (cursors.length > 0 || events.data.nextCursor) && (
          <nav className="pager" aria-label="Pages of events">
            <span className="muted small audit-page">
              Page {pageNumber}
              {items.length > 0 && ` · events ${first}–${first + items.length - 1}`}
            </span>
            <Button
              size="sm"
              disabled={cursors.length === 0 || events.isFetching}
              onClick={() => {
                setCursors((c) => c.slice(0, -1));
                window.scrollTo({ top: 0 });
              }}
            >
              Newer
            </Button>
            <Button
              size="sm"
              disabled={!events.data.nextCursor || events.isFetching}
              onClick={() => {
                const next = events.data?.nextCursor;
                if (next) setCursors((c) => [...c, next]);
                window.scrollTo({ top: 0 });
              }}
            >
              Older
            </Button>
          </nav>
        )}
      </section>
    </>
  );
}

function EventRow({ event, sentence }: { event: AuditEvent; sentence: string }) {
  return (
    <tr>
      <td data-label="When" className="audit-when">
        <time dateTime={event.at}>{formatDateTime(event.at)}</time>
        <span className="muted small">{fromNow(event.at)}</span>
      </td>
      <td data-label="Who" className="audit-who">
        {actorLabel(event)}
      </td>
      <td data-label="What happened" className="audit-what">
        <span className="audit-sentence">{sentence}</span>
        <code className="audit-action">{event.action}</code>
      </td>
    </tr>
  );
}
