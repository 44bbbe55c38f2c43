// /orgs/:orgId/webhooks/:webhookId (org.apikeys) — one webhook's delivery log, newest first: each
// event sent to it, its state, how many attempts, the last answer or error, and when the next
// attempt is due; filtered by state, a page more at a time ("Load more" over the API's nextCursor),
// and a delivery can be sent again now.
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useId } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { api, call } from "../../api/client";
import type { WebhookDelivery } from "../../api/types";
import { Button } from "../../components/Button";
import { NotFoundPage } from "../../components/Forbidden";
import { Badge, EmptyState, ErrorNotice, Loading, PageHeader } from "../../components/Page";
import { useNotify } from "../../components/Toast";
import { formatDateTime, fromNow } from "../../lib/format";
import { useAction } from "../../lib/forms";
import { keys, usePlaceParams } from "../../lib/places";
import { type DeliveryStatus, eventTypeLabel, STATUS_LABELS } from "../../lib/webhook-types";
import { OrgGate } from "./OrgGate";
import { STATUS_TONES, useWebhooks } from "./Webhooks";
import "./org.css";
import "./webhooks.css";

const STATUSES = Object.keys(STATUS_LABELS) as DeliveryStatus[];
const PAGE_SIZE = 25;
/** While a delivery waits for an attempt, the log looks again this often. */
const PENDING_REFRESH_MS = 2000;

export function WebhookDeliveriesPage() {
  const { orgId } = usePlaceParams();
  const { webhookId } = useParams();
  return (
    <OrgGate orgId={orgId} permission="org.apikeys">
      {() => <DeliveryLog orgId={orgId} webhookId={webhookId ?? ""} />}
    </OrgGate>
  );
}

