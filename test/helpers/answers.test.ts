// The answer checker (answers.ts) that holds every answer of the suite to the OpenAPI document:
// it must refuse what the document does not allow, or the suite's answers prove nothing.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { openApiDocument } from "../../scripts/openapi.js";
import { AnswerChecker, type OpenApiDocument } from "./answers.js";

let checker: AnswerChecker;
before(async () => {
  checker = new AnswerChecker((await openApiDocument()) as unknown as OpenApiDocument);
});

const json = (status: number, body: unknown, type = "application/json; charset=utf-8") => ({
  status,
  headers: { "content-type": type },
  text: JSON.stringify(body),
});
const organization = { id: "org_1", name: "Acme", createdAt: "2026-01-02T03:04:05.000Z" };
const member = {
  userId: "u_1",
  name: "Ann",
  email: "ann@example.org",
  role: "owner",
  joinedAt: organization.createdAt,
  actsAs: "admin",
  abilities: { changeRole: false, remove: false },
};
const problem = (status: number, code: string) => ({ type: "t", title: "t", status, detail: "d", code });

test("an answer as documented passes, through $refs into the components", () => {
  const get = json(200, { organization, role: "owner", actsAs: "admin", permissions: ["org.read"] });
  assert.equal(checker.problem("GET", "/api/v1/orgs/org_1", get), undefined);
  const page = json(200, { items: [{ ...member, workspaces: [] }], nextCursor: null });
  assert.equal(checker.problem("GET", "/api/v1/orgs/org_1/members?q=ann", page), undefined);
  const gone = json(404, problem(404, "organization_not_found"), "application/problem+json; charset=utf-8");
  assert.equal(checker.problem("GET", "/api/v1/orgs/org_1", gone), undefined);
  assert.equal(
    checker.problem("DELETE", "/api/v1/orgs/org_1", { status: 204, headers: {}, text: "" }),
    undefined,
  );
});

test("a field of the wrong type fails, naming the operation, the status and the field", () => {
  const answer = json(200, {
    organization: { ...organization, createdAt: 5 },
    role: "owner",
    actsAs: "admin",
    permissions: [],
  });
  const found = checker.problem("GET", "/api/v1/orgs/org_1", answer) ?? "";
  assert.match(found, /getOrganization \(GET \/api\/v1\/orgs\/\{org\}\) answered 200/);
  assert.match(found, /body\/organization\/createdAt must be string/);
  // Inside a page, inside a referenced component: a member without its workspaces.
  const page = json(200, { items: [member], nextCursor: null });
  assert.match(
    checker.problem("GET", "/api/v1/orgs/org_1/members", page) ?? "",
    /listOrganizationMembers .* must have required property 'workspaces'/,
  );
  assert.throws(
    () => checker.check("GET", "/api/v1/orgs/org_1", answer),
    /differs from the OpenAPI document/,
  );
});

test("a status the operation does not document fails, problems included", () => {
  assert.match(
    checker.problem("GET", "/api/v1/me", json(418, {})) ?? "",
    /getCurrentUser \(GET \/api\/v1\/me\) answered 418, which the document does not list/,
  );
  // Logging in has no 404 (problems(401) only).
  const notFound = json(404, problem(404, "not_found"), "application/problem+json");
  assert.match(checker.problem("POST", "/api/v1/auth/login", notFound) ?? "", /logIn .* answered 404/);
});

test("the content type and the absence of a body count too", () => {
  const asJson = json(404, problem(404, "organization_not_found"));
  assert.match(
    checker.problem("GET", "/api/v1/orgs/org_1", asJson) ?? "",
    /not as the document's application\/problem\+json/,
  );
  const withBody = { status: 204, headers: {}, text: "null" };
  assert.match(
    checker.problem("DELETE", "/api/v1/orgs/org_1", withBody) ?? "",
    /with a body the document says it has not/,
  );
});

test("requests that reach no documented operation are not checked", () => {
  assert.equal(checker.problem("GET", "/healthz", json(200, { status: "ok" })), undefined);
  assert.equal(checker.problem("GET", "/api/v1/no-such-route", json(404, {})), undefined);
  assert.equal(checker.problem("PUT", "/api/v1/me", json(404, {})), undefined);
  // A literal path wins over a template: /invitations/lookup is not /invitations/{id}.
  assert.match(
    checker.operation("GET", "/api/v1/invitations/lookup?token=x")?.name ?? "",
    /^lookupInvitation/,
  );
});
