// The organisation's Webhooks page in a real browser, against real receivers on 127.0.0.1 that
// check every delivery with the Standard Webhooks library: an owner adds a webhook for chosen
// events, copies its secret once, and what arrives verifies with it; a test event delivered in the
// log; a failing receiver's pending and failed rows, a retry by hand, "Load more", a 410 that turns
// the endpoint off; editing, rotation (both secrets sign), turning off and on, deletion; a member without
// the link or the pages; the phone layout.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Locator, Page } from "playwright-core";
import { joinOrg } from "../helpers/org.js";
import { type Receiver, webhookReceiver } from "../helpers/webhook-receiver.js";
import { type ConsoleServer, consoleServer, copyFrom } from "./harness.js";

let s: ConsoleServer;
const receivers: Receiver[] = [];
before(async () => {
  s = await consoleServer(import.meta.filename, {
    WEBHOOK_ALLOW_HTTP: "true",
    WEBHOOK_ALLOW_PRIVATE: "true",
    // 5 s, 5 min, 30 min… become 5 ms, 300 ms, 1.8 s…
    WEBHOOK_RETRY_SCALE: "0.001",
    WEBHOOK_TIMEOUT_MS: "5000",
    EVENTS_POLL_MS: "50",
  });
});
after(async () => {
  await s.close();
  for (const r of receivers) await r.close();
});

/** A receiver, and the status it answers, which the test changes as it goes. */
async function receiver(): Promise<{ r: Receiver; answer: { status: number } }> {
  const answer = { status: 204 };
  const r = await webhookReceiver(() => answer.status);
  receivers.push(r);
  return { r, answer };
}

/** Polls `check` until it stops throwing (or the time is up, and its error fails the test). */
async function eventually(check: () => Promise<void> | void, timeout = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() - start > timeout) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function team(orgName: string) {
  const owner = await s.user({ name: "Olive Owner", organizationName: orgName });
  const me = await s.t.request("GET", "/api/v1/me", { token: owner.token });
  const orgId: string = me.json.organizations[0].id;
  const bob = await joinOrg(s.t, orgId, "member", "Bob Builder");
  return { owner, orgId, orgName, bob };
}

async function addWebhook(orgId: string, token: string, body: Record<string, unknown>) {
  const res = await s.t.request("POST", `/api/v1/orgs/${orgId}/webhooks`, { token, body });
  assert.equal(res.status, 201, res.text);
  return { id: res.json.webhook.id as string, secret: res.json.secret as string };
}

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

const nav = (page: Page) => page.getByRole("navigation", { name: "Organisation and workspace" });
const card = (page: Page, url: string) => page.getByRole("listitem", { name: url, exact: true });
const fact = (c: Locator, term: string) => c.locator(".webhook-facts > div", { hasText: term }).locator("dd");
const deliveryRows = (page: Page) => page.locator("table.webhook-deliveries tbody tr");
const cell = (row: Locator, label: string) => row.locator(`td[data-label="${label}"]`);
const overflow = (page: Page) =>
  page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");

