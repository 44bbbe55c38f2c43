// The query string of a request. A parameter is given a plausible value (or left out when it may
// be), or, when it is the junk part, a value its schema refuses: given twice, missing, not a whole
// number or out of range, not one of its values, not a cursor this server gives, not matching its
// pattern, too long, empty, a NUL. Parameters no operation declares are added as noise, to be
// ignored. Values are returned already URL-encoded.
import fc from "fast-check";
import type { QueryParam } from "./operations.js";
import { enc, madeUpToken, type Piece, piece, textWithin } from "./pieces.js";
import type { World } from "./world.js";

// Query values, already URL-encoded; undefined leaves the parameter out, two values repeat it.
type QueryValue = string[] | undefined;

/** Base64url of a key the cursor decoders refuse (a character outside [\w.:-], or too long). */
const badCursorKeys = ["a b", "'; DROP TABLE", "../../etc/passwd", "x".repeat(151), "\u0000", "ä"];
/** Cursors of a shape the decoders accept, pointing anywhere: a read-only list may answer them. */
const oddCursorKeys = [
  "99999999999999999999:x",
  "9999999999999999999:zzz",
  "0:a",
  "2026-13-45T25:61:61.999999Z.evt_x",
  "zzzz",
];
const b64 = (key: string) => Buffer.from(key, "utf8").toString("base64url");

export function plausibleQuery(w: World, param: QueryParam): fc.Arbitrary<Piece<QueryValue>> {
  const { name, schema } = param;
  let value: fc.Arbitrary<Piece<string>>;
  if (name === "token") {
    value = madeUpToken.map((tok) => piece(tok, ["token: no generated token is a real one"]));
  } else if (name === "cursor") {
    return fc.constant(piece(undefined));
  } else if (name === "action") {
    value = fc.constantFrom("member.added", "member.*", "workspace.", "user.signed_up").map((a) => piece(a));
  } else if (name === "actor") {
    value = fc.constantFrom(w.owner.userId, w.other.userId, "usr_x").map((a) => piece(enc(a)));
  } else if (schema.enum) {
    value = fc.constantFrom(...(schema.enum as string[])).map((v) => piece(v));
  } else if (schema.type === "integer") {
    value = fc
      .integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 })
      .map((n) => piece(String(n)));
  } else {
    value = textWithin(schema).map((s) => piece(enc(s)));
  }
  const present = value.map((p) => piece<QueryValue>([p.value], p.junk, p.harmless));
  return param.required ? present : fc.oneof(present, fc.constant(piece<QueryValue>(undefined)));
}

export function junkQuery(w: World, param: QueryParam): fc.Arbitrary<Piece<QueryValue>> {
  const { name, schema } = param;
  const bad = (values: string[], why: string) =>
    fc.constantFrom(...values).map((v) => piece<QueryValue>([v], [`${name}: ${why}`]));
  // Two values where one is expected (the parser makes an array of them). A cursor has no
  // plausible value of its own: two of any shape will do.
  const one =
    name === "cursor"
      ? fc.constantFrom(...oddCursorKeys).map((k) => piece<QueryValue>([b64(k)]))
      : plausibleQuery(w, { ...param, required: true });
  const options: fc.Arbitrary<Piece<QueryValue>>[] = [
    fc
      .tuple(one, one)
      .map(([first, second]) =>
        piece<QueryValue>([...(first.value ?? []), ...(second.value ?? [])], [`${name}: given twice`]),
      ),
  ];
  if (param.required && schema.default === undefined) {
    options.push(fc.constant(piece<QueryValue>(undefined, [`${name}: missing`])));
  }
  if (schema.type === "integer") {
    const min = schema.minimum ?? 0;
    const max = schema.maximum ?? 1000;
    options.push(
      bad(
        [
          "abc",
          "1.5",
          "-0.5",
          "",
          "1e999",
          "NaN",
          "Infinity",
          "-Infinity",
          "9".repeat(400),
          "%00",
          "1_000",
          "true",
        ],
        "not a whole number",
      ),
      fc
        .integer({ min: -1e12, max: min - 1 })
        .map((n) => piece<QueryValue>([String(n)], [`${name}: below ${min}`])),
      fc
        .integer({ min: max + 1, max: 1e12 })
        .map((n) => piece<QueryValue>([String(n)], [`${name}: above ${max}`])),
    );
  }
  if (schema.enum) {
    const allowed = new Set(schema.enum.map(String));
    options.push(
      bad(
        ["x", "OWNER", "owner%20", "%27%20OR%201%3D1", "%00", "pending,accepted", "*", "all"].filter(
          (v) => !allowed.has(decodeURIComponent(v)),
        ),
        "not one of the values it takes",
      ),
    );
  }
  if (name === "cursor") {
    options.push(
      bad(["", "!!!!", "====", ...badCursorKeys.map(b64)], "not a cursor this server gives"),
      fc
        .constantFrom(...oddCursorKeys)
        .map((k) =>
          piece<QueryValue>(
            [b64(k)],
            [],
            ["cursor: a cursor of a valid shape pointing anywhere in a read-only list"],
          ),
        ),
    );
  }
  if (schema.pattern) {
    options.push(
      bad(
        ["Member.Added", "member..x", "*", "member.added%3B", "%27%20OR%201%3D1%20--", "%00", "member.%25"],
        "does not match its pattern",
      ),
    );
  }
  if (schema.maxLength !== undefined) {
    const max = schema.maxLength;
    options.push(
      fc
        .integer({ min: max + 1, max: max + 4000 })
        .map((n) => piece<QueryValue>(["q".repeat(n)], [`${name}: longer than ${max} characters`])),
    );
  }
  if ((schema.minLength ?? 0) > 0) options.push(bad([""], "empty"));
  if (schema.type === "string" && !schema.enum) options.push(bad(["a%00b", "%00"], "a NUL byte"));
  return fc.oneof(...options);
}

/** Query parameters no operation declares: they must be ignored, whatever they are. */
export const strayQuery = fc.constantFrom(
  "",
  "__proto__=x",
  "constructor%5Bprototype%5D=x",
  "limit%5B%5D=1",
  "%00=1",
  "=",
  "&&",
  "a=%ZZ",
  "q=%C0%AF",
);
