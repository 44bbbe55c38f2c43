// The ids in a request's path. A good one is the world's valid id of the parameter's kind, as the
// caller would use it; a junk one is another tenant's id (rule 3), a real id of another kind, a
// real id slightly changed, another person's session, or no id at all (SQL, traversal, bad escapes,
// lone surrogates, lengths past the router's). Path values are returned already URL-encoded.
import fc from "fast-check";
import type { Caller } from "./callers.js";
import type { Operation } from "./operations.js";
import { enc, type Piece, piece } from "./pieces.js";
import type { Person, World } from "./world.js";

type IdKind = "org" | "ws" | "user" | "session" | "invitation";

/** The valid id for each path parameter, as `caller` would use it. */
function validId(w: World, kind: IdKind, caller: Person | undefined): string {
  switch (kind) {
    case "org":
      return w.orgId;
    case "ws":
      return w.workspaceId;
    case "user":
      return w.member.userId;
    case "session":
      return (caller ?? w.owner).spareSessionId;
    case "invitation":
      return w.invitationId;
  }
}

function idKind(op: Operation, param: string): IdKind {
  if (param === "org" || param === "ws" || param === "user") return param;
  return op.template.startsWith("/api/v1/me/sessions") ? "session" : "invitation";
}

function otherTenantId(w: World, kind: IdKind): string {
  const { other } = w;
  return {
    org: other.orgId,
    ws: other.workspaceId,
    user: other.userId,
    session: other.sessionId,
    invitation: other.invitationId,
  }[kind];
}

/** Real ids of other kinds than `kind` (never a user id for `user`, never a session id for `session`). */
function wrongKindIds(w: World, kind: IdKind): string[] {
  const byKind: Record<IdKind, string[]> = {
    org: [w.orgId, w.other.orgId],
    ws: [w.workspaceId, w.other.workspaceId],
    user: [w.owner.userId, w.member.userId, w.other.userId],
    session: [w.owner.sessionId, w.member.sessionId, w.other.sessionId],
    invitation: [w.invitationId, w.other.invitationId],
  };
  return (Object.keys(byKind) as IdKind[]).filter((k) => k !== kind).flatMap((k) => byKind[k]);
}

/** Path segments that are no id at all, already URL-encoded. (No "." or ".." segments: the URL parser of inject() would resolve them to another route.) */
const MALFORMED_IDS: [string, string][] = [
  ["x", "a short word"],
  ["%00", "a NUL byte"],
  ["..%2F..%2Fetc%2Fpasswd", "path traversal"],
  ["%2F", "an encoded slash"],
  [enc("'; DROP TABLE users; --"), "SQL"],
  [enc("' OR '1'='1"), "SQL"],
  [enc("org_%"), "a LIKE pattern"],
  ["-1", "a negative number"],
  ["0", "zero"],
  ["null", "null"],
  [enc("é\u0301"), "combining marks"],
  [enc("👩‍💻"), "an emoji"],
  ["%ED%A0%80", "an encoded lone surrogate"],
  ["%C0%AF", "an overlong UTF-8 encoding"],
  ["%", "a bare percent sign"],
  ["%zz", "a bad escape"],
  ["%E0%A4%A", "a truncated escape"],
  ["x".repeat(150), "longer than any id"],
  ["z".repeat(250), "longer than the router takes"],
  [enc("{}"), "braces"],
  ["*", "a wildcard"],
  [enc("a\u202eb"), "a right-to-left override"],
];

export function pathPiece(
  w: World,
  op: Operation,
  param: string,
  isJunk: boolean,
  caller: Caller,
): fc.Arbitrary<Piece<string>> {
  const kind = idKind(op, param);
  const valid = validId(w, kind, caller.person);
  if (!isJunk) return fc.constant(piece(enc(valid)));
  const options: fc.Arbitrary<Piece<string>>[] = [
    fc.constant(piece(enc(otherTenantId(w, kind)), [`${param}: another tenant's id (rule 3)`])),
    fc
      .constantFrom(...wrongKindIds(w, kind))
      .map((id) => piece(enc(id), [`${param}: an id of the wrong kind`])),
    fc.constantFrom(...MALFORMED_IDS).map(([raw, what]) => piece(raw, [`${param}: ${what}`])),
    fc
      .constantFrom<[(id: string) => string, string]>(
        [(id) => `${enc(id)}x`, "one character too many"],
        [(id) => enc(id.slice(0, -1)), "one character short"],
        [(id) => enc(id.toUpperCase()), "upper case"],
        [(id) => `${enc(id)}%20`, "a trailing space"],
        [(id) => `%20${enc(id)}`, "a leading space"],
        [(id) => `${enc(id)}%00`, "a trailing NUL"],
        [(id) => `${enc(id)}%2F..`, "a trailing /.."],
      )
      .map(([change, what]) => piece(change(valid), [`${param}: a real id with ${what}`])),
  ];
  if (kind === "session" && caller.person) {
    // Another person's sessions: not the caller's to end.
    const others = [w.owner, w.member].filter((p) => p !== caller.person);
    const ids = others.flatMap((p) => [p.sessionId, p.spareSessionId]);
    options.push(fc.constantFrom(...ids).map((id) => piece(enc(id), [`${param}: another person's session`])));
  }
  return fc.oneof(...options);
}
