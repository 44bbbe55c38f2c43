// A request's body as sent: bytes or text with a content type. A good body is a plausible object of
// the operation's schema, sent as JSON in one of its accepted spellings, with stray properties no
// schema names (to be dropped). A junk body has the wrong shape (not an object, a field of the
// wrong value, a required field missing; see fields.ts) or is refused before any field is read
// (`rawJunk`: not JSON, not UTF-8, a prototype-polluting key, deep nesting, a content type the API
// does not take, over the size limit, a number beyond a double).
import fc from "fast-check";
import { type Ctx, junkValue, plausibleObject } from "./fields.js";
import type { Operation, Schema } from "./operations.js";
import { deepArray, merged, type Piece, piece } from "./pieces.js";
import type { World } from "./world.js";

/** A body as sent: bytes or text, with its content type. */
export interface Payload {
  payload?: string | Buffer;
  contentType?: string;
}

const json = (value: unknown, contentType = "application/json"): Payload => ({
  payload: JSON.stringify(value),
  contentType,
});

const MALFORMED_JSON = [
  "{",
  "}",
  '{"a":',
  "[1,]",
  "{'a':1}",
  '{"a":1,}',
  "NaN",
  "undefined",
  '{"a":1}{"b":2}',
  '{"a" 1}',
  '"\\x41"',
  '"\\u12"',
  '{"a":"\\ud800',
  "//comment\n{}",
  '{"a":01}',
  "tru",
  "-",
  "\u0000",
];

/** Bytes that are not UTF-8: overlong forms, encoded surrogates, stray continuation bytes, cut sequences, beyond U+10FFFF. */
const NOT_UTF8 = [
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xff],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xe2, 0x82],
  [0xf4, 0x90, 0x80, 0x80],
];

const UNSUPPORTED_TYPES = [
  "application/xml",
  "text/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "text/html",
  "image/png",
  "application/merge-patch+json",
  "application/jsonx",
  "application/json, text/plain",
  "application/*",
  "*/*",
  "json",
  "application/",
  ";",
  "",
];

/** A raw body that must be refused before any field is read. */
function rawJunk(
  op: Operation,
  base: fc.Arbitrary<Piece<Record<string, unknown>>>,
  bodyLimitBytes: number,
): fc.Arbitrary<Piece<Payload>> {
  const declared = Object.keys(op.body?.properties ?? {});
  const asJson = (payload: string | Buffer, why: string, from: Piece<unknown>) =>
    piece<Payload>({ payload, contentType: "application/json" }, [...from.junk, why], from.harmless);
  const options: fc.Arbitrary<Piece<Payload>>[] = [
    base.chain((b) => {
      const text = JSON.stringify(b.value);
      return fc
        .oneof(
          fc.constantFrom(...MALFORMED_JSON),
          fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n)),
        )
        .map((payload) => asJson(payload, "body: not JSON", b));
    }),
    base.chain((b) =>
      fc.constantFrom(...NOT_UTF8).map((bytes) => {
        const field = declared.find((f) => typeof b.value[f] === "string") ?? "note";
        const [head, tail] = JSON.stringify({ ...b.value, [field]: "@@" }).split('"@@"');
        const payload = Buffer.concat([
          Buffer.from(`${head}"a`),
          Buffer.from(bytes),
          Buffer.from(`b"${tail}`),
        ]);
        return asJson(payload, "body: not UTF-8", b);
      }),
    ),
    base.chain((b) =>
      fc
        .constantFrom('"__proto__":{"admin":true}', '"constructor":{"prototype":{"admin":true}}')
        .map((key) => {
          const rest = JSON.stringify(b.value).slice(1);
          return asJson(`{${key}${rest === "}" ? "" : ","}${rest}`, "body: a prototype-polluting key", b);
        }),
    ),
    fc.integer({ min: 10, max: 15_000 }).map((depth) =>
      piece<Payload>(
        {
          payload: `{"a":${"[".repeat(depth)}{"__proto__":1}${"]".repeat(depth)}}`,
          contentType: "application/json",
        },
        ["body: a prototype key under deep nesting"],
      ),
    ),
    fc
      .tuple(base, fc.constantFrom(...UNSUPPORTED_TYPES))
      .map(([b, type]) =>
        piece<Payload>({ payload: JSON.stringify(b.value), contentType: type }, [
          ...b.junk,
          `body: sent as ${type}`,
        ]),
      ),
    base.map((b) =>
      asJson(
        JSON.stringify({ ...b.value, padding: "p".repeat(bodyLimitBytes) }),
        "body: over the size limit",
        b,
      ),
    ),
  ];
  if (op.body && declared.length > 0) {
    options.push(
      base.map((b) =>
        piece<Payload>({ payload: JSON.stringify(b.value), contentType: "text/plain" }, [
          ...b.junk,
          "body: sent as text",
        ]),
      ),
      fc
        .tuple(base, fc.constantFrom(...declared), fc.integer({ min: 100, max: 15_000 }))
        .map(([b, field, depth]) => {
          const rest = JSON.stringify({ ...b.value, [field]: undefined }).slice(1);
          const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
          return asJson(
            `{"${field}":${nested}${rest === "}" ? "" : ","}${rest}`,
            `${field}: deeply nested arrays`,
            b,
          );
        }),
      fc
        .tuple(base, fc.constantFrom(...declared), fc.constantFrom("1e999", "-1e999"))
        .map(([b, field, number]) => {
          const rest = JSON.stringify({ ...b.value, [field]: undefined }).slice(1);
          return asJson(
            `{"${field}":${number}${rest === "}" ? "" : ","}${rest}`,
            `${field}: a number beyond a double`,
            b,
          );
        }),
    );
  }
  return fc.oneof(...options);
}