function DeliveryLog({ orgId, webhookId }: { orgId: string; webhookId: string }) {
  const [params, setParams] = useSearchParams();
  const raw = params.get("status");
  const status = STATUSES.find((s) => s === raw);
  const filterId = useId();
  const webhooks = useWebhooks(orgId);
  const webhook = webhooks.data?.items.find((w) => w.id === webhookId);

  const deliveries = useInfiniteQuery({
    queryKey: [...keys.webhookDeliveries(orgId, webhookId), status ?? "all"],
    queryFn: ({ pageParam }) =>
      call(
        api.GET("/api/v1/orgs/{org}/webhooks/{id}/deliveries", {
          params: {
            path: { org: orgId, id: webhookId },
            query: {
              limit: PAGE_SIZE,
              ...(status ? { status } : {}),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: webhook !== undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((p) => p.items.some((d) => d.status === "pending"))
        ? PENDING_REFRESH_MS
        : false,
  });

  // Its own busy state: the background refetches while a delivery is pending do not spin the button.
  const refresh = useAction(() => deliveries.refetch());

  if (webhooks.isPending) return <Loading label="Loading the webhook…" rows={4} />;
  if (webhooks.isError) return <ErrorNotice error={webhooks.error} retry={() => webhooks.refetch()} />;
  if (!webhook) return <NotFoundPage what="webhook" />;

  const items = deliveries.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <Link to={`/orgs/${orgId}/webhooks`} className="webhook-back">
        ← Webhooks
      </Link>
      <PageHeader
        title="Delivery log"
        description={
          <>
            Every event sent to <span className="mono webhook-url">{webhook.url}</span>, newest first.
            {!webhook.enabled && " It is turned off: nothing new is sent to it."}
          </>
        }
      />
      <section className="card card-flush" aria-labelledby="deliveries-title">
        <h2 id="deliveries-title" className="visually-hidden">
          Deliveries
        </h2>
        <div className="webhook-filters">
          <div className="field">
            <label htmlFor={filterId}>Status</label>
            <select
              id={filterId}
              value={status ?? ""}
              onChange={(e) => {
                const next = new URLSearchParams(params);
                if (e.target.value) next.set("status", e.target.value);
                else next.delete("status");
                setParams(next, { replace: true });
              }}
            >
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABELS[s]}
                </option>
              ))}
            </select>
          </div>
          <Button size="sm" busy={refresh.busy} onClick={() => void refresh.run()}>
            Refresh
          </Button>
        </div>
        {deliveries.isPending ? (
          <div className="org-pad">
            <Loading label="Loading deliveries…" rows={4} />
          </div>
        ) : deliveries.isError ? (
          <div className="org-pad">
            <ErrorNotice error={deliveries.error} retry={() => deliveries.refetch()} />
          </div>
        ) : items.length === 0 ? (
          <EmptyState
            title={status ? `No ${STATUS_LABELS[status].toLowerCase()} deliveries` : "Nothing sent yet"}
          >
            {status
              ? null
              : "Events appear here as they are sent. A test event from the Webhooks page is a quick check."}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            {/* Not aria-busy while fetching: the log refetches every 2 s while a delivery is pending,
                and a table that fades each time is hard to read. */}
            <table className="responsive webhook-deliveries">
              <thead>
                <tr>
                  <th scope="col">Event</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Response</th>
                  <th scope="col">Error</th>
                  <th scope="col">Last attempt</th>
                  <th scope="col">Next attempt</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((d) => (
                  <DeliveryRow key={d.id} orgId={orgId} webhookId={webhookId} delivery={d} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {deliveries.hasNextPage && (
          <div className="pager">
            <Button
              size="sm"
              busy={deliveries.isFetchingNextPage}
              onClick={() => void deliveries.fetchNextPage()}
            >
              Load more
            </Button>
          </div>
        )}
      </section>
    </>
  );
}

function When({ at, none }: { at: string | null; none: string }) {
  if (!at) return <span className="muted">{none}</span>;
  return (
    <time dateTime={at} title={formatDateTime(at)} className="org-nowrap">
      {fromNow(at)}
    </time>
  );
}

function DeliveryRow({
  orgId,
  webhookId,
  delivery: d,
}: {
  orgId: string;
  webhookId: string;
  delivery: WebhookDelivery;
}) {
  const client = useQueryClient();
  const notify = useNotify();
  const retry = useAction(async () => {
    await call(
      api.POST("/api/v1/orgs/{org}/webhooks/{id}/deliveries/{delivery}/retry", {
        params: { path: { org: orgId, id: webhookId, delivery: d.id } },
      }),
    );
    await client.invalidateQueries({ queryKey: keys.webhookDeliveries(orgId, webhookId) });
    await client.invalidateQueries({ queryKey: keys.webhooks(orgId) });
    notify(`${eventTypeLabel(d.type)} is being sent again`);
  });
  const error = retry.formError();
  return (
    <tr>
      <td data-label="Event">
        <span className="person">
          <span className="person-name">{eventTypeLabel(d.type)}</span>
          <code className="person-email">{d.type}</code>
        </span>
      </td>
      <td data-label="Status">
        <Badge tone={STATUS_TONES[d.status]}>{STATUS_LABELS[d.status]}</Badge>
      </td>
      <td data-label="Attempts">{d.attempts}</td>
      <td data-label="Response">
        {d.responseStatus === null ? (
          <span className="muted">—</span>
        ) : (
          <span className="mono">{d.responseStatus}</span>
        )}
      </td>
      <td data-label="Error">
        {d.error ? <span className="webhook-error">{d.error}</span> : <span className="muted">—</span>}
      </td>
      <td data-label="Last attempt">
        <When at={d.lastAttemptAt} none="Not yet" />
      </td>
      <td data-label="Next attempt">
        <When at={d.nextAttemptAt} none="None" />
      </td>
      <td data-label="" className="cell-actions">
        <Button size="sm" busy={retry.busy} onClick={() => void retry.run()}>
          {d.status === "delivered" ? "Send again" : "Retry"}
        </Button>
        {error && (
          <span className="webhook-error" role="alert">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}
