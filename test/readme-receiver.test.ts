// The README's example webhook receiver is run as it is printed — only its port changed — and
// must accept a real delivery and refuse a forged one: the documentation cannot drift from what
// the server sends or from the standardwebhooks package it names.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { after, before, test } from "node:test";
import { type TestApp, testApp } from "./helpers/app.js";
import { buildOrg } from "./helpers/org.js";

let t: TestApp;
let child: ChildProcess | undefined;
// Inside the repository, so that `standardwebhooks` resolves from its node_modules.
const file = new URL(`../.tmp/readme-receiver-${process.pid}.mjs`, import.meta.url);

before(async () => {
  t = await testApp({ WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", EVENTS_POLL_MS: "50" });
});
after(async () => {
  child?.kill();
  await rm(file, { force: true });
  await t.close();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test("the README's receiver verifies a real delivery and refuses a forged one", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Webhooks"));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code, "a js block under the README's ### Webhooks");
  assert.ok(code.includes(".listen(8080)"), "the README's receiver listens on 8080");
  const port = await freePort();
  await mkdir(new URL(".", file), { recursive: true });
  await writeFile(file, code.replace(".listen(8080)", `.listen(${port}, "127.0.0.1")`));

  const org = await buildOrg(t);
  const made = await t.request("POST", `/api/v1/orgs/${org.orgId}/webhooks`, {
    token: org.owner.token,
    body: { url: `http://127.0.0.1:${port}/`, types: ["workspace.created"] },
  });
  assert.equal(made.status, 201, made.text);

  let output = "";
  child = spawn(process.execPath, [file.pathname], {
    env: { ...process.env, ROLLCALL_WEBHOOK_SECRET: made.json.secret },
    stdio: ["ignore", "pipe", "inherit"],
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  // Listening once a plain request gets an answer: unsigned, so 400.
  const deadline = Date.now() + 10_000;
  let forged: Response | undefined;
  while (!forged && Date.now() < deadline) {
    forged = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "webhook-id": "evt_x", "webhook-timestamp": String(Math.floor(Date.now() / 1000)) },
      body: JSON.stringify({ type: "member.added", timestamp: new Date().toISOString(), data: {} }),
    }).catch(() => undefined);
    if (!forged) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(forged?.status, 400, "an unsigned delivery is refused");

  const ws = await t.request("POST", `/api/v1/orgs/${org.orgId}/workspaces`, {
    token: org.owner.token,
    body: { name: "From the README" },
  });
  assert.equal(ws.status, 201, ws.text);
  const until = Date.now() + 10_000;
  while (!output.includes("workspace.created") && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(output, /workspace\.created/);
  assert.match(output, /From the README/);
  const log = await t.request(
    "GET",
    `/api/v1/orgs/${org.orgId}/webhooks/${made.json.webhook.id}/deliveries`,
    {
      token: org.owner.token,
    },
  );
  assert.equal(log.json.items[0].status, "delivered");
  assert.equal(log.json.items[0].responseStatus, 204);
});
