// Components are referenced by $ref (schemas.ts): the serialiser must still send only the fields
// a schema names, through the reference and inside pages, or a hash could leave with a user.
import assert from "node:assert/strict";
import { test } from "node:test";
import Fastify from "fastify";
import { Page, ref, User } from "./schemas.js";

test("an answer through a $ref to a component, or a page of them, carries only the named fields", async () => {
  const app = Fastify();
  const UserPage = Page(User);
  app.addSchema(User);
  app.addSchema(UserPage);
  const user = {
    id: "usr_1",
    email: "ann@example.org",
    name: "Ann",
    createdAt: "2026-01-02T03:04:05.000Z",
    passwordHash: "$argon2id$secret",
  };
  app.get(
    "/one",
    { schema: { response: { 200: { type: "object", properties: { user: ref(User) } } } } },
    () => ({
      user,
    }),
  );
  app.get("/page", { schema: { response: { 200: ref(UserPage) } } }, () => ({
    items: [user],
    nextCursor: null,
    tokenHash: "abc",
  }));
  const one = await app.inject("/one");
  assert.deepEqual(Object.keys(one.json().user).sort(), ["createdAt", "email", "id", "name"]);
  const page = await app.inject("/page");
  assert.deepEqual(Object.keys(page.json()).sort(), ["items", "nextCursor"]);
  assert.deepEqual(Object.keys(page.json().items[0]).sort(), ["createdAt", "email", "id", "name"]);
  assert.doesNotMatch(page.body + one.body, /argon2|abc/);
  await app.close();
});
