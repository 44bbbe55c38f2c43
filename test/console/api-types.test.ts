// The console's API types are generated from the server's OpenAPI document (scripts/openapi.ts).
// When a route's schema changes and `npm run api` was not run, the console would be typed against
// an API that no longer exists: this fails instead.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { generateApiTypes, SCHEMA_TS } from "../../scripts/openapi.js";

test("web/src/api/schema.d.ts is what the server's OpenAPI document generates (npm run api)", async () => {
  const committed = await readFile(SCHEMA_TS, "utf8");
  const fresh = await generateApiTypes();
  assert.ok(
    fresh.includes('"/api/v1/orgs/{org}/invitations"'),
    "the generated types cover the invitation routes",
  );
  // Not assert.equal: a diff of two 7,000-line strings takes minutes to print.
  assert.ok(committed === fresh, `${SCHEMA_TS} is out of date: run npm run api and commit it`);
});
