// The host-product example (examples/host-fastify), started as its README says — `npm run
// example:host` with ROLLCALL_URL and ROLLCALL_SERVICE_KEY — against a live Rollcall: a viewer
// reads flows and may not write them, an editor writes, a removed editor is refused at once.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, test } from "node:test";
import { type SignedUp, type TestApp, testApp } from "../helpers/app.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../helpers/org.js";

let t: TestApp;
let org: Org;
let viewer: SignedUp;
let editor: SignedUp;
let host: ChildProcess;
let base: string;

before(async () => {
  t = await testApp();
  const key = (await buildServiceKey(t, "example host")).token;
  const url = await t.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  org = await buildOrg(t);
  viewer = await joinOrg(t, org.orgId, "member", "Vic Viewer");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, viewer.userId, "viewer");
  editor = await joinOrg(t, org.orgId, "member", "Eda Editor");
  await grantWorkspaceRole(t, org.orgId, org.workspaceId, editor.userId, "editor");

  host = spawn("npm", ["run", "--silent", "example:host"], {
    env: { ...process.env, ROLLCALL_URL: url, ROLLCALL_SERVICE_KEY: key, PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  base = await new Promise<string>((resolve, reject) => {
    let out = "";
    host.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /host listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    host.once("exit", (code) => reject(new Error(`the example exited (${code}): ${out}`)));
  });
});
after(async () => {
  // npm and the node under it: the whole group.
  if (host.pid) process.kill(-host.pid, "SIGTERM");
  await t.close();
});

const flows = (method: string, who: SignedUp) =>
  fetch(`${base}/workspaces/${org.workspaceId}/flows`, {
    method,
    headers: { authorization: `Bearer ${who.token}` },
  });

test("the example host: a viewer reads, an editor writes, a removed editor is refused at once", async () => {
  const read = await flows("GET", viewer);
  assert.equal(read.status, 200);
  assert.deepEqual(await read.json(), { flows: [], as: "viewer" });
  const refused = await flows("POST", viewer);
  assert.equal(refused.status, 403);
  assert.match(refused.headers.get("content-type") ?? "", /^application\/problem\+json/);
  assert.equal(
    ((await refused.json()) as { detail: string }).detail,
    "viewer lacks flows.write; editor or admin has it",
  );

  const written = await flows("POST", editor);
  assert.equal(written.status, 201);
  assert.deepEqual(await written.json(), { flows: ["flow 1"] });

  const removed = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${editor.userId}`, {
    token: org.owner.token,
  });
  assert.equal(removed.status, 204);
  assert.equal((await flows("POST", editor)).status, 403);
  assert.equal((await fetch(`${base}/workspaces/${org.workspaceId}/flows`)).status, 401);
});
