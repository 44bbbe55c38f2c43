// Who sends a request, and from where. A good caller is the owner (mostly: their junk gets past the
// permission check) or the member, with a live session by cookie or bearer token; a junk caller has
// no session, a token that names no live session (logged out, altered, cut, another tenant's id, a
// huge one), or a malformed Authorization header. Also the headers around it: those of a browser on
// another site (junk under rule 13, CSRF) or on ours, and header noise every request carries.
import fc from "fast-check";
import { PUBLIC_URL } from "../../helpers/app.js";
import type { Operation } from "./operations.js";
import { madeUpToken } from "./pieces.js";
import type { Person, World } from "./world.js";

export interface Caller {
  label: string;
  headers: Record<string, string>;
  /** The fixture person whose live session this is. */
  person: Person | undefined;
  junk: string[];
}

const COOKIE = "rollcall_session";

function flip(token: string): string {
  const last = token.at(-1) === "A" ? "B" : "A";
  return `${token.slice(0, -1)}${last}`;
}

/** Tokens that name no live session. */
function garbageTokens(w: World, secret: string): [string, string][] {
  return [
    [w.revokedToken, "a logged-out session's token"],
    [`${w.owner.sessionId}.${secret}`, "the owner's session id with another secret"],
    [flip(w.owner.token), "the owner's token with its last character changed"],
    [w.owner.token.slice(0, -1), "the owner's token cut short"],
    [w.owner.sessionId, "the owner's session id alone"],
    [`${w.owner.sessionId}.`, "the owner's session id and an empty secret"],
    [`ses_${"0".repeat(26)}.${secret}`, "a well-formed token of no session"],
    [`${w.other.sessionId}.${secret}`, "another tenant's session id with a made-up secret"],
    ["x", "a word"],
    [".", "a dot"],
    ["' OR '1'='1", "SQL"],
    ["A".repeat(8000), "a huge token"],
    ["\u00ff\u00fe.\u00e9", "Latin-1 bytes"],
  ];
}

function garbageCaller(w: World, crossSite: boolean): fc.Arbitrary<Caller> {
  const token = fc.tuple(madeUpToken, fc.nat()).map(([secret, i]) => {
    const all = garbageTokens(w, secret);
    return all[i % all.length] as [string, string];
  });
  const transports: fc.Arbitrary<Caller>[] = [
    token.map(([tok, what]) => ({
      label: `cookie: ${what}`,
      headers: { cookie: `${COOKIE}=${tok}` },
      person: undefined,
      junk: [`session: ${what}`],
    })),
    fc
      .constantFrom(
        "Basic dXNlcjpwYXNz",
        "Bearer",
        `Token ${w.owner.token}`,
        // Starts like a bearer token, so the CSRF check lets it by: not for a cross-site request.
        ...(crossSite ? [] : ["Bearer  "]),
      )
      .map((header) => ({
        label: `authorization: ${header.slice(0, 20)}`,
        headers: { authorization: header },
        person: undefined,
        junk: ["session: a malformed Authorization header"],
      })),
  ];
  if (!crossSite) {
    // A bearer token is not exposed to CSRF: the check skips it, so it cannot carry that junk.
    transports.push(
      token.map(([tok, what]) => ({
        label: `bearer: ${what}`,
        headers: { authorization: `Bearer ${tok}` },
        person: undefined,
        junk: [`session: ${what}`],
      })),
      token.map(([tok, what]) => ({
        label: `bearer: ${what}, beside the owner's cookie`,
        headers: { authorization: `Bearer ${tok}`, cookie: `${COOKIE}=${w.owner.token}` },
        person: undefined,
        junk: [`session: ${what} (the bearer token wins over the cookie)`],
      })),
    );
  }
  return fc.oneof(...transports);
}

function liveCaller(w: World, crossSite: boolean): fc.Arbitrary<Caller> {
  // Mostly the owner, who may do everything: their junk gets past the permission check.
  const someone = fc.oneof(
    { arbitrary: fc.constant<"owner" | "member">("owner"), weight: 3 },
    { arbitrary: fc.constant<"owner" | "member">("member"), weight: 1 },
  );
  return fc.tuple(someone, fc.boolean()).map(([who, cookie]): Caller => {
    const person = w[who];
    const viaCookie = cookie || crossSite;
    return {
      label: `${who} via ${viaCookie ? "cookie" : "bearer"}`,
      headers: viaCookie
        ? { cookie: `${COOKIE}=${person.token}` }
        : { authorization: `Bearer ${person.token}` },
      person,
      junk: [],
    };
  });
}

const nobody = fc.constant<Caller>({
  label: "nobody",
  headers: {},
  person: undefined,
  junk: ["session: none"],
});

export function callerFor(
  w: World,
  op: Operation,
  authIsJunk: boolean,
  crossSite: boolean,
): fc.Arbitrary<Caller> {
  if (authIsJunk) return fc.oneof(nobody, garbageCaller(w, crossSite));
  if (!op.isPublic) return liveCaller(w, crossSite);
  // A public operation reads no session: any caller is noise.
  const noise = (c: Caller): Caller => ({ ...c, junk: [] });
  return fc.oneof(liveCaller(w, crossSite), nobody.map(noise), garbageCaller(w, crossSite).map(noise));
}

/** Headers a browser on another site sends (rule 13). */
export const crossSiteHeaders = fc.constantFrom<[Record<string, string>, string]>(
  [{ "sec-fetch-site": "cross-site" }, "Sec-Fetch-Site: cross-site"],
  [{ origin: "https://evil.example" }, "Origin: https://evil.example"],
  [{ origin: "null" }, "Origin: null"],
  [{ origin: `${PUBLIC_URL}.evil.example` }, "an Origin that only begins like ours"],
  [{ origin: "not a url" }, "an Origin that is no URL"],
  [{ "sec-fetch-site": "cross-site", origin: PUBLIC_URL }, "Sec-Fetch-Site: cross-site with our Origin"],
);
export const sameSiteHeaders = fc.constantFrom<Record<string, string>>(
  {},
  { origin: PUBLIC_URL },
  { "sec-fetch-site": "same-origin" },
  { "sec-fetch-site": "none" },
);

export const headerNoise = fc.record(
  {
    "user-agent": fc.constantFrom("' OR 1=1 --", "x".repeat(3000), "\u00e9\u00ff", "Mozilla/5.0"),
    "accept-language": fc.constantFrom("*", "xx-ZZ;q=2", "'; DROP TABLE"),
    "x-forwarded-for": fc.constantFrom("127.0.0.1", "' OR 1=1", "::1, 10.0.0.1"),
    accept: fc.constantFrom("application/xml", "*/*", "text/html"),
    "x-http-method-override": fc.constantFrom("DELETE", "PUT"),
  },
  { requiredKeys: [] },
);

export const ipArb = fc
  .tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }))
  .map(([a, b, c]) => `10.${a}.${b}.${c}`);
