// The operations the fuzz covers, read from the OpenAPI document the app serves rather than listed
// by hand, so that a new route is fuzzed the day it is documented. Each operation keeps what the
// generators need: its path parameters, its query parameters and its body as JSON Schema, and
// whether the route table marks it public (it then reads no session, so no session is junk there).
import assert from "node:assert/strict";
import type { TestApp } from "../../helpers/app.js";

/** The parts of JSON Schema the API's request schemas use. */
export interface Schema {
  type?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  maxItems?: number;
  default?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
}

export interface QueryParam {
  name: string;
  schema: Schema;
  required: boolean;
}

export interface Operation {
  key: string;
  method: string;
  /** The path as the document writes it: /api/v1/orgs/{org}. */
  template: string;
  isPublic: boolean;
  pathParams: string[];
  query: QueryParam[];
  body: Schema | undefined;
}

interface OpenApiOperation {
  parameters?: { in: string; name: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}

export async function readOperations(t: TestApp): Promise<Operation[]> {
  const res = await t.request("GET", "/api/v1/openapi.json");
  assert.equal(res.status, 200);
  const paths = res.json.paths as Record<string, Record<string, OpenApiOperation>>;
  const out: Operation[] = [];
  for (const [template, methods] of Object.entries(paths)) {
    for (const [lower, op] of Object.entries(methods)) {
      const method = lower.toUpperCase();
      const url = template.replace(/\{(\w+)\}/g, ":$1");
      const route = t.app.routes.find((r) => r.method === method && r.url === url);
      assert.ok(route, `${method} ${template} is in the OpenAPI document but not in the route table`);
      const parameters = op.parameters ?? [];
      out.push({
        key: `${method} ${template}`,
        method,
        template,
        isPublic: route.permission === "public",
        pathParams: parameters.filter((p) => p.in === "path").map((p) => p.name),
        query: parameters
          .filter((p) => p.in === "query")
          .map((p) => ({ name: p.name, schema: p.schema, required: p.required === true })),
        body: op.requestBody?.content["application/json"]?.schema,
      });
    }
  }
  return out;
}
