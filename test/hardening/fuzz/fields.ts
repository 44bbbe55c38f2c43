// The values of a JSON body's fields, driven by the operation's schema. `plausible` gives a
// valid-looking value (some fields can only be junk: no real token or password is ever generated);
// `junkValue` gives one the schema refuses (the wrong type, deep nesting, a NUL or a lone
// surrogate, too long, empty, blank, out of range, too many items, a bad nested field) or that the
// operation must refuse although the schema takes it (`semanticJunk`: not a time zone, another
// tenant's workspace, a common password).
import fc from "fast-check";
import type { Caller } from "./callers.js";
import type { Operation, Schema } from "./operations.js";
import {
  deepArray,
  hostileText,
  madeUpToken,
  merged,
  type Piece,
  piece,
  strongPassword,
  textWithin,
  unknownAddress,
} from "./pieces.js";
import type { World } from "./world.js";

/** What a field's generator needs to know: the world's ids, the operation, and who calls it. */
export interface Ctx {
  world: World;
  op: Operation;
  caller: Caller;
}

/** A valid-looking value for a body field; some fields can only be junk (no real token is ever generated). */
function plausible(schema: Schema, field: string, ctx: Ctx): fc.Arbitrary<Piece<unknown>> {
  const { op, world: w } = ctx;
  switch (field) {
    case "timezone":
      return fc.constantFrom("UTC", "Europe/Paris", "America/Sao_Paulo").map((v) => piece(v));
    case "language":
      return fc.constantFrom("en", "pt-BR", "fr").map((v) => piece(v));
    case "workspaceId":
      return fc.constant(piece(w.workspaceId));
    case "userId":
      return fc.constant(piece(w.member.userId));
    case "permission":
      return fc.constantFrom("flows.read", "workspace.users", "tickets.respond").map((v) => piece(v));
    case "token":
    case "invitationToken":
      return fc
        .oneof(
          madeUpToken,
          // Real secrets and ids of other kinds: a session token is no invitation or reset token.
          fc.constantFrom(w.owner.token, w.revokedToken, w.invitationId, w.other.invitationId),
        )
        .map((v) => piece(v, [`${field}: no generated token is a real one of its kind`]));
    case "currentPassword":
      return strongPassword.map((v) => piece(v, [`${field}: not the account's password`]));
    case "password":
    case "newPassword":
      if (op.key === "POST /api/v1/auth/login") {
        return strongPassword.map((v) => piece(v, [`${field}: no account has a generated password`]));
      }
      return strongPassword.map((v) => piece(v));
  }
  if (schema.enum) return fc.constantFrom(...schema.enum).map((v) => piece(v));
  switch (schema.type) {
    case "string":
      return schema.format === "email"
        ? unknownAddress.map((v) => piece(v))
        : textWithin(schema).map((v) => piece(v));
    case "integer":
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 }).map((v) => piece(v));
    case "array": {
      const items = schema.items ?? {};
      return fc.array(plausible(items, field, ctx), { maxLength: 2 }).map((list) =>
        merged(
          list.map((p) => p.value),
          list,
        ),
      );
    }
    case "object":
      return plausibleObject(schema, ctx);
    default:
      return hostileText.map((v) => piece(v));
  }
}

export function plausibleObject(schema: Schema, ctx: Ctx): fc.Arbitrary<Piece<Record<string, unknown>>> {
  const fields = Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const value = plausible(s, name, ctx).map((p) => [name, p] as const);
    return schema.required?.includes(name) ? value : fc.option(value, { nil: undefined });
  });
  return fc.tuple(...fields).map((list) => {
    const present = list.filter((e) => e !== undefined);
    return merged(
      Object.fromEntries(present.map(([name, p]) => [name, p.value])),
      present.map(([, p]) => p),
    );
  });
}

/** Schema-valid values that the operation must still refuse, by field. */
function semanticJunk(field: string, ctx: Ctx): fc.Arbitrary<Piece<unknown>> | undefined {
  const w = ctx.world;
  const refused = (values: unknown[], why: string) =>
    fc.constantFrom(...values).map((v) => piece(v, [`${field}: ${why}`]));
  switch (field) {
    case "timezone":
      return refused(
        [
          "../../etc/passwd",
          "+02:00",
          "Mars/Olympus",
          "' OR 1=1 --",
          "UTC; DROP TABLE workspaces",
          "Europe/../etc",
        ],
        "not an IANA time zone",
      );
    case "language":
      return refused(
        ["' OR 1=1 --", "../../etc/passwd", "en_US", "not a tag!", "x-"],
        "not a BCP 47 language tag",
      );
    case "password":
    case "newPassword":
      if (ctx.op.key === "POST /api/v1/auth/login") return undefined;
      return refused(
        ["short", "password", "12345678", "qwertyuiop", "x".repeat(257)],
        "too short, too long or too common",
      );
    case "workspaceId":
      return refused(
        [
          w.other.workspaceId,
          w.orgId,
          w.invitationId,
          w.member.userId,
          "wsp_x",
          "'; DROP TABLE workspaces; --",
        ],
        "another tenant's workspace (rule 3), an id of another kind, or no id",
      );
    case "permission":
      return refused(
        ["flows.*", "admin", "'; DROP TABLE users; --", "../../", "FLOWS.READ"],
        "not a permission",
      );
    case "workspaces":
      return refused(
        [[w.workspaceId, w.workspaceId].map((workspaceId) => ({ workspaceId, role: "viewer" }))],
        "the same workspace twice",
      );
    case "userId":
      return fc
        .constantFrom(w.other.userId, w.orgId, w.owner.sessionId, "usr_x")
        .map((id) =>
          piece(id, [], ["userId: another tenant's user or no user: allowed false, as documented"]),
        );
    default:
      return undefined;
  }
}