/** The body for `op`: junk when `isJunk`; `bodyLimitBytes` is the server's, for a body just over it. */
export function bodyPiece(
  op: Operation,
  isJunk: boolean,
  ctx: Ctx,
  bodyLimitBytes: number,
): fc.Arbitrary<Piece<Payload>> {
  if (!op.body) {
    const base = fc.constant(piece<Record<string, unknown>>({ note: "x" }));
    if (isJunk) return rawJunk(op, base, bodyLimitBytes);
    // No body is declared: whatever comes is ignored.
    return fc
      .constantFrom<Payload>(
        {},
        json({}),
        { payload: "hello", contentType: "text/plain" },
        json({ a: deepArray(500) }),
      )
      .map((p) => piece(p));
  }
  const base = plausibleObject(op.body, ctx);
  if (!isJunk) {
    return fc
      .tuple(
        base,
        fc.constantFrom("application/json", "application/json; charset=utf-8", "Application/JSON"),
        strayFields(ctx.world, op.body),
      )
      .map(([b, type, stray]) => piece(json({ ...stray, ...b.value }, type), b.junk, b.harmless));
  }
  const body = op.body;
  const required = body.required ?? [];
  const shaped: fc.Arbitrary<Piece<Payload>>[] = [
    fc
      .constantFrom<unknown>(null, [], "x", 0, true, [{}], deepArray(300))
      .map((v) => piece(json(v), ["body: not an object"])),
    ...Object.entries(body.properties ?? {}).map(([name, s]) =>
      base.chain((b) =>
        junkValue(s, name, ctx).map((p) => merged(json({ ...b.value, [name]: p.value }), [b, p])),
      ),
    ),
  ];
  if (required.length > 0) {
    shaped.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([b, name]) => {
        const { [name]: _, ...rest } = b.value;
        return merged(json(rest), [b, piece(null, [`${name}: missing`])]);
      }),
    );
  }
  return fc.oneof(fc.oneof(...shaped), rawJunk(op, base, bodyLimitBytes));
}

/** Properties no schema names: dropped, whatever they say (an organisation id among them). */
function strayFields(w: World, schema: Schema): fc.Arbitrary<Record<string, unknown>> {
  const declared = new Set(Object.keys(schema.properties ?? {}));
  return fc
    .subarray<[string, unknown]>([
      ["orgId", w.other.orgId],
      ["org_id", w.other.orgId],
      ["organizationId", w.other.orgId],
      ["userId", w.other.userId],
      ["id", "usr_x"],
      ["isAdmin", true],
      ["role", "owner"],
      ["status", "accepted"],
      ["uses", -1],
    ])
    .map((entries) => Object.fromEntries(entries.filter(([name]) => !declared.has(name))));
}