test("an owner adds a webhook for chosen events, copies its secret once, and what arrives verifies with it", async () => {
  const { owner, orgId } = await team("Acme Hooks");
  const { r } = await receiver();
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}`);
  await nav(page).getByRole("link", { name: "Webhooks" }).click();
  await page.waitForURL(new RegExp(`/orgs/${orgId}/webhooks$`));
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  await page.getByText("No webhooks yet").waitFor();
  await s.shot(page, "webhooks-empty");
  await s.checkA11y(page, "Webhooks, empty");

  await page.getByRole("button", { name: "Add your first webhook" }).click();
  const dialog = page.getByRole("dialog", { name: "Add webhook" });
  await dialog.waitFor();
  assert.equal(
    await dialog.getByRole("radio", { name: /^All events/ }).isChecked(),
    true,
    "all types by default",
  );
  assert.equal(await dialog.getByRole("checkbox").count(), 0, "no types to tick until asked for");

  // No address: refused next to the field before asking the server.
  await dialog.getByRole("button", { name: "Add webhook" }).click();
  await dialog.getByText("Enter the address Rollcall should post the events to.").waitFor();
  assert.equal(await dialog.getByLabel("URL").getAttribute("aria-invalid"), "true");

  // The server's refusal of the URL, next to the field too.
  await dialog.getByLabel("URL").fill("ftp://hooks.example.com/rollcall");
  await dialog.getByRole("button", { name: "Add webhook" }).click();
  const urlError = dialog.locator(".field-invalid .field-error");
  await urlError.waitFor();
  assert.match(await text(urlError), /^The URL/);
  assert.equal(await dialog.getByLabel("URL").getAttribute("aria-invalid"), "true");
  assert.equal(await dialog.getByRole("alert").count(), 0, "a field's error is not the form's");
  await s.shot(page, "webhook-url-refused");

  // Chosen events, none ticked: refused beside the list.
  await dialog.getByLabel("URL").fill(r.url);
  await dialog.getByLabel("Description (optional)").fill("Member sync");
  await dialog.getByRole("radio", { name: /^Only these events/ }).check();
  const groups = dialog.locator("fieldset.webhook-type-group legend");
  assert.deepEqual(await groups.allTextContents(), [
    "Members",
    "Workspace access",
    "Invitations",
    "Workspaces",
    "Organisation",
    "API keys",
    "Webhooks",
  ]);
  await dialog.getByRole("button", { name: "Add webhook" }).click();
  await dialog.getByText("Tick at least one kind of event, or choose all events.").waitFor();
  await dialog
    .getByRole("group", { name: "Members" })
    .getByRole("checkbox", { name: /Member joined or added/ })
    .check();
  await dialog
    .getByRole("group", { name: "Workspaces" })
    .getByRole("checkbox", { name: /Workspace created/ })
    .check();
  assert.equal(await dialog.getByText("Tick at least one kind of event").count(), 0, "the error goes");
  await s.shot(page, "webhook-create-dialog");
  await s.checkA11y(page, "add webhook dialog");
  await dialog.getByRole("button", { name: "Add webhook" }).click();

  // The secret, once.
  const shown = page.getByRole("dialog", { name: "Your webhook's signing secret" });
  await shown.waitFor();
  await shown.getByText("Copy it now: Rollcall cannot show it again.").waitFor();
  const secret = await shown.getByLabel("Signing secret").inputValue();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  await copyFrom(page, shown, secret);
  r.secrets.push(secret);
  await s.shot(page, "webhook-secret");
  await s.checkA11y(page, "webhook secret view");
  await shown.getByRole("button", { name: "Done" }).click();
  await shown.waitFor({ state: "hidden" });
  assert.equal(await page.locator(`input[value="${secret}"]`).count(), 0, "the secret left the page");

  const made = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token: owner.token });
  assert.equal(made.json.items.length, 1);
  assert.deepEqual([...made.json.items[0].types].sort(), ["member.added", "workspace.created"]);
  assert.equal(made.json.items[0].description, "Member sync");

  const c = card(page, r.url);
  await c.waitFor();
  assert.match(await text(c), /Member sync/);
  assert.equal(await text(fact(c, "Events")), "Member joined or added, Workspace created");
  assert.equal(await text(fact(c, "Last delivery")), "None yet");
  assert.equal(await text(c.locator(".webhook-head .badge")), "On");

  // A real event of a chosen type arrives, signed with the secret the page showed.
  const ws = await s.t.request("POST", `/api/v1/orgs/${orgId}/workspaces`, {
    token: owner.token,
    body: { name: "Hooked" },
  });
  assert.equal(ws.status, 201);
  const created = await r.waitFor((d) => d.payload?.type === "workspace.created");
  assert.equal(created.verifiedWith.get(secret), true, "the delivery verifies with the copied secret");
  assert.equal(created.payload.data.orgId, orgId);

  // The test event: sent, verified, and delivered in the log with the receiver's 204.
  await c.getByRole("button", { name: "Send test event" }).click();
  await page.getByRole("status").filter({ hasText: "A test event is on its way" }).waitFor();
  const tested = await r.waitFor((d) => d.payload?.type === "webhook.test");
  assert.equal(tested.verifiedWith.get(secret), true);
  await page.reload();
  const last = fact(card(page, r.url), "Last delivery");
  await eventually(async () => assert.equal(await text(last.locator(".badge")), "Delivered"));
  assert.equal(await text(last.locator(".mono")), "HTTP 204");
  assert.equal(await text(last.locator("time")), "just now");
  await s.shot(page, "webhooks-list");
  await s.checkA11y(page, "Webhooks list");

  await card(page, r.url).getByRole("link", { name: "Delivery log" }).click();
  await page.getByRole("heading", { name: "Delivery log", level: 1 }).waitFor();
  assert.match(await text(page.locator(".page-description")), new RegExp(r.url.replace(/[.]/g, "\\.")));
  const testRow = page.getByRole("row", { name: /Test event/ });
  await eventually(async () => assert.equal(await text(cell(testRow, "Status")), "Delivered"));
  assert.equal(await text(cell(testRow, "Response")), "204");
  assert.equal(await text(cell(testRow, "Attempts")), "1");
  assert.equal(await text(cell(testRow, "Error")), "—");
  assert.equal(await text(cell(testRow, "Next attempt")), "None");
  assert.ok(await cell(testRow, "Last attempt").locator("time").getAttribute("datetime"));
  const wsRow = page.getByRole("row", { name: /Workspace created/ });
  assert.equal(await text(cell(wsRow, "Status")), "Delivered");
  assert.equal(await deliveryRows(page).count(), 2);
  await s.shot(page, "webhook-deliveries");
  await s.checkA11y(page, "delivery log");

  // A status no delivery has: the empty state says so.
  await page.getByLabel("Status").selectOption("failed");
  await page.getByText("No failed deliveries").waitFor();
  assert.match(page.url(), /\?status=failed$/);
  await page.getByRole("link", { name: "← Webhooks" }).click();
  await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
});

test("a failing receiver: pending with its 500, failed when turned off, retried by hand, Load more, and a 410 turns it off", async () => {
  const { owner, orgId } = await team("Acme Failing");
  const { r, answer } = await receiver();
  const { id, secret } = await addWebhook(orgId, owner.token, { url: r.url });
  r.secrets.push(secret);
  answer.status = 500;
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}/webhooks`);
  const c = card(page, r.url);
  assert.equal(await text(fact(c, "Events")), "All events");
  await c.getByRole("button", { name: "Send test event" }).click();
  await r.waitFor((d) => d.payload?.type === "webhook.test" && d.status === 500);
  // Its own webhook.created and the test event both go to it.
  const firstTry = r.received.find((d) => d.payload?.type === "webhook.test");
  assert.equal(firstTry?.verifiedWith.get(secret), true);

  // Pending: the receiver's 500, the error, and when it is tried next.
  await page.goto(`/orgs/${orgId}/webhooks/${id}`);
  const row = page.getByRole("row", { name: /Test event/ });
  await eventually(async () => assert.equal(await text(cell(row, "Response")), "500"));
  assert.equal(await text(cell(row, "Status")), "Pending");
  assert.match(await text(cell(row, "Error")), /500/);
  assert.ok(Number(await text(cell(row, "Attempts"))) >= 1);
  await s.shot(page, "webhook-delivery-pending");
  await s.checkA11y(page, "delivery log, pending");

  // Turned off from the list: the pending delivery fails, and the card says nothing is sent.
  await page.getByRole("link", { name: "← Webhooks" }).click();
  await c.getByRole("button", { name: "Turn off" }).click();
  // It asks first: what is waiting fails.
  const confirm = page.getByRole("dialog", { name: "Turn this webhook off?" });
  await confirm.getByText("the deliveries still waiting are marked failed").waitFor();
  await s.checkA11y(page, "turn-off confirmation");
  await confirm.getByRole("button", { name: "Turn off" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `${r.url} was turned off` })
    .waitFor();
  await c.getByText("Nothing is sent to it while it is off.").waitFor();
  assert.equal(await text(c.locator(".webhook-head .badge")), "Turned off");
  let listed = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token: owner.token });
  assert.equal(listed.json.items[0].enabled, false);
  await s.shot(page, "webhook-turned-off");

  await c.getByRole("button", { name: "Turn on" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `${r.url} was turned on` })
    .waitFor();
  listed = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token: owner.token });
  assert.equal(listed.json.items[0].enabled, true);

  // The failed delivery, found by the filter, retried by hand to a receiver that now answers.
  await c.getByRole("link", { name: "Delivery log" }).click();
  await page.getByLabel("Status").selectOption("failed");
  const failed = page.getByRole("row", { name: /Test event/ });
  await eventually(async () => assert.equal(await text(cell(failed, "Status")), "Failed"));
  assert.equal(await text(cell(failed, "Error")), "The webhook was turned off.");
  await s.shot(page, "webhook-delivery-failed");
  await s.checkA11y(page, "delivery log, failed");
  answer.status = 204;
  const before = r.received.length;
  await failed.getByRole("button", { name: "Retry" }).click();
  await page.getByRole("status").filter({ hasText: "Test event is being sent again" }).waitFor();
  const again = await r.waitFor(
    (d) => r.received.indexOf(d) >= before && d.status === 204 && d.payload?.type === "webhook.test",
  );
  assert.equal(again.verifiedWith.get(secret), true);
  assert.equal(again.headers["webhook-id"], firstTry?.headers["webhook-id"], "the same event, again");
  await page.getByLabel("Status").selectOption("delivered");
  const delivered = page.getByRole("row", { name: /Test event/ });
  await eventually(async () => assert.equal(await text(cell(delivered, "Status")), "Delivered"), 15_000);
  assert.equal(await text(cell(delivered, "Response")), "204");
  assert.equal(await delivered.getByRole("button", { name: "Send again" }).count(), 1);

  // 26 more test events: a page of 25, then Load more brings the rest (the log also holds the
  // webhook's own created and turned-on events).
  for (let i = 0; i < 26; i++) {
    const sent = await s.t.request("POST", `/api/v1/orgs/${orgId}/webhooks/${id}/test`, {
      token: owner.token,
    });
    assert.equal(sent.status, 202);
  }
  await page.getByLabel("Status").selectOption("");
  await page.reload();
  await eventually(async () => assert.equal(await deliveryRows(page).count(), 25));
  const all = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks/${id}/deliveries?limit=100`, {
    token: owner.token,
  });
  assert.ok(all.json.items.length > 27 && all.json.items.length < 50, `${all.json.items.length} deliveries`);
  await page.getByRole("button", { name: "Load more" }).click();
  await eventually(async () => assert.equal(await deliveryRows(page).count(), all.json.items.length));
  assert.equal(await page.getByRole("button", { name: "Load more" }).count(), 0, "no more pages");

  // A 410: the server turns the endpoint off and the card gives its reason.
  answer.status = 410;
  await s.t.request("POST", `/api/v1/orgs/${orgId}/webhooks/${id}/test`, { token: owner.token });
  await r.waitFor((d) => d.status === 410);
  await page.getByRole("link", { name: "← Webhooks" }).click();
  await eventually(async () => {
    await page.reload();
    await c.getByText(/The endpoint answered 410 Gone at/).waitFor({ timeout: 1000 });
  });
  assert.equal(await text(c.locator(".webhook-head .badge")), "Turned off");
  assert.equal(await c.getByRole("button", { name: "Turn on" }).count(), 1);
});

test("editing a webhook, rotating its secret (both sign for a day), and deleting it after a confirmation", async () => {
  const { owner, orgId } = await team("Acme Rotation");
  const { r } = await receiver();
  const { secret: first } = await addWebhook(orgId, owner.token, { url: r.url, types: ["member.added"] });
  const page = await s.page("desktop");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}/webhooks`);
  const c = card(page, r.url);

  // Edit: the form opens with what the webhook is, and saves what changed.
  await c.getByRole("button", { name: "Edit" }).click();
  const edit = page.getByRole("dialog", { name: "Edit webhook" });
  assert.equal(await edit.getByLabel("URL").inputValue(), r.url);
  assert.equal(await edit.getByRole("radio", { name: /^Only these events/ }).isChecked(), true);
  assert.equal(await edit.getByRole("checkbox", { name: /Member joined or added/ }).isChecked(), true);
  assert.equal(await edit.getByRole("checkbox", { name: /Member removed/ }).isChecked(), false);
  await edit.getByRole("checkbox", { name: /Member removed/ }).check();
  await edit.getByLabel("Description (optional)").fill("Billing sync");
  await s.checkA11y(page, "edit webhook dialog");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `Webhook ${r.url} saved` })
    .waitFor();
  await edit.waitFor({ state: "hidden" });
  assert.equal(await text(fact(c, "Events")), "Member joined or added, Member removed");
  await c.getByText("Billing sync").waitFor();
  const edited = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token: owner.token });
  assert.deepEqual([...edited.json.items[0].types].sort(), ["member.added", "member.removed"]);
  assert.equal(edited.json.items[0].description, "Billing sync");

  await c.getByRole("button", { name: "Rotate secret" }).click();
  const confirm = page.getByRole("dialog", { name: "Rotate the signing secret?" });
  await confirm.getByText(/The old one keeps signing for 24 more hours/).waitFor();
  await s.shot(page, "webhook-rotate-confirm");
  await s.checkA11y(page, "rotate secret dialog");
  await confirm.getByRole("button", { name: "Rotate secret" }).click();

  const shown = page.getByRole("dialog", { name: "The new signing secret" });
  await shown.waitFor();
  const second = await shown.getByLabel("Signing secret").inputValue();
  assert.match(second, /^whsec_/);
  assert.notEqual(second, first);
  await copyFrom(page, shown, second);
  await shown.getByText(/For the next 24 hours each delivery is signed with both/).waitFor();
  await s.shot(page, "webhook-rotated-secret");
  await s.checkA11y(page, "new secret view");
  await shown.getByRole("button", { name: "Done" }).click();
  await shown.waitFor({ state: "hidden" });

  // The next delivery verifies with either secret alone.
  r.secrets.push(first, second);
  await c.getByRole("button", { name: "Send test event" }).click();
  const d = await r.waitFor((x) => x.payload?.type === "webhook.test");
  assert.equal(d.verifiedWith.get(first), true, "the old secret still signs");
  assert.equal(d.verifiedWith.get(second), true, "the new secret signs");

  await c.getByRole("button", { name: "Delete" }).click();
  const del = page.getByRole("dialog", { name: "Delete this webhook?" });
  await del.getByText(/Its delivery log goes with it/).waitFor();
  await s.shot(page, "webhook-delete-confirm");
  await s.checkA11y(page, "delete webhook dialog");
  await del.getByRole("button", { name: "Delete webhook" }).click();
  await page
    .getByRole("status")
    .filter({ hasText: `${r.url} was deleted` })
    .waitFor();
  await page.getByText("No webhooks yet").waitFor();
  const left = await s.t.request("GET", `/api/v1/orgs/${orgId}/webhooks`, { token: owner.token });
  assert.deepEqual(left.json.items, []);
});

