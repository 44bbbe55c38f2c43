// A whole generated request to one operation, as a Plan: the request itself, and the reasons it
// must be refused (`junk`) or may succeed while changing nothing (`harmless`). `requestFor` picks
// which parts are junk (mostly one, so that the rest is good enough to reach the layer that must
// refuse it), draws each part from paths.ts, queries.ts, bodies.ts and callers.ts, and puts them
// together. `show` writes a Plan in a line or two, for failure messages and fast-check's reports.
import fc from "fast-check";
import { bodyPiece, type Payload } from "./bodies.js";
import { callerFor, crossSiteHeaders, headerNoise, ipArb, sameSiteHeaders } from "./callers.js";
import type { Operation } from "./operations.js";
import { pathPiece } from "./paths.js";
import { type Piece, piece } from "./pieces.js";
import { junkQuery, plausibleQuery, strayQuery } from "./queries.js";
import type { World } from "./world.js";

export interface Plan {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload: string | Buffer | undefined;
  ip: string;
  caller: string;
  /** The parts that must make the server refuse. */
  junk: string[];
  /** The parts that are valid yet change nothing. */
  harmless: string[];
}

export function show(plan: Plan): string {
  const payload =
    plan.payload === undefined
      ? ""
      : ` body(${plan.headers["content-type"]}): ${(Buffer.isBuffer(plan.payload) ? plan.payload.toString("latin1") : plan.payload).slice(0, 200)}`;
  return (
    `${plan.method} ${plan.url.slice(0, 300)} as ${plan.caller}${payload}\n` +
    `  junk: ${plan.junk.join("; ") || "none"}${plan.harmless.length ? `\n  harmless: ${plan.harmless.join("; ")}` : ""}`
  );
}

/** Requests to `op` in `w`; `bodyLimitBytes` is the server's, for a body just over it. */
export function requestFor(w: World, op: Operation, bodyLimitBytes: number): fc.Arbitrary<Plan> {
  const slots = [
    ...(op.isPublic ? [] : ["auth"]),
    ...(op.method === "GET" ? [] : ["csrf", "body"]),
    ...op.pathParams.map((p) => `path:${p}`),
    ...op.query.map((q) => `query:${q.name}`),
  ];
  // Mostly one junk part, so that the rest of the request is good enough to reach the layer that
  // must refuse it; sometimes several. The session and CSRF checks are the door; the path, query
  // and body reach further in, so they are chosen twice as often.
  const weighted = slots.flatMap((slot) => (slot === "auth" || slot === "csrf" ? [slot] : [slot, slot]));
  const junkSlots = fc.oneof(
    { arbitrary: fc.constantFrom(...weighted).map((slot) => [slot]), weight: 3 },
    { arbitrary: fc.subarray(slots, { minLength: 1 }), weight: 1 },
  );
  return junkSlots.chain((chosen) => {
    const crossSite = chosen.includes("csrf");
    return callerFor(w, op, chosen.includes("auth"), crossSite).chain((caller) =>
      fc
        .record({
          path: fc.tuple(
            ...op.pathParams.map((p) => pathPiece(w, op, p, chosen.includes(`path:${p}`), caller)),
          ),
          query: fc.tuple(
            ...op.query.map((q) =>
              chosen.includes(`query:${q.name}`) ? junkQuery(w, q) : plausibleQuery(w, q),
            ),
          ),
          stray: strayQuery,
          body:
            op.method === "GET"
              ? fc.constant(piece<Payload>({}))
              : bodyPiece(op, chosen.includes("body"), { world: w, op, caller }, bodyLimitBytes),
          site: crossSite
            ? crossSiteHeaders.map(([headers, what]) => piece(headers, [`cross-site: ${what} (rule 13)`]))
            : sameSiteHeaders.map((headers) => piece(headers)),
          noise: headerNoise,
          ip: ipArb,
        })
        .map((parts): Plan => {
          let path = op.template;
          op.pathParams.forEach((name, i) => {
            path = path.replace(`{${name}}`, parts.path[i]?.value ?? "");
          });
          const query = op.query.flatMap((q, i) =>
            (parts.query[i]?.value ?? []).map((v) => `${q.name}=${v}`),
          );
          if (parts.stray) query.push(parts.stray);
          const { payload, contentType } = parts.body.value;
          const pieces: Piece<unknown>[] = [...parts.path, ...parts.query, parts.body, parts.site];
          const plan: Plan = {
            op: op.key,
            method: op.method,
            url: query.length ? `${path}?${query.join("&")}` : path,
            headers: {
              ...parts.noise,
              ...parts.site.value,
              ...caller.headers,
              ...(contentType !== undefined ? { "content-type": contentType } : {}),
            },
            payload,
            ip: parts.ip,
            caller: caller.label,
            junk: [...caller.junk, ...pieces.flatMap((p) => p.junk)],
            harmless: pieces.flatMap((p) => p.harmless),
          };
          if (plan.junk.length === 0 && plan.harmless.length === 0) {
            throw new Error(`the generator made a request with nothing wrong in it:\n${show(plan)}`);
          }
          return Object.assign(plan, { [fc.toStringMethod]: () => show(plan) });
        }),
    );
  });
}
