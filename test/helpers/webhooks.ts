// What the webhook tests share: receivers closed after the file, an endpoint made through the
// API (its secret handed to the receiver), the delivery log, and a workspace made (one
// workspace.created event).
import assert from "node:assert/strict";
import type { TestApp } from "./app.js";
import type { Org } from "./org.js";
import { type Receiver, webhookReceiver } from "./webhook-receiver.js";

/** Settings for a test app that posts to receivers on 127.0.0.1, with retries in milliseconds. */
export const WEBHOOK_TEST_ENV = {
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOW_PRIVATE: "true",
  // 5 s, 5 min, 30 min… become 5 ms, 300 ms, 1.8 s…
  WEBHOOK_RETRY_SCALE: "0.001",
  WEBHOOK_TIMEOUT_MS: "5000",
  EVENTS_POLL_MS: "50",
};

/** The helpers, bound to the file's test app (read when called: it is made in `before`). */
export function webhookKit(app: () => TestApp) {
  const receivers: Receiver[] = [];
  return {
    async receiver(answer?: Parameters<typeof webhookReceiver>[0]): Promise<Receiver> {
      const r = await webhookReceiver(answer);
      receivers.push(r);
      return r;
    },

    async closeReceivers(): Promise<void> {
      for (const r of receivers.splice(0)) await r.close();
    },

    async makeWebhook(
      org: Org,
      r: Receiver,
      body: Record<string, unknown> = {},
      token = org.owner.token,
      x: TestApp = app(),
    ): Promise<{ id: string; secret: string }> {
      const res = await x.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
        token,
        body: { url: r.url, ...body },
      });
      assert.equal(res.status, 201, res.text);
      assert.match(res.json.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
      r.secrets.push(res.json.secret);
      return { id: res.json.webhook.id, secret: res.json.secret };
    },

    async deliveries(org: Org, webhookId: string, query = "") {
      const res = await app().request(
        "GET",
        `/api/v1/orgs/${org.orgId}/webhooks/${webhookId}/deliveries${query}`,
        { token: org.owner.token },
      );
      assert.equal(res.status, 200, res.text);
      return res.json;
    },

    async newWorkspace(org: Org, name: string, x: Pick<TestApp, "request"> = app()): Promise<string> {
      const res = await x.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
        token: org.owner.token,
        body: { name },
      });
      assert.equal(res.status, 201, res.text);
      return res.json.workspace.id;
    },
  };
}
