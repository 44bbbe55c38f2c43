// @rollcall/client's route guards in real host apps on loopback — a Fastify app with the plugin,
// an Express app with the middleware — against a live Rollcall: the session from a bearer header
// or Rollcall's cookie, the route's permission in a workspace or an organisation, Rollcall's
// problem documents when the answer is no, and a removal refused at the next request.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { type Guarded, Rollcall } from "../../packages/client/src/index.js";
import { type SignedUp, type TestApp, testApp } from "../helpers/app.js";
import { buildServiceKey } from "../helpers/keys.js";
import { buildOrg, grantWorkspaceRole, joinOrg, type Org } from "../helpers/org.js";

let t: TestApp;
let rc: Rollcall;
let org: Org;
let fastifyHost: FastifyInstance;
let expressHost: ReturnType<ReturnType<typeof express>["listen"]>;
const bases: Record<string, string> = {};
const people: Record<string, { viewer: SignedUp; member: SignedUp }> = {};

before(async () => {
  t = await testApp({ EVENTS_POLL_MS: "50" });
  const key = (await buildServiceKey(t, "guards")).token;
  const url = await t.app.fastify.listen({ port: 0, host: "127.0.0.1" });
  org = await buildOrg(t);
  // In the snapshot the client reads: for each host, a workspace viewer and a plain member.
  for (const host of ["fastify", "express"]) {
    const viewer = await joinOrg(t, org.orgId, "member", `Vi ${host}`);
    await grantWorkspaceRole(t, org.orgId, org.workspaceId, viewer.userId, "viewer");
    people[host] = { viewer, member: await joinOrg(t, org.orgId, "member", `Mo ${host}`) };
  }
  rc = new Rollcall({ url, serviceKey: key });
  await rc.ready();

  fastifyHost = Fastify();
  await fastifyHost.register(rc.fastify());
  const ws = (r: unknown) => (r as { params: { ws: string } }).params.ws;
  const orgOf = (r: unknown) => (r as { params: { org: string } }).params.org;
  fastifyHost.get(
    "/w/:ws/flows",
    { config: { rollcall: { permission: "flows.read", workspace: ws } } },
    (req) => ({
      user: req.rollcall?.ok ? req.rollcall.session.user.id : null,
    }),
  );
  fastifyHost.post(
    "/w/:ws/flows",
    { config: { rollcall: { permission: "flows.write", workspace: ws } } },
    () => ({
      written: true,
    }),
  );
  fastifyHost.get("/o/:org/users", { config: { rollcall: { permission: "org.users", org: orgOf } } }, () => ({
    users: [],
  }));
  bases.fastify = await fastifyHost.listen({ port: 0, host: "127.0.0.1" });

  const app = express();
  app.get(
    "/w/:ws/flows",
    rc.express({ permission: "flows.read", workspace: (req) => req.params.ws }),
    (req, res) => {
      res.json({ user: req.rollcall?.ok ? req.rollcall.session.user.id : null });
    },
  );
  app.post(
    "/w/:ws/flows",
    rc.express({ permission: "flows.write", workspace: (req) => req.params.ws }),
    (_req, res) => {
      res.json({ written: true });
    },
  );
  app.get(
    "/o/:org/users",
    rc.express({ permission: "org.users", org: (req) => req.params.org }),
    (_req, res) => {
      res.json({ users: [] });
    },
  );
  expressHost = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => expressHost.once("listening", resolve));
  bases.express = `http://127.0.0.1:${(expressHost.address() as AddressInfo).port}`;
});
after(async () => {
  await fastifyHost.close();
  await new Promise((resolve) => expressHost.close(resolve));
  await rc.close();
  await t.close();
});

declare module "fastify" {
  interface FastifyRequest {
    rollcall?: Guarded | null;
  }
}
declare global {
  namespace Express {
    interface Request {
      rollcall?: Guarded;
    }
  }
}

async function call(host: string, method: string, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${bases[host]}${path}`, { method, headers });
  const json = (await res.json()) as Record<string, unknown>;
  return { status: res.status, type: res.headers.get("content-type") ?? "", json };
}

for (const host of ["fastify", "express"]) {
  describe(`the ${host} guard`, () => {
    test("no session: 401 unauthenticated; an unknown one: 401 invalid_session; as problem documents", async () => {
      const none = await call(host, "GET", `/w/${org.workspaceId}/flows`);
      assert.equal(none.status, 401);
      assert.match(none.type, /^application\/problem\+json/);
      assert.equal(none.json.code, "unauthenticated");
      assert.equal(none.json.type, "https://rollcall.dev/problems/unauthenticated");
      const junk = await call(host, "GET", `/w/${org.workspaceId}/flows`, {
        authorization: "Bearer nonsense",
      });
      assert.equal(junk.status, 401);
      assert.equal(junk.json.code, "invalid_session");
      const badCookie = await call(host, "GET", `/w/${org.workspaceId}/flows`, {
        cookie: "rollcall_session=%E0%A4%A",
      });
      assert.equal(badCookie.status, 401);
    });

    test("the route's workspace permission, from a bearer token or the cookie, with Rollcall's reason", async () => {
      const { viewer } = people[host] as { viewer: SignedUp };

      const read = await call(host, "GET", `/w/${org.workspaceId}/flows`, {
        authorization: `Bearer ${viewer.token}`,
      });
      assert.equal(read.status, 200);
      assert.deepEqual(read.json, { user: viewer.userId });
      const byCookie = await call(host, "GET", `/w/${org.workspaceId}/flows`, {
        cookie: `theme=dark; rollcall_session=${encodeURIComponent(viewer.token)}`,
      });
      assert.equal(byCookie.status, 200);
      const write = await call(host, "POST", `/w/${org.workspaceId}/flows`, {
        authorization: `Bearer ${viewer.token}`,
      });
      assert.equal(write.status, 403);
      assert.equal(write.json.code, "forbidden");
      assert.equal(write.json.detail, "viewer lacks flows.write; editor or admin has it");
      assert.equal(
        (await call(host, "GET", `/w/wsp_nothing/flows`, { authorization: `Bearer ${viewer.token}` })).status,
        403,
      );

      // Removed: refused at the next request (the removal answered once this client applied it).
      const removed = await t.request("DELETE", `/api/v1/orgs/${org.orgId}/members/${viewer.userId}`, {
        token: org.owner.token,
      });
      assert.equal(removed.status, 204);
      const after = await call(host, "GET", `/w/${org.workspaceId}/flows`, {
        authorization: `Bearer ${viewer.token}`,
      });
      assert.equal(after.status, 403);
      assert.equal(after.json.detail, "not a member of this organisation");
    });

    test("the route's organisation permission", async () => {
      const owner = await call(host, "GET", `/o/${org.orgId}/users`, {
        authorization: `Bearer ${org.owner.token}`,
      });
      assert.equal(owner.status, 200);
      const { member } = people[host] as { member: SignedUp };
      const refused = await call(host, "GET", `/o/${org.orgId}/users`, {
        authorization: `Bearer ${member.token}`,
      });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.detail, "organisation member lacks org.users; admin or owner has it");
      const elsewhere = await call(host, "GET", "/o/org_other/users", {
        authorization: `Bearer ${org.owner.token}`,
      });
      assert.equal(elsewhere.status, 403);
    });
  });
}