test("a member has no link to the pages and gets the friendly page at their addresses", async () => {
  const { owner, orgId, orgName, bob } = await team("Acme Members");
  const { r } = await receiver();
  const { id } = await addWebhook(orgId, owner.token, { url: r.url });
  const page = await s.page("desktop");
  await s.logIn(page, bob);
  await page.goto(`/orgs/${orgId}`);
  await nav(page).getByRole("link", { name: "Workspaces", exact: true }).waitFor();
  assert.equal(await nav(page).getByRole("link", { name: "Webhooks" }).count(), 0);

  for (const path of [`/orgs/${orgId}/webhooks`, `/orgs/${orgId}/webhooks/${id}`]) {
    await page.goto(path);
    await page.getByRole("heading", { name: "You need the Owner or Admin role" }).waitFor();
    const said = await text(page.locator(".forbidden"));
    assert.match(said, new RegExp(`in ${orgName}`));
    assert.equal(await page.getByText(r.url).count(), 0, "the webhook is not shown");
  }
  await s.shot(page, "webhooks-forbidden");
  await s.checkA11y(page, "Webhooks, forbidden");
});

test("on a phone the cards, the dialog and the delivery log fit without sideways scroll", async () => {
  const { owner, orgId } = await team("Acme Pocket");
  const { r } = await receiver();
  const longUrl = `${r.url}/a-rather-long-path/that-goes-on/and-on-without-any-spaces-at-all?token=abcdefghijklmnop`;
  const { id } = await addWebhook(orgId, owner.token, {
    url: longUrl,
    description: "Tells the warehouse system about every new member and every workspace change",
    types: ["member.added", "workspace.created", "workspace.deleted"],
  });
  await s.t.request("POST", `/api/v1/orgs/${orgId}/webhooks/${id}/test`, { token: owner.token });
  const page = await s.page("phone");
  await s.logIn(page, owner);
  await page.goto(`/orgs/${orgId}/webhooks`);
  const c = card(page, longUrl);
  await c.waitFor();
  assert.equal(await text(fact(c, "Events")), "3 event types");
  assert.ok((await overflow(page)) <= 0, `the list scrolls sideways by ${await overflow(page)}px`);
  await s.shot(page, "webhooks-phone");
  await s.checkA11y(page, "Webhooks on a phone");

  await page.getByRole("button", { name: "Add webhook" }).click();
  const dialog = page.getByRole("dialog", { name: "Add webhook" });
  await dialog.getByRole("radio", { name: /^Only these events/ }).check();
  const box = await dialog.boundingBox();
  assert.ok(box && box.x >= 0 && box.x + box.width <= 390, "the dialog fits the screen");
  await s.shot(page, "webhook-create-phone");
  await dialog.getByRole("button", { name: "Cancel" }).click();

  await c.getByRole("link", { name: "Delivery log" }).click();
  const row = page.getByRole("row", { name: /Test event/ });
  await eventually(async () => assert.equal(await text(cell(row, "Status")), "Delivered"));
  assert.equal(
    await page.evaluate<string>(
      `getComputedStyle(document.querySelector('table.webhook-deliveries td[data-label="Status"]'), "::before").content`,
    ),
    '"Status"',
  );
  assert.ok((await overflow(page)) <= 0, `the log scrolls sideways by ${await overflow(page)}px`);
  await s.shot(page, "webhook-deliveries-phone");
  await s.checkA11y(page, "delivery log on a phone");
});
