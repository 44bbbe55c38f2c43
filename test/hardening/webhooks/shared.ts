// What the webhook fault tests share (webhook-faults.test.ts, webhook-crash.test.ts): receivers
// closed after the file, endpoints and workspaces made through a server's API, and the rows a
// test inspects afterwards.
import assert from "node:assert/strict";
import { after } from "node:test";
import { sql } from "kysely";
import type { Db } from "../../../src/db/index.js";
import type { TestApp } from "../../helpers/app.js";
import { type Receiver, webhookReceiver } from "../../helpers/webhook-receiver.js";

export const ENV = {
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOW_PRIVATE: "true",
  // 5 s, 5 min, 30 min, 2 h… become 5 ms, 300 ms, 1.8 s, 7.2 s…
  WEBHOOK_RETRY_SCALE: "0.001",
  EVENTS_POLL_MS: "50",
};

const receivers: Receiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

export async function receiver(
  answer?: Parameters<typeof webhookReceiver>[0],
  options?: Parameters<typeof webhookReceiver>[1],
): Promise<Receiver> {
  const r = await webhookReceiver(answer, options);
  receivers.push(r);
  return r;
}

export type Request = Pick<TestApp, "request">["request"];

export async function makeWebhook(
  request: Request,
  orgId: string,
  token: string,
  url: string,
): Promise<string> {
  const res = await request("POST", `/api/v1/orgs/${orgId}/webhooks`, {
    token,
    body: { url, types: ["workspace.created"] },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.secret;
}

export async function newWorkspace(
  request: Request,
  orgId: string,
  token: string,
  name: string,
): Promise<void> {
  const res = await request("POST", `/api/v1/orgs/${orgId}/workspaces`, { token, body: { name } });
  assert.equal(res.status, 201, res.text);
}

/** The ids of the organisation's workspace.created events made after its first webhook. */
export async function workspaceEvents(db: Db, orgId: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`
    SELECT id FROM audit_events
    WHERE org_id = ${orgId} AND action = 'workspace.created'
      AND seq > (SELECT min(seq) FROM audit_events WHERE org_id = ${orgId} AND action = 'webhook.created')
    ORDER BY seq`.execute(db);
  return rows.rows.map((r) => r.id);
}

export interface DeliveryRow {
  endpoint_id: string;
  event_id: string;
  status: string;
  attempts: number;
  error: string | null;
  lease_expires_at: Date | null;
}

export async function deliveryRows(db: Db, orgId: string): Promise<DeliveryRow[]> {
  return db
    .selectFrom("webhook_deliveries")
    .select(["endpoint_id", "event_id", "status", "attempts", "error", "lease_expires_at"])
    .where("org_id", "=", orgId)
    .execute();
}

/** How many times each key was seen. */
export function tally(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

export function p50(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