/** Values of the wrong JSON type, by type. */
const VALUES: Record<string, unknown[]> = {
  string: ["x", "", "' OR 1=1 --"],
  integer: [0, -1, 7, 2 ** 53],
  number: [1.5, -0.5, 1e308],
  boolean: [true, false],
  null: [null],
  array: [[], [1, "a"], [{}]],
  object: [{}, { $gt: "" }, { a: { b: { c: {} } } }],
};

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** A value the schema refuses, with why. */
export function junkValue(schema: Schema, field: string, ctx: Ctx): fc.Arbitrary<Piece<unknown>> {
  const wrong = Object.values(VALUES)
    .flat()
    .filter((v) => {
      if (schema.enum) return !schema.enum.includes(v);
      const type = jsonType(v);
      return !(type === schema.type || (schema.type === "number" && type === "integer"));
    });
  const bad = (arb: fc.Arbitrary<unknown>, why: string) => arb.map((v) => piece(v, [`${field}: ${why}`]));
  const options: fc.Arbitrary<Piece<unknown>>[] = [
    bad(fc.constantFrom(...wrong), "the wrong type"),
    bad(
      // Deeper nesting is sent as raw text (rawJunk in bodies.ts): JSON.stringify would run out of stack.
      fc.integer({ min: 2, max: 1000 }).map((depth) => deepArray(depth)),
      "deeply nested arrays",
    ),
  ];
  if (schema.enum) {
    options.push(
      bad(fc.constantFrom("OWNER", "owner ", "superadmin", "' OR 1=1 --", "*"), "not one of its values"),
    );
  }
  if (schema.type === "string") {
    const text = textWithin({ ...schema, maxLength: Math.max(1, (schema.maxLength ?? 200) - 2) });
    options.push(
      bad(
        fc
          .tuple(text, fc.constantFrom("\u0000", "\ud800", "\udc00", "\udbff\u0041"))
          .map(([s, odd]) => `${s}${odd}`),
        "not valid text (a NUL or a lone surrogate)",
      ),
    );
    if (schema.maxLength !== undefined) {
      const max = schema.maxLength;
      options.push(
        bad(
          fc.integer({ min: max + 1, max: max + 30_000 }).map((n) => "s".repeat(n)),
          `longer than ${max} characters`,
        ),
      );
    }
    if ((schema.minLength ?? 0) > 0) options.push(bad(fc.constant(""), "empty"));
    if (schema.pattern === "\\S") options.push(bad(fc.constantFrom(" ", "\t\n", "\u00a0 \u3000"), "blank"));
    if (schema.format === "email") {
      options.push(
        bad(
          fc.constantFrom(
            "no-at-sign",
            "a@b",
            "a b@example.org",
            "<a@example.org>",
            "a@example.org, b@example.org",
            "@",
            "a@.org",
          ),
          "not an e-mail address",
        ),
      );
    }
  }
  if (schema.type === "integer") {
    const min = schema.minimum ?? 0;
    const max = schema.maximum ?? 1000;
    options.push(
      bad(fc.integer({ min: -1e15, max: min - 1 }), `below ${min}`),
      bad(fc.integer({ min: max + 1, max: 1e15 }), `above ${max}`),
      bad(fc.constantFrom(1.5, "5", 1e308, -1e308), "not a whole number, or absurdly large"),
    );
  }
  if (schema.type === "array" && schema.items) {
    const items = schema.items;
    options.push(junkValue(items, `${field}[0]`, ctx).map((p) => piece([p.value], p.junk, p.harmless)));
    if (schema.maxItems !== undefined) {
      const many = schema.maxItems + 1;
      options.push(
        plausible(items, field, ctx).map((p) =>
          piece(
            Array.from({ length: many }, () => p.value),
            [`${field}: more than ${schema.maxItems} items`],
          ),
        ),
      );
    }
  }
  if (schema.type === "object" && schema.properties) {
    for (const [name, s] of Object.entries(schema.properties)) {
      options.push(
        plausibleObject(schema, ctx).chain((obj) =>
          junkValue(s, `${field}.${name}`, ctx).map((p) =>
            merged({ ...obj.value, [name]: p.value }, [obj, p]),
          ),
        ),
      );
    }
  }
  const semantic = semanticJunk(field.replace(/^.*[.\]]/, ""), ctx);
  if (semantic) options.push(semantic);
  return fc.oneof(...options);
}
